"""Stage 8: the W3C trace context is continued from the caller, carried to the downstream and into the logs."""

import random
import re

from collector import SPAN_KIND_CLIENT, SPAN_KIND_SERVER
from labkit.checks import fail
from spans import in_trace, server_span
from traffic import checkout, new_trace, send, unmatched, user

TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
SAMPLED = 0x01
HINT = "extract the incoming traceparent and start the server span as its child (same trace id, parent = its id)"


def check_incoming_traceparent_is_continued(shop, collector, rng: random.Random):
    """With a valid traceparent, the server span has its trace id and its parent id"""
    mark = collector.mark()
    sent = [(call, *new_trace(rng)) for call in (user(rng), unmatched(rng), checkout(rng))]
    for call, _, _, header in sent:
        send(shop, call.with_headers(traceparent=header))
    for call, trace_id, parent_id, header in sent:
        span = server_span(collector, mark, call.path, call.status, hint=HINT)
        if (span.trace_id, span.parent_span_id) != (trace_id, parent_id):
            fail(
                f"{call} with traceparent {header} started another trace",
                expected=f"trace {trace_id}, parent {parent_id}",
                got=span.describe(),
                hint=HINT,
            )


def check_missing_or_malformed_traceparent_starts_a_trace(shop, collector, rng: random.Random):
    """Without a traceparent, or with a malformed one, the server span starts a new trace with no parent"""
    trace_id, parent_id, _ = new_trace(rng)
    malformed = {
        "none": None,
        "an all-zero trace id": f"00-{'0' * 32}-{parent_id}-01",
        "an all-zero parent id": f"00-{trace_id}-{'0' * 16}-01",
        "upper-case hex": f"00-{trace_id.upper()}-{parent_id.upper()}-01",
        "a short trace id": f"00-{trace_id[:31]}-{parent_id}-01",
    }
    mark = collector.mark()
    calls = {label: user(rng) for label in malformed}
    for label, header in malformed.items():
        send(shop, calls[label].with_headers(traceparent=header) if header else calls[label])
    for label, header in malformed.items():
        call = calls[label]
        span = server_span(collector, mark, call.path, call.status, hint=HINT)
        fresh = re.fullmatch("[0-9a-f]{32}", span.trace_id) and span.trace_id.strip("0") and span.trace_id != trace_id
        if not fresh or span.parent_span_id:
            fail(
                f"{call} with traceparent {label} did not start a new trace",
                expected="a fresh, random trace id and no parent span",
                got=f"traceparent sent: {header}\n{span.describe()}",
                hint="an invalid traceparent is ignored, as if absent (README.md, Trace context)",
            )


def check_downstream_call_carries_traceparent(shop, collector, downstream, rng: random.Random):
    """The call to the downstream carries traceparent 00-<the same trace id>-<the client span id>-<sampled flags>"""
    for continued in (True, False):
        call = checkout(rng)
        trace_id, _, header = new_trace(rng)
        mark = collector.mark()
        send(shop, call.with_headers(traceparent=header) if continued else call)
        if not continued:
            trace_id = server_span(collector, mark, call.path, call.status, hint=HINT).trace_id
        client = in_trace(collector, mark, trace_id, SPAN_KIND_CLIENT, hint="wrap the downstream call in a CLIENT span")
        item = (call.body or b"").decode()
        charges = [charge for charge in downstream.charges() if charge.item and f'"{charge.item}"' in item]
        sent = charges[-1].headers.get("traceparent", "") if charges else ""
        found = TRACEPARENT.fullmatch(sent)
        if not found or (found[1], found[2]) != (trace_id, client.span_id) or not int(found[3], 16) & SAMPLED:
            fail(
                f"the downstream call of {call} carried traceparent {sent!r}",
                expected=f"00-{trace_id}-{client.span_id}-01 (the trace, the client span, sampled; or flags 03)",
                got="\n".join(f"{k}: {v}" for k, v in charges[-1].headers.items()) if charges else "no call arrived",
                hint="inject the client span's context into the outgoing request's headers",
            )


def check_log_lines_carry_the_trace_context(shop, collector, stdout, rng: random.Random):
    """A request's log line carries the trace id and span id of its server span"""
    for call in (user(rng), checkout(rng)):
        trace_id, _, header = new_trace(rng)
        rid = f"trace-{rng.getrandbits(32):08x}"
        mark = collector.mark()
        send(shop, call.with_headers(traceparent=header, **{"X-Request-ID": rid}))
        span = in_trace(collector, mark, trace_id, SPAN_KIND_SERVER, hint=HINT)
        line = next((line for line in stdout.requests(1) if line.record.get("request_id") == rid), None)
        logged = (line.record.get("trace_id"), line.record.get("span_id")) if line else None
        if logged != (span.trace_id, span.span_id):
            fail(
                f"the log line of {call} does not carry its server span's ids",
                expected=f"trace_id {span.trace_id}, span_id {span.span_id}",
                got=line.text[:400] if line else f"no request line with request_id {rid}",
                hint="log the ids of the current server span, in lowercase hex",
            )
        stdout.start = stdout.path.stat().st_size
