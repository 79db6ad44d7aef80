"""Stage 7: every request is a server span, a checkout's downstream call a client span under it, exported over
OTLP with the service's name."""

import random
import re

from collector import STATUS_CODE_ERROR, ReceivedSpan
from downstream import DROP_PREFIX, status_prefix
from exposition import scrape
from labkit.checks import fail
from labkit.ports import LOOPBACK
from spans import server_span, wait_for_span
from traffic import CHECKOUT, UNMATCHED, Call, checkout, send, unmatched, user

HEX_ID = re.compile("[0-9a-f]+")
HINT = "one SERVER span per request, named '<method> <route>' (just '<method>' for unmatched), with its attributes"


def expected_name(call: Call) -> str:
    return call.method if call.route == UNMATCHED else f"{call.method} {call.route}"


def expected_attributes(call: Call) -> dict[str, object]:
    wanted: dict[str, object] = {
        "http.request.method": call.method,
        "url.path": call.path,
        "http.response.status_code": call.status,
    }
    if call.route != UNMATCHED:
        wanted["http.route"] = call.route
    return wanted


def expect_server_span(span: ReceivedSpan, call: Call, service_name: str) -> None:
    attributes = expected_attributes(call)
    wrong = [
        f"{key}={span.attributes.get(key)!r}" for key, value in attributes.items() if span.attributes.get(key) != value
    ]
    if call.route == UNMATCHED and "http.route" in span.attributes:
        wrong.append(f"http.route={span.attributes['http.route']!r} (absent for unmatched)")
    if span.name != expected_name(call):
        wrong.insert(0, f"name {span.name!r}")
    if span.service_name != service_name:
        wrong.append(f"resource service.name={span.service_name!r}")
    if not (HEX_ID.fullmatch(span.trace_id) and len(span.trace_id) == 32 and span.trace_id.strip("0")):
        wrong.append(f"trace id {span.trace_id!r} (16 bytes, not all zero)")
    if not (HEX_ID.fullmatch(span.span_id) and len(span.span_id) == 16 and span.span_id.strip("0")):
        wrong.append(f"span id {span.span_id!r} (8 bytes, not all zero)")
    if not 0 < span.start_ns <= span.end_ns:
        wrong.append(f"start {span.start_ns} / end {span.end_ns}")
    if wrong:
        fail(
            f"the server span of {call} is not as the README says: {'; '.join(wrong)}",
            expected=f"name {expected_name(call)!r}, service.name {service_name!r}, attributes {attributes}",
            got=span.describe(),
            hint=HINT,
        )


def check_spans_are_exported_within_the_delay(shop, collector, rng: random.Random):
    """A span is exported within OTEL_BSP_SCHEDULE_DELAY of its end, also when it ends just after an export"""
    # The second request is sent as soon as the first one's span has arrived, just after an export: an exporter
    # with a fixed period longer than the grader's wait misses it, whatever its phase was at the first request.
    for call in (user(rng), user(rng)):
        mark = collector.mark()
        send(shop, call)
        server_span(
            collector,
            mark,
            call.path,
            call.status,
            hint="export a finished span within OTEL_BSP_SCHEDULE_DELAY milliseconds (the grader sets 100): read the "
            "variable, since an SDK's default of 5000 ms waits far longer",
        )


def check_server_spans_named_by_route(shop, collector, service_name, rng: random.Random):
    """Each request is a SERVER span named by its route, with its attributes and service.name"""
    calls = [
        user(rng),
        user(rng, query=f"?page={rng.randint(2, 9)}"),
        unmatched(rng),
        checkout(rng, 400),
        checkout(rng),
    ]
    mark = collector.mark()
    for n, call in enumerate(calls):
        send(shop, call)
        if n == 1:
            scrape(shop)  # not traced
    for call in calls:
        span = server_span(collector, mark, call.path, call.status, hint=HINT)
        expect_server_span(span, call, service_name)
    traced_scrapes = [
        span for span in collector.since(mark) if "/metrics" in (span.name, span.attributes.get("url.path"))
    ]
    if traced_scrapes:
        fail(
            "a scrape of /metrics was traced",
            expected="no span for GET /metrics",
            got=traced_scrapes[0].describe(),
            hint="GET /metrics is neither counted, logged nor traced",
        )


def check_only_server_errors_are_marked(shop, collector, rng: random.Random):
    """A 5xx answer's server span has status ERROR; 2xx and 4xx ones do not"""
    calls = [checkout(rng, 502), checkout(rng, 200), checkout(rng, 400), unmatched(rng)]
    mark = collector.mark()
    for call in calls:
        send(shop, call)
    for call in calls:
        span = server_span(collector, mark, call.path, call.status, hint=HINT)
        if (span.status_code == STATUS_CODE_ERROR) != (call.status >= 500):
            fail(
                f"the server span of {call} (answered {call.status}) has status code {span.status_code}",
                expected="STATUS_CODE_ERROR (2)" if call.status >= 500 else "not ERROR (UNSET 0 or OK 1)",
                got=span.describe(),
                hint="mark a span as an error when the response is 5xx; a 4xx is the client's mistake, not an error",
            )


def check_downstream_call_is_a_client_span(shop, collector, downstream, rng: random.Random):
    """A checkout's downstream call is a CLIENT span under its server span, ERROR when the downstream fails"""
    # None: the downstream closes the connection without an answer (502, no status code, ERROR).
    for outcome, downstream_status in ((200, 200), (502, 503), (502, 500), (502, 499), (502, None)):
        prefix = {500: status_prefix(500), 499: status_prefix(499), None: DROP_PREFIX}.get(downstream_status, "")
        call = checkout(rng, outcome, prefix=prefix)
        mark = collector.mark()
        send(shop, call)
        parent = server_span(collector, mark, call.path, call.status, hint=HINT)
        span = wait_for_span(
            collector,
            mark,
            lambda span: span.parent_span_id == parent.span_id,  # noqa: B023 (used before the loop goes on)
            f"span whose parent is the server span {parent.span_id} of {call}",
            hint="wrap the downstream call in a CLIENT span, child of the request's server span",
        )
        wanted: dict[str, object] = {
            "http.request.method": "POST",
            "url.full": f"{downstream.url}/charge",
            "server.address": LOOPBACK,
            "server.port": downstream.port,
            "http.response.status_code": downstream_status,  # None: absent, no answer came
        }
        wrong = [f"{k}={span.attributes.get(k)!r}" for k, v in wanted.items() if span.attributes.get(k) != v]
        if (span.kind, span.name, span.trace_id) != (3, "POST", parent.trace_id):
            wrong.insert(0, f"kind {span.kind}, name {span.name!r}, trace {span.trace_id}")
        failed = downstream_status is None or downstream_status >= 500
        if (span.status_code == STATUS_CODE_ERROR) != failed:
            wrong.append(f"status code {span.status_code}")
        if wrong:
            fail(
                f"the client span of {call} ({CHECKOUT} answered {outcome}) is not as the README says: "
                + "; ".join(wrong),
                expected=f"CLIENT (3) span 'POST' in trace {parent.trace_id}, attributes {wanted}, "
                + ("status ERROR" if failed else "status not ERROR"),
                got=span.describe(),
                hint="README.md, Traces: the client span and its attributes",
            )
