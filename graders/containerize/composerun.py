"""The learner's compose.yaml, made runnable on a grading machine, then read back from the engine.

What changes in the copy the grader runs, and why (every rule it touches was checked by stage 2 on the original):
- postgres and redis run the engine's images for them (the kit's stand-ins where no registry answers), and app is
  built with BASE_IMAGE=<the grader's base> and tagged for this run;
- app publishes no port: the grader probes it from inside its container, so concurrent runs never compete for
  8080 and a sandboxed grader (no host loopback) reaches it the same way;
- every container, volume, network and image carries the run's labels, so that the run's sweep removes them;
- the top-level ``name`` and any ``container_name`` go: the project is named by the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

RUN_FILE = "labkit-compose.yaml"


def runnable_copy(
    compose: dict[str, Any], into: Path, *, images: dict[str, str], app_tag: str, base: str, labels: dict[str, str]
) -> Path:
    """Writes the grader's version of ``compose`` (as read from the learner's file) to ``into``; ``images`` maps
    service names to the images they run instead of theirs."""
    copy = dict(compose)
    copy.pop("name", None)
    services = {name: dict(service or {}) for name, service in (copy.get("services") or {}).items()}
    for name, service in services.items():
        service.pop("container_name", None)
        service["labels"] = {**_as_map(service.get("labels")), **labels}
        if name in images:
            service["image"] = images[name]
    app = services["app"]
    app["image"] = app_tag
    app["build"] = _build_with(app.get("build"), base, labels)
    app.pop("ports", None)
    copy["services"] = services
    copy["volumes"] = _labelled(copy.get("volumes"), labels)
    copy["networks"] = _labelled({"default": None, **(copy.get("networks") or {})}, labels)
    path = into / RUN_FILE
    path.write_text(yaml.safe_dump(copy, sort_keys=False), encoding="utf-8")
    return path


def _build_with(build: Any, base: str, labels: dict[str, str]) -> dict[str, Any]:
    spec = {"context": build} if isinstance(build, str) else dict(build or {"context": "."})
    spec["args"] = {**_as_map(spec.get("args")), "BASE_IMAGE": base}
    spec["labels"] = {**_as_map(spec.get("labels")), **labels}
    return spec


def _labelled(declared: Any, labels: dict[str, str]) -> dict[str, Any]:
    """Named volumes or networks, each with the run's labels (external ones are the learner's own: left alone)."""
    result: dict[str, Any] = {}
    for name, spec in (declared or {}).items():
        entry = dict(spec or {})
        if not entry.get("external"):
            entry["labels"] = {**_as_map(entry.get("labels")), **labels}
        result[name] = entry
    return result


def _as_map(value: Any) -> dict[str, str]:
    """Compose's two forms of a string map: ``{K: v}`` and ``["K=v"]``."""
    if isinstance(value, dict):
        return {str(key): "" if item is None else str(item) for key, item in value.items()}
    if isinstance(value, list):
        return dict((str(item).partition("=")[0], str(item).partition("=")[2]) for item in value)
    return {}
