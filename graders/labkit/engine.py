"""Runs one lab's grader in its own pytest process, with a grader-owned ini and a scrubbed environment.

The learner's folder is passed only as an option: it is never a rootdir, never on sys.path, never collected,
so a conftest.py or pytest.ini placed there has no effect.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.catalog import Lab
from labkit.errors import HarnessError
from labkit.results import LabResult, lab_from_dict

INI_PATH = Path(__file__).parent / "pytest-grader.ini"
SCRUBBED = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONSAFEPATH")
EventHandler = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class GradeRequest:
    lab: Lab
    impl: Path
    kit_root: Path
    run_dir: Path
    run_id: str
    seed: int
    services: str
    until: int = 0


def grader_env() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in SCRUBBED}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def pytest_command(request: GradeRequest, results: Path, events_fd: int) -> list[str]:
    stage_files = [
        str(request.lab.grader_folder / stage.module_name) for stage in request.lab.stages[: request.until or None]
    ]
    return [
        sys.executable, "-m", "pytest",
        "-c", str(INI_PATH),
        "--rootdir", str(request.kit_root / "graders"),
        "--confcutdir", str(request.kit_root / "graders"),
        "-p", "labkit.plugin",
        "-p", "no:terminal",
        f"--labkit-kit-root={request.kit_root}",
        f"--labkit-lab={request.lab.id}",
        f"--labkit-impl={request.impl}",
        f"--labkit-results={results}",
        f"--labkit-run-dir={request.run_dir}",
        f"--labkit-run-id={request.run_id}",
        f"--labkit-seed={request.seed}",
        f"--labkit-services={request.services}",
        f"--labkit-until={request.until}",
        f"--labkit-events-fd={events_fd}",
        *stage_files,
    ]  # fmt: skip


def run_grader(request: GradeRequest, on_event: EventHandler | None = None) -> LabResult:
    missing = [path for path in (request.lab.grader_folder,) if not path.is_dir()]
    if missing:
        raise HarnessError(f"grader folder {missing[0]} is missing")
    request.run_dir.mkdir(parents=True, exist_ok=True)
    results = request.run_dir / f"{request.lab.id}.results.json"
    log_path = request.run_dir / f"{request.lab.id}.pytest.log"
    read_fd, write_fd = os.pipe()
    try:
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                pytest_command(request, results, write_fd),
                cwd=request.run_dir,
                env=grader_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
            )
            os.close(write_fd)
            write_fd = -1
            reader = threading.Thread(target=_pump_events, args=(read_fd, on_event), daemon=True)
            reader.start()
            code = process.wait()
            reader.join(timeout=5)
    finally:
        if write_fd >= 0:
            os.close(write_fd)
    return _read_results(results, log_path, code)


def _pump_events(read_fd: int, on_event: EventHandler | None) -> None:
    with open(read_fd, encoding="utf-8") as stream:
        for line in stream:
            if on_event is not None and line.strip():
                try:
                    on_event(json.loads(line))
                except json.JSONDecodeError:
                    continue


def _read_results(results: Path, log_path: Path, code: int) -> LabResult:
    if not results.is_file():
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise HarnessError(f"the grader stopped without results (pytest exit code {code}):\n{tail}")
    return lab_from_dict(json.loads(results.read_text(encoding="utf-8")))
