"""Scraping ``/metrics`` and reading it with prometheus_client's strict OpenMetrics parser."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics import parser

from labkit.checks import fail, log
from shopclient import Shop

OPENMETRICS_TYPE = "application/openmetrics-text"
REQUESTS = "http_server_requests"
DURATION = "http_server_request_duration_seconds"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf"))

Series = tuple[str, frozenset[tuple[str, str]]]  # a sample's name and its labels
Totals = dict[tuple[str, ...], float]  # label values -> a sample's values added up


def delta(before: Totals, after: Totals, key: tuple[str, ...]) -> float:
    return after.get(key, 0.0) - before.get(key, 0.0)


@dataclass(frozen=True)
class Exposition:
    text: str
    families: list[Metric]

    def family(self, name: str) -> Metric | None:
        return next((family for family in self.families if family.name == name), None)

    def series(self) -> set[Series]:
        """Every series of every family (``_created`` samples, a mere timestamp, left out)."""
        return {
            (sample.name, frozenset(sample.labels.items()))
            for family in self.families
            for sample in family.samples
            if not sample.name.endswith("_created")
        }

    def sum_by(self, sample_name: str, labels: tuple[str, ...], where: dict[str, str] | None = None) -> Totals:
        """The values of ``sample_name`` added up per combination of ``labels`` (other labels summed over)."""
        totals: Totals = {}
        for family in self.families:
            for sample in family.samples:
                if sample.name != sample_name or any(sample.labels.get(k) != v for k, v in (where or {}).items()):
                    continue
                key = tuple(sample.labels.get(label, "") for label in labels)
                totals[key] = totals.get(key, 0.0) + sample.value
        return totals


def scrape(shop: Shop) -> Exposition:
    """``GET /metrics``, checked for status, content type and the strict OpenMetrics grammar."""
    reply = shop.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    if reply.status != 200:
        fail(
            f"GET /metrics answered {reply.status}",
            expected="200 with the metrics in the OpenMetrics text format",
            got=reply.body[:300].decode(errors="replace"),
            hint="serve the exposition on GET /metrics (README.md, Metrics)",
        )
    content_type = reply.headers.get("content-type", "")
    if not content_type.startswith(OPENMETRICS_TYPE):
        fail(
            "GET /metrics has the wrong Content-Type",
            expected="application/openmetrics-text; version=1.0.0; charset=utf-8",
            got=content_type or "(no Content-Type)",
            hint="the classic Prometheus text format (text/plain; version=0.0.4) is not what the README asks for",
        )
    text = reply.body.decode("utf-8", errors="replace")
    try:
        families: list[Metric] = list(parser.text_string_to_metric_families(text))  # type: ignore[no-untyped-call]
    except ValueError as error:
        fail(
            "the strict OpenMetrics parser refused /metrics",
            expected="a body the OpenMetrics 1.0 grammar accepts, ending with '# EOF'",
            got=f"{error}\n--- the body's last lines ---\n{_tail(text)}",
            hint="OpenMetrics is stricter than the old text format: # TYPE first, counter samples end in _total, "
            "buckets in increasing order with +Inf, cumulative counts, # EOF last",
        )
    log(f"grader: /metrics has {len(families)} families: {', '.join(f.name for f in families)}")
    return Exposition(text, families)


def shown(series: Iterable[Series], limit: int = 8) -> str:
    lines = sorted(f"{name}{{{','.join(f'{k}={v!r}' for k, v in sorted(labels))}}}" for name, labels in series)
    more = f"\n... and {len(lines) - limit} more" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more


def _tail(text: str, lines: int = 6) -> str:
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])
