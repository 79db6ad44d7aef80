"""Stage 9: SIGTERM flushes the spans still waiting for export, then the service exits 0."""

import random
import signal

from collector import SPAN_KIND_CLIENT, SPAN_KIND_SERVER
from labkit.checks import fail
from labkit.wait import until
from shopclient import Shop
from telemetry_env import telemetry_env
from traffic import checkout, new_trace, send, unmatched, user

HOLD_MS = 30_000  # spans wait far longer than the check: only a flush at shutdown can deliver them
EXIT_WITHIN_S = 5.0
SLACK_S = 3.0  # for a loaded machine
LATE_SPAN_S = 2.0  # a span sent during shutdown may be read by the collector a moment after the exit


def check_spans_flushed_on_sigterm(start_learner, collector, downstream, service_name, rng: random.Random):
    """With a 30 s export delay, SIGTERM after three requests: exit 0 within 5 s, every span exported"""
    program = start_learner(env=telemetry_env(collector, downstream, service_name, schedule_delay_ms=HOLD_MS))
    shop = Shop(program.port or 0)
    expected: dict[str, list[int]] = {}
    for call in (user(rng), unmatched(rng), checkout(rng)):
        trace_id, _, header = new_trace(rng)
        send(shop, call.with_headers(traceparent=header))
        expected[trace_id] = [SPAN_KIND_SERVER] + ([SPAN_KIND_CLIENT] if call.route == "/checkout" else [])
    program.send_signal(signal.SIGTERM)
    code = program.wait_exit(EXIT_WITHIN_S + SLACK_S)
    if code != 0:
        fail(
            "after SIGTERM your service "
            + ("was still running" if code is None else f"exited with status {code}")
            + f" {EXIT_WITHIN_S + SLACK_S:g} s later" * (code is None),
            expected=f"exit status 0 within {EXIT_WITHIN_S:g} s",
            got="still running" if code is None else f"status {code}",
            hint="handle SIGTERM: stop serving, flush the spans, exit 0",
        )

    def missing() -> list[str]:
        kinds = {trace: sorted(span.kind for span in collector.in_trace(trace)) for trace in expected}
        return [
            f"trace {trace}: {len(want) - len(kinds[trace])} span(s) lost"
            for trace, want in expected.items()
            if kinds[trace] != sorted(want)
        ]

    if until(lambda: not missing(), LATE_SPAN_S) is None:
        fail(
            "spans were lost at shutdown",
            expected="every span of the requests answered before SIGTERM (3 server spans and 1 client span)",
            got="\n".join(missing()),
            hint="on SIGTERM, flush the export queue before exiting (TracerProvider.shutdown() with an SDK)",
        )
