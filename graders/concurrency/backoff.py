"""The README's backoff rule, as the retries stage judges it from the upstream's own timestamps: each wait runs from
the moment the upstream finished writing a failed answer to the arrival of the next attempt's request."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from upstream import Attempt

MEDIAN_SLACK_S = 0.3  # README: the median wait before retry k is at most B plus this


def ceiling_s(backoff_ms: int, retry: int) -> float:
    """B before retry ``retry`` (1 for the first) in seconds: BACKOFF_MS × 2^(k-1) milliseconds."""
    return backoff_ms / 1000 * 2.0 ** (retry - 1)


def waits(attempts: Sequence[Attempt]) -> list[float]:
    """One job's waits, in seconds, from its attempts in the order they arrived: the wait before retry k is the
    k-th (a wait after an attempt that got no answer, which is never retried, is not one)."""
    return [
        after.arrived - before.answered for before, after in itertools.pairwise(attempts) if before.answered is not None
    ]


def waits_by_retry(jobs_attempts: Sequence[Sequence[Attempt]]) -> dict[int, list[float]]:
    """Every job's wait before retry k, gathered by k."""
    gathered: dict[int, list[float]] = {}
    for attempts in jobs_attempts:
        for retry, wait in enumerate(waits(attempts), start=1):
            gathered.setdefault(retry, []).append(wait)
    return gathered


@dataclass(frozen=True)
class Overshoot:
    retry: int
    median: float
    ceiling: float

    @property
    def excess(self) -> float:
        """Seconds past what the rule allows the median (positive when it is too long)."""
        return self.median - self.ceiling - MEDIAN_SLACK_S


def median_overshoot(by_retry: Mapping[int, Sequence[float]], backoff_ms: int) -> Overshoot | None:
    """The retry whose median wait goes furthest past B plus ``MEDIAN_SLACK_S``, if any does. Uniform draws between
    B/2 and B have a median of 3B/4, so only a backoff that outgrows B (tripling where it should double, or starting
    too high) or a machine that stalled every wait at once goes past it; a lone late wake-up does not move a
    median."""
    overshoots = [
        Overshoot(retry, statistics.median(found), ceiling_s(backoff_ms, retry)) for retry, found in by_retry.items()
    ]
    over = [overshoot for overshoot in overshoots if overshoot.excess > 0]
    return max(over, key=lambda overshoot: overshoot.excess, default=None)
