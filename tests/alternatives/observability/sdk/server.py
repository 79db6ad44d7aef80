"""An alternative correct solution: the shop service instrumented with the field's libraries.

prometheus_client keeps the metrics (in its default registry, beside its process and Python collectors) and
writes the OpenMetrics exposition; the OpenTelemetry SDK makes the spans, reads its configuration from the
OTEL_ variables and exports protobuf over OTLP/HTTP in batches; the W3C propagator carries the trace context;
the standard logging module writes the JSON lines.
"""

import json
import logging
import os
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import urlsplit

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, use_span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST, generate_latest

HOST = "127.0.0.1"
USER_PATH = re.compile(r"/users/([0-9]{1,12})")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
DOWNSTREAM_TIMEOUT_S = 5.0

REQUESTS = Counter(
    "http_server_requests", "Requests answered, by method, route and status.", ["method", "route", "status"]
)
DURATION = Histogram(
    "http_server_request_duration_seconds",
    "Time from reading a request to writing its response.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

PROVIDER = TracerProvider(resource=Resource.create())  # service.name from OTEL_SERVICE_NAME
PROVIDER.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # endpoint and delay from the OTEL_ variables
TRACER = PROVIDER.get_tracer("shop")
PROPAGATOR = TraceContextTextMapPropagator()


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level and msg, then the record's ``fields``."""

    LEVELS: ClassVar[dict[str, str]] = {
        "DEBUG": "debug",
        "INFO": "info",
        "WARNING": "warn",
        "ERROR": "error",
        "CRITICAL": "error",
    }

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        line = {"time": stamp, "level": self.LEVELS[record.levelname], "msg": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        return json.dumps(line)


def make_logger() -> logging.Logger:
    handler = logging.StreamHandler(sys.stdout)  # flushed after every record
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("shop")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


LOG = make_logger()


def route_of(method: str, path: str) -> str:
    if method == "GET" and USER_PATH.fullmatch(path):
        return "/users/{id}"
    if method == "POST" and path == "/checkout":
        return "/checkout"
    return "unmatched"


def valid_order(body: bytes) -> dict[str, object] | None:
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


def charge(order: dict[str, object]) -> tuple[int, dict[str, object]]:
    """The downstream call, in a client span that is the current span's child."""
    url = os.environ["DOWNSTREAM_URL"] + "/charge"
    target = urlsplit(url)
    attributes = {
        "http.request.method": "POST",
        "url.full": url,
        "server.address": target.hostname or "",
        "server.port": target.port or 80,
    }
    with TRACER.start_as_current_span("POST", kind=SpanKind.CLIENT, attributes=attributes) as span:
        headers = {"Content-Type": "application/json"}
        PROPAGATOR.inject(headers)
        request = urllib.request.Request(url, data=json.dumps(order).encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=DOWNSTREAM_TIMEOUT_S) as response:
                span.set_attribute("http.response.status_code", response.status)
                return 200, {"charge_id": str(json.loads(response.read())["charge_id"])}
        except urllib.error.HTTPError as error:
            span.set_attribute("http.response.status_code", error.code)
            if error.code >= 500:
                span.set_status(Status(StatusCode.ERROR))
        except (OSError, ValueError, KeyError, TypeError):
            span.set_status(Status(StatusCode.ERROR))
        return 502, {"error": "downstream failed"}


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
            self.reply(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
            return
        given = self.headers.get("X-Request-ID") or ""
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        route = route_of(self.command, path)
        caller = PROPAGATOR.extract({name.lower(): value for name, value in self.headers.items()})
        name = self.command if route == "unmatched" else f"{self.command} {route}"
        span = TRACER.start_span(name, context=caller, kind=SpanKind.SERVER)
        with use_span(span, end_on_exit=False):
            status, answer = self.handle_route(route, path, body)
        seconds = time.perf_counter() - started
        self.finish_span(span, route, path, status)
        REQUESTS.labels(self.command, route, str(status)).inc()
        DURATION.labels(self.command, route).observe(seconds)
        context = span.get_span_context()
        level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
        fields = {
            "method": self.command,
            "route": route,
            "path": path,
            "status": status,
            "duration_seconds": round(seconds, 6),
            "request_id": request_id,
            "trace_id": f"{context.trace_id:032x}",
            "span_id": f"{context.span_id:016x}",
        }
        LOG.log(level, "request", extra={"fields": fields})
        self.reply(status, json.dumps(answer).encode(), "application/json", request_id)

    def finish_span(self, span: Span, route: str, path: str, status: int) -> None:
        span.set_attribute("http.request.method", self.command)
        span.set_attribute("url.path", path)
        if route != "unmatched":
            span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        span.end()

    def handle_route(self, route: str, path: str, body: bytes) -> tuple[int, dict[str, object]]:
        if route == "/users/{id}":
            user_id = path.rsplit("/", 1)[1]
            return 200, {"id": user_id, "name": f"user {user_id}"}
        if route == "/checkout":
            order = valid_order(body)
            if order is None:
                return 400, {"error": "a checkout needs an item (1-64 characters) and a quantity (1-100)"}
            return charge(order)
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
        """http.server's own access log (free text with the query string) is switched off."""


def main() -> None:
    server = ThreadingHTTPServer((HOST, int(os.environ["PORT"])), ShopHandler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    LOG.info("listening", extra={"fields": {"port": server.server_address[1]}})
    server.serve_forever()
    server.server_close()
    PROVIDER.shutdown()  # exports every span still queued
    LOG.info("stopped")


if __name__ == "__main__":
    main()
