"""The observability grader's instruments on inputs whose reading is known: the OTLP collector receives protobuf,
OTLP/JSON (hex ids) and gzip exports over a real loopback socket and refuses what it cannot read; the naming lint
reports promtool's rules on bad names and nothing on prometheus_client's own exposition."""

from __future__ import annotations

import base64
import gzip
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.openmetrics.exposition import generate_latest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from support import KIT

GRADER = KIT / "graders" / "observability"
MODULES = ("collector", "promlint")
TRACE_ID, SPAN_ID, PARENT_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "a1b2c3d4e5f60718"


@pytest.fixture(scope="module")
def lab() -> Iterator[dict[str, ModuleType]]:
    """The lab's helper modules, imported as its stages import them, and forgotten afterwards."""
    sys.path.insert(0, str(GRADER))
    try:
        import collector
        import promlint

        yield {"collector": collector, "promlint": promlint}
    finally:
        sys.path.remove(str(GRADER))
        for name in MODULES:
            sys.modules.pop(name, None)


@pytest.fixture
def receiver(lab: dict[str, ModuleType]) -> Iterator[Any]:
    running = lab["collector"].Collector()
    yield running
    running.close()


def otlp_json() -> dict[str, Any]:
    span = {
        "traceId": TRACE_ID,
        "spanId": SPAN_ID,
        "parentSpanId": PARENT_ID,
        "name": "GET /users/{id}",
        "kind": 2,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000000100000",
        "attributes": [
            {"key": "http.route", "value": {"stringValue": "/users/{id}"}},
            {"key": "http.response.status_code", "value": {"intValue": "200"}},
        ],
        "status": {"code": 2},
    }
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "shop-1"}}]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]}


def post(receiver: Any, body: bytes, content_type: str, encoding: str = "", path: str = "/v1/traces") -> int:
    headers = {"Content-Type": content_type, **({"Content-Encoding": encoding} if encoding else {})}
    request = urllib.request.Request(receiver.endpoint + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def protobuf_body() -> bytes:
    """The same export in binary protobuf (protobuf's JSON mapping wants the ids in base64, not hex)."""
    document = otlp_json()
    span = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    for key in ("traceId", "spanId", "parentSpanId"):
        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    return json_format.ParseDict(document, ExportTraceServiceRequest()).SerializeToString()


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [("application/x-protobuf", ""), ("application/json", ""), ("application/x-protobuf", "gzip")],
)
def test_collector_reads_each_encoding(receiver: Any, content_type: str, encoding: str) -> None:
    body = protobuf_body() if content_type == "application/x-protobuf" else json.dumps(otlp_json()).encode()
    assert post(receiver, gzip.compress(body) if encoding else body, content_type, encoding) == 200
    [span] = receiver.spans()
    assert (span.trace_id, span.span_id, span.parent_span_id) == (TRACE_ID, SPAN_ID, PARENT_ID)
    assert (span.service_name, span.name, span.kind, span.status_code) == ("shop-1", "GET /users/{id}", 2, 2)
    assert span.attributes == {"http.route": "/users/{id}", "http.response.status_code": 200}


def test_collector_refuses_what_it_cannot_read(receiver: Any) -> None:
    assert post(receiver, b"\xff\x00 not protobuf", "application/x-protobuf") == 400
    assert post(receiver, b"{}", "text/plain") == 400
    assert post(receiver, protobuf_body(), "application/x-protobuf", path="/traces") == 404
    assert receiver.spans() == []
    assert "/traces" in receiver.rejections()


def findings(lab: dict[str, ModuleType], text: str) -> list[str]:
    return [str(finding) for finding in lab["promlint"].lint(list(text_string_to_metric_families(text)))]


def test_lint_reports_each_rule_with_promtools_message(lab: dict[str, ModuleType]) -> None:
    text = "\n".join(
        [
            "# TYPE request_latency_milliseconds histogram",
            "# HELP request_latency_milliseconds Latency.",
            'request_latency_milliseconds_bucket{le="+Inf"} 1',
            "request_latency_milliseconds_count 1",
            "request_latency_milliseconds_sum 2",
            "# TYPE job_duration_sec gauge",
            "# HELP job_duration_sec Duration.",
            "job_duration_sec 1",
            "# TYPE jobs_counter counter",
            "# HELP jobs_counter Jobs.",
            'jobs_counter_total{jobKind="a"} 1',
            "# TYPE queueDepth gauge",
            "queueDepth 1",
            "# TYPE items_total gauge",
            "# HELP items_total Items.",
            "items_total 1",
            "# EOF",
            "",
        ]
    )
    assert findings(lab, text) == [
        'request_latency_milliseconds: [base-unit] use base unit "seconds" instead of "milliseconds"',
        "job_duration_sec: [abbreviated-unit] metric names should not contain abbreviated units",
        "jobs_counter: [camelCase] label names should be written in 'snake_case' not 'camelCase' (jobKind)",
        "jobs_counter: [type-in-name] metric name should not include type 'counter'",
        "queueDepth: [help] no help text",
        "queueDepth: [camelCase] metric names should be written in 'snake_case' not 'camelCase'",
        'items_total: [total-suffix] non-counter metrics should not have "_total" suffix',
    ]


def test_lint_finds_nothing_in_well_named_families(lab: dict[str, ModuleType]) -> None:
    registry = CollectorRegistry()
    Counter("http_server_requests", "Requests.", ["method", "route", "status"], registry=registry).labels(
        "GET", "/users/{id}", "200"
    ).inc()
    Histogram("http_server_request_duration_seconds", "Durations.", ["route"], registry=registry).labels("/").observe(1)
    assert findings(lab, generate_latest(registry).decode()) == []
