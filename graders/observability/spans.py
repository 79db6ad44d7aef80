"""Finding the spans of the grader's requests among what the collector received, with a deadline."""

from __future__ import annotations

from collections.abc import Callable

from collector import SPAN_KIND_CLIENT, SPAN_KIND_SERVER, Collector, ReceivedSpan
from labkit.checks import fail
from labkit.wait import until

SPAN_WAIT_S = 2.5  # README: 25 times the 100 ms the grader sets, half the 5000 ms default of an SDK ignoring it

Match = Callable[[ReceivedSpan], bool]


def wait_for_span(collector: Collector, mark: int, match: Match, what: str, *, hint: str) -> ReceivedSpan:
    """The first span since ``mark`` that ``match`` accepts; fails the check with what did arrive otherwise."""
    found = until(lambda: next((span for span in collector.since(mark) if match(span)), None), SPAN_WAIT_S)
    if found is None:
        fail(
            f"no {what} reached the collector within {SPAN_WAIT_S:g} s",
            expected=what,
            got=received(collector, mark),
            hint=hint,
        )
    return found


def server_span(collector: Collector, mark: int, path: str, status: int, *, hint: str) -> ReceivedSpan:
    """The server span of the request for ``path`` answered with ``status``, found by its attributes."""

    def match(span: ReceivedSpan) -> bool:
        attributes = span.attributes
        return (
            span.kind == SPAN_KIND_SERVER
            and attributes.get("url.path") == path
            and attributes.get("http.response.status_code") == status
        )

    what = f"SERVER span with url.path={path!r} and http.response.status_code={status}"
    return wait_for_span(collector, mark, match, what, hint=hint)


def in_trace(collector: Collector, mark: int, trace_id: str, kind: int, *, hint: str) -> ReceivedSpan:
    name = {SPAN_KIND_SERVER: "SERVER", SPAN_KIND_CLIENT: "CLIENT"}[kind]
    return wait_for_span(
        collector,
        mark,
        lambda span: span.trace_id == trace_id and span.kind == kind,
        f"{name} span in trace {trace_id}",
        hint=hint,
    )


def received(collector: Collector, mark: int, limit: int = 6) -> str:
    spans = collector.since(mark)
    lines = [span.describe() for span in spans[-limit:]]
    rejected = collector.rejections()
    if rejected:
        lines.append(f"the collector refused: {rejected}")
    if not lines:
        return "no span at all (is OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces where you export?)"
    return f"{len(spans)} spans, the last ones:\n" + "\n".join(lines)
