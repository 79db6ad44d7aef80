"""Judging a sliding-window rate limiter from the outside, where every decision time is known only roughly.

The grader knows when it sent each request and when the answer came back; the limiter decided somewhere in
between. A request must be denied when ``limit`` admitted requests were surely inside its window, and admitted
when fewer than ``limit`` could possibly have been. Anything in between depends on timing the grader cannot see,
so that request is not judged, and a schedule with such requests is run again with a new client.
Requests carry the label of their place in the schedule ("+350 ms #2"), so verdicts never show measured times.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Request:
    label: str
    sent: float
    answered: float
    admitted: bool


@dataclass(frozen=True)
class Verdict:
    """The first request the limiter decided wrongly (``wrong``), or whether every request could be judged."""

    wrong: Request | None
    reason: str
    ambiguous: bool


def judge(requests: list[Request], limit: int, window_s: float) -> Verdict:
    """Requests in the order they were made, one after the other."""
    ambiguous = False
    for index, request in enumerate(requests):
        earlier = [other for other in requests[:index] if other.admitted]
        surely = [other for other in earlier if other.sent > request.answered - window_s]
        possibly = [other for other in earlier if other.answered > request.sent - window_s]
        window_ms = round(window_s * 1000)
        if len(surely) >= limit and request.admitted:
            listed = ", ".join(other.label for other in surely)
            reason = f"{len(surely)} requests were already admitted in the {window_ms} ms before it ({listed})"
            return Verdict(request, reason, False)
        if len(possibly) < limit and not request.admitted:
            listed = ", ".join(other.label for other in possibly)
            inside = f"{len(possibly)} admitted ({listed})" if possibly else "none admitted"
            reason = f"the {window_ms} ms before it held {inside}, below the limit of {limit}"
            return Verdict(request, reason, False)
        if len(surely) < limit <= len(possibly):
            ambiguous = True
    return Verdict(None, "", ambiguous)
