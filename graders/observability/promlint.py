"""The naming rules of ``promtool check metrics`` (client_golang's promlint), over the parsed families, with
promlint's own messages so that a learner can look a finding up."""

from __future__ import annotations

import re
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric

SNAKE_NAME = re.compile(r"[a-z_:][a-z0-9_:]*")
SNAKE_LABEL = re.compile(r"[a-z_][a-z0-9_]*")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
BASE_UNITS = {
    "milliseconds": "seconds",
    "microseconds": "seconds",
    "nanoseconds": "seconds",
    "minutes": "seconds",
    "hours": "seconds",
    "days": "seconds",
    "kilobytes": "bytes",
    "megabytes": "bytes",
    "gigabytes": "bytes",
    "kilometers": "meters",
    "millimeters": "meters",
}
ABBREVIATIONS = frozenset({"s", "ms", "us", "ns", "sec", "secs", "min", "h", "hr", "d", "b", "kb", "mb", "gb"})
RESERVED_LABELS = frozenset({"le", "quantile"})  # the exposition format's own labels


@dataclass(frozen=True)
class Finding:
    family: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.family}: [{self.rule}] {self.message}"


def lint(families: list[Metric]) -> list[Finding]:
    return [finding for family in families for finding in _lint_family(family)]


def _lint_family(family: Metric) -> list[Finding]:
    name = family.name
    found: list[Finding] = []
    if not family.documentation.strip():
        found.append(Finding(name, "help", "no help text"))
    if not SNAKE_NAME.fullmatch(name):
        found.append(Finding(name, "camelCase", "metric names should be written in 'snake_case' not 'camelCase'"))
    labels = {label for sample in family.samples for label in sample.labels} - RESERVED_LABELS
    if any(not SNAKE_LABEL.fullmatch(label) for label in labels):
        bad = ", ".join(sorted(label for label in labels if not SNAKE_LABEL.fullmatch(label)))
        found.append(
            Finding(name, "camelCase", f"label names should be written in 'snake_case' not 'camelCase' ({bad})")
        )
    parts = name.lower().split("_")
    found += [
        Finding(name, "type-in-name", f"metric name should not include type '{kind}'")
        for kind in TYPES
        if kind in parts
    ]
    found += [
        Finding(name, "base-unit", f'use base unit "{BASE_UNITS[part]}" instead of "{part}"')
        for part in parts
        if part in BASE_UNITS
    ]
    if any(part in ABBREVIATIONS for part in parts):
        found.append(Finding(name, "abbreviated-unit", "metric names should not contain abbreviated units"))
    if family.type != "counter" and name.endswith("_total"):
        found.append(Finding(name, "total-suffix", 'non-counter metrics should not have "_total" suffix'))
    return found
