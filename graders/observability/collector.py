"""The grader's trace collector: an OTLP/HTTP receiver on a loopback port (protobuf or JSON, gzip or not), built
on opentelemetry-proto. It keeps every span it receives with its resource's ``service.name``."""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from labkit.ports import LOOPBACK

TRACES_PATH = "/v1/traces"
SPAN_KIND_SERVER, SPAN_KIND_CLIENT = 2, 3
STATUS_CODE_ERROR = 2
KIND_NAMES = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


@dataclass(frozen=True)
class ReceivedSpan:
    service_name: str | None
    trace_id: str  # lowercase hex, as in traceparent and in the logs
    span_id: str
    parent_span_id: str  # "" for a root span
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: dict[str, object]
    status_code: int
    text: str  # everything the span carries, as text: what a leaked secret would show up in

    def describe(self) -> str:
        parent = self.parent_span_id or "none"
        return (
            f"{KIND_NAMES.get(self.kind, self.kind)} span {self.name!r} trace {self.trace_id} span {self.span_id} "
            f"parent {parent} status {self.status_code} attributes {self.attributes}"
        )


class Collector:
    """Receives OTLP exports at ``endpoint`` + ``/v1/traces`` until closed."""

    def __init__(self) -> None:
        self.spans_received: list[ReceivedSpan] = []
        self.rejected: list[str] = []  # why each export that could not be read was refused
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((LOOPBACK, 0), _handler_for(self))
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self.endpoint = f"http://{LOOPBACK}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="otlp-collector", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def spans(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self.spans_received)

    def mark(self) -> int:
        """How many spans arrived so far: ``since(mark)`` gives those that came after."""
        with self._lock:
            return len(self.spans_received)

    def since(self, mark: int) -> list[ReceivedSpan]:
        with self._lock:
            return self.spans_received[mark:]

    def in_trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [span for span in self.spans() if span.trace_id == trace_id]

    def rejections(self) -> str:
        with self._lock:
            return "; ".join(self.rejected[-3:])

    def accept(self, body: bytes, content_type: str, encoding: str) -> str | None:
        """Reads one export; returns why it was refused, or None."""
        try:
            if encoding == "gzip":
                body = gzip.decompress(body)
            request = _parse(body, content_type)
        except (OSError, ValueError, DecodeError, json_format.ParseError) as error:
            reason = f"an export the collector could not read ({content_type or 'no Content-Type'}): {error}"
            with self._lock:
                self.rejected.append(reason)
            return reason
        received = [
            _received(span, _service_name(resource_spans.resource.attributes))
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]
        with self._lock:
            self.spans_received.extend(received)
        return None


def _parse(body: bytes, content_type: str) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    if content_type.startswith("application/json"):
        json_format.ParseDict(_ids_as_base64(json.loads(body)), request, ignore_unknown_fields=True)
    elif content_type.startswith("application/x-protobuf"):
        request.ParseFromString(body)
    else:
        raise ValueError("the Content-Type must be application/x-protobuf or application/json")
    return request


def _ids_as_base64(document: Any) -> Any:
    """OTLP/JSON writes trace and span ids in hex, where protobuf's JSON mapping expects base64."""
    for resource_spans in document.get("resourceSpans", []) if isinstance(document, dict) else []:
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if isinstance(span.get(key), str):
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    return document


def _service_name(attributes: Iterable[KeyValue]) -> str | None:
    for attribute in attributes:
        if attribute.key == "service.name":
            value = _value(attribute.value)
            return value if isinstance(value, str) else str(value)
    return None


def _value(value: AnyValue) -> object:
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which in ("array_value", "kvlist_value", "bytes_value"):
        return json_format.MessageToJson(value, indent=None)
    return getattr(value, which)


def _attributes(attributes: Iterable[KeyValue]) -> dict[str, object]:
    return {attribute.key: _value(attribute.value) for attribute in attributes}


def _received(span: Span, service_name: str | None) -> ReceivedSpan:
    return ReceivedSpan(
        service_name=service_name,
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex(),
        name=span.name,
        kind=span.kind,
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
        attributes=_attributes(span.attributes),
        status_code=span.status.code,
        text=json_format.MessageToJson(span, indent=None),
    )


def _handler_for(collector: Collector) -> type[BaseHTTPRequestHandler]:
    class ExportHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            content_type = self.headers.get("Content-Type") or ""
            if self.path.split("?")[0] != TRACES_PATH:
                with collector._lock:
                    collector.rejected.append(f"an export sent to {self.path}, not to {TRACES_PATH}")
                self._answer(404, b"", "text/plain")
                return
            refused = collector.accept(body, content_type, (self.headers.get("Content-Encoding") or "").lower())
            if refused:
                self._answer(400, refused.encode(), "text/plain")
            elif content_type.startswith("application/json"):
                self._answer(200, b"{}", "application/json")
            else:
                self._answer(200, ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf")

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the grader's report says what matters."""

    return ExportHandler
