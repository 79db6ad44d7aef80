"""Probe run in a fresh interpreter of the learner's: which modules does importing a layer load?

Standard library only, and none of it a module the layering rules watch, so whatever such module is loaded
came from the learner's package."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any


def load_layer(package: str) -> dict[str, Any]:
    """Imports ``package`` and every module under it; returns the modules that were not loaded before."""
    before = set(sys.modules)
    failed: dict[str, str] = {}
    try:
        root = importlib.import_module(package)
    except Exception as error:
        return {"loaded": [], "failed": {package: f"{type(error).__name__}: {error}"}}
    for module in pkgutil.walk_packages(getattr(root, "__path__", []), prefix=f"{package}."):
        try:
            importlib.import_module(module.name)
        except Exception as error:
            failed[module.name] = f"{type(error).__name__}: {error}"
    return {"loaded": sorted(set(sys.modules) - before), "failed": failed}
