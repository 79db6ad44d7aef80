"""The reference solution: the shop service instrumented with the standard library only (README.md is the spec).

Metrics are kept in one registry shared by the service's threads and written in the OpenMetrics text format by
hand; spans are queued and exported as OTLP/JSON by one exporter thread, which SIGTERM drains before the exit.
"""

import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOST = "127.0.0.1"
USER_PATH = re.compile(r"/users/([0-9]{1,12})")
DOWNSTREAM_TIMEOUT_S = 5.0
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
SPAN_KIND_SERVER, SPAN_KIND_CLIENT = 2, 3
STATUS_CODE_ERROR = 2


# --- metrics -----------------------------------------------------------------------------------------------


class Metrics:
    """The service's one set of counters and histograms; every thread records into it under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = {}
        self._durations: dict[tuple[str, str], Histogram] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (method, route, str(status))
            self._requests[key] = self._requests.get(key, 0) + 1
            self._durations.setdefault((method, route), Histogram()).observe(seconds)

    def exposition(self) -> str:
        name = "http_server_request_duration_seconds"
        with self._lock:
            lines = [
                "# TYPE http_server_requests counter",
                "# HELP http_server_requests Requests answered, by method, route and status.",
            ]
            for (method, route, status), count in sorted(self._requests.items()):
                lines.append(f"http_server_requests_total{labels(method=method, route=route, status=status)} {count}")
            lines += [
                f"# TYPE {name} histogram",
                f"# UNIT {name} seconds",
                f"# HELP {name} Time from reading a request to writing its response.",
            ]
            for (method, route), histogram in sorted(self._durations.items()):
                for bound, count in zip(BUCKETS, histogram.buckets, strict=True):
                    lines.append(f"{name}_bucket{labels(method=method, route=route, le=repr(bound))} {count}")
                lines.append(f"{name}_bucket{labels(method=method, route=route, le='+Inf')} {histogram.count}")
                lines.append(f"{name}_count{labels(method=method, route=route)} {histogram.count}")
                lines.append(f"{name}_sum{labels(method=method, route=route)} {histogram.total!r}")
        return "\n".join([*lines, "# EOF", ""])


@dataclass
class Histogram:
    """Cumulative bucket counts (one per bound of BUCKETS), the number of observations and their sum."""

    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    count: int = 0
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        for index, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.buckets[index] += 1
        self.count += 1
        self.total += seconds


def labels(**values: str) -> str:
    escaped = (f'{name}="{escape(value)}"' for name, value in values.items())
    return "{" + ",".join(escaped) + "}"


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# --- traces ------------------------------------------------------------------------------------------------


@dataclass
class Span:
    trace_id: str
    name: str
    kind: int
    parent_id: str = ""
    span_id: str = field(default_factory=lambda: nonzero_hex(8))
    start_ns: int = field(default_factory=time.time_ns)
    end_ns: int = 0
    attributes: dict[str, str | int] = field(default_factory=dict)
    error: bool = False

    def otlp(self) -> dict[str, object]:
        return {
            "traceId": self.trace_id,
            "spanId": self.span_id,
            "parentSpanId": self.parent_id,
            "name": self.name,
            "kind": self.kind,
            "startTimeUnixNano": str(self.start_ns),
            "endTimeUnixNano": str(self.end_ns),
            "attributes": [{"key": key, "value": any_value(value)} for key, value in self.attributes.items()],
            "status": {"code": STATUS_CODE_ERROR} if self.error else {},
        }


def any_value(value: str | int) -> dict[str, str]:
    return {"intValue": str(value)} if isinstance(value, int) else {"stringValue": value}


def nonzero_hex(size: int) -> str:
    while True:
        value = secrets.token_hex(size)
        if value.strip("0"):
            return value


class Exporter:
    """Sends finished spans to the collector as OTLP/JSON, at most ``delay`` seconds after they end."""

    def __init__(self, endpoint: str, service_name: str, delay: float) -> None:
        self.url = endpoint.rstrip("/") + "/v1/traces"
        self.service_name = service_name
        self.delay = delay
        self._queue: list[Span] = []
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="span-exporter", daemon=True)
        self._thread.start()

    def add(self, span: Span) -> None:
        with self._wake:
            self._queue.append(span)

    def shutdown(self) -> None:
        """Exports everything still queued, then stops the exporter thread."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout=4.0)

    def _run(self) -> None:
        while True:
            with self._wake:
                if not self._stopping:
                    self._wake.wait(self.delay)
                batch, self._queue = self._queue, []
                stopping = self._stopping
            if batch:
                self._send(batch)
            if stopping:
                return

    def _send(self, batch: list[Span]) -> None:
        body = {
            "resourceSpans": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": any_value(self.service_name)}]},
                    "scopeSpans": [{"scope": {"name": "shop"}, "spans": [span.otlp() for span in batch]}],
                }
            ]
        }
        request = urllib.request.Request(
            self.url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=2.0) as response:
                response.read()
        except OSError as error:
            print(f"span export failed: {error}", file=sys.stderr)


def continued_context(header: str | None) -> tuple[str, str]:
    """(trace id, parent id) of a valid incoming traceparent, or a new trace id and no parent."""
    found = TRACEPARENT.fullmatch(header or "")
    if found and found[1].strip("0") and found[2].strip("0"):
        return found[1], found[2]
    return nonzero_hex(16), ""


# --- logs --------------------------------------------------------------------------------------------------

_stdout_lock = threading.Lock()


def log(level: str, msg: str, **fields: object) -> None:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    line = json.dumps({"time": now, "level": level, "msg": msg, **fields})
    with _stdout_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def level_of(status: int) -> str:
    return "error" if status >= 500 else "warn" if status >= 400 else "info"


# --- the service -------------------------------------------------------------------------------------------

METRICS = Metrics()
EXPORTER = Exporter(
    os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
    os.environ.get("OTEL_SERVICE_NAME", "shop"),
    int(os.environ.get("OTEL_BSP_SCHEDULE_DELAY", "5000")) / 1000,
)


def route_of(method: str, path: str) -> str:
    """The route template of a request: a small, fixed set of values."""
    if method == "GET" and USER_PATH.fullmatch(path):
        return "/users/{id}"
    if method == "POST" and path == "/checkout":
        return "/checkout"
    return "unmatched"


def valid_order(body: bytes) -> dict[str, object] | None:
    """The item and quantity of a checkout body, or None when the body is not a valid order."""
    try:
        order = json.loads(body)
    except ValueError:
        return None
    if not isinstance(order, dict):
        return None
    item, quantity = order.get("item"), order.get("quantity")
    if not isinstance(item, str) or not 1 <= len(item) <= 64:
        return None
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 100:
        return None
    return {"item": item, "quantity": quantity}


def charge(order: dict[str, object], server_span: Span) -> tuple[int, dict[str, object]]:
    """Calls the downstream payment service in a client span; returns the status and body of our own answer."""
    url = os.environ["DOWNSTREAM_URL"] + "/charge"
    target = urlsplit(url)
    span = Span(server_span.trace_id, "POST", SPAN_KIND_CLIENT, parent_id=server_span.span_id)
    span.attributes.update(
        {
            "http.request.method": "POST",
            "url.full": url,
            "server.address": target.hostname or "",
            "server.port": target.port or 80,
        }
    )
    request = urllib.request.Request(
        url,
        data=json.dumps(order).encode(),
        headers={"Content-Type": "application/json", "traceparent": f"00-{span.trace_id}-{span.span_id}-01"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=DOWNSTREAM_TIMEOUT_S) as response:
            span.attributes["http.response.status_code"] = response.status
            answer = json.loads(response.read())
            return 200, {"charge_id": str(answer["charge_id"])}
    except urllib.error.HTTPError as error:
        span.attributes["http.response.status_code"] = error.code
        span.error = error.code >= 500
        return 502, {"error": "downstream failed"}
    except (OSError, ValueError, KeyError, TypeError):
        return 502, {"error": "downstream failed"}
    finally:
        span.end_ns = time.time_ns()
        EXPORTER.add(span)


class ShopHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.serve()

    def do_POST(self) -> None:
        self.serve()

    def do_PUT(self) -> None:
        self.serve()

    def do_DELETE(self) -> None:
        self.serve()

    def serve(self) -> None:
        started = time.perf_counter()
        path = urlsplit(self.path).path
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.command == "GET" and path == "/metrics":
            self.reply(200, METRICS.exposition().encode(), OPENMETRICS)
            return
        given_id = self.headers.get("X-Request-ID") or ""
        request_id = given_id if REQUEST_ID.fullmatch(given_id) else secrets.token_hex(16)
        route = route_of(self.command, path)
        trace_id, parent_id = continued_context(self.headers.get("traceparent"))
        name = self.command if route == "unmatched" else f"{self.command} {route}"
        span = Span(trace_id, name, SPAN_KIND_SERVER, parent_id=parent_id)
        status, answer = self.handle_route(route, path, body, span)
        seconds = time.perf_counter() - started
        span.attributes.update({"http.request.method": self.command, "url.path": path})
        if route != "unmatched":
            span.attributes["http.route"] = route
        span.attributes["http.response.status_code"] = status
        span.error = status >= 500
        span.end_ns = time.time_ns()
        EXPORTER.add(span)
        METRICS.record(self.command, route, status, seconds)
        log(
            level_of(status),
            "request",
            method=self.command,
            route=route,
            path=path,
            status=status,
            duration_seconds=seconds,
            request_id=request_id,
            trace_id=span.trace_id,
            span_id=span.span_id,
        )
        self.reply(status, json.dumps(answer).encode(), "application/json", request_id)

    def handle_route(self, route: str, path: str, body: bytes, span: Span) -> tuple[int, dict[str, object]]:
        if route == "/users/{id}":
            user_id = path.rsplit("/", 1)[1]
            return 200, {"id": user_id, "name": f"user {user_id}"}
        if route == "/checkout":
            order = valid_order(body)
            if order is None:
                return 400, {"error": "a checkout needs an item (1-64 characters) and a quantity (1-100)"}
            return charge(order, span)
        return 404, {"error": "not found"}

    def reply(self, status: int, payload: bytes, content_type: str, request_id: str = "") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        if request_id:
            self.send_header("X-Request-ID", request_id)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """http.server's own access log (free text on stderr, with the query string) is switched off."""


def main() -> None:
    server = ThreadingHTTPServer((HOST, int(os.environ["PORT"])), ShopHandler)
    server.daemon_threads = True
    # serve_forever runs in this thread, so the handler asks another thread to stop it.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    log("info", "listening", port=server.server_address[1])
    server.serve_forever()
    server.server_close()
    EXPORTER.shutdown()
    log("info", "stopped")


if __name__ == "__main__":
    main()
