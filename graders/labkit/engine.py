"""Runs one lab's grader in its own pytest process, with a grader-owned ini and a scrubbed environment.

The grader learns what to grade from one file, the lab's ``RunConfig`` in the run folder, named by one option
(``--labkit-config``). The learner's folder is only a path in it: never a rootdir, never on sys.path, never
collected, so a conftest.py or pytest.ini placed there has no effect.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labkit.catalog import Lab
from labkit.errors import HarnessError, LabConfigError, SandboxLost
from labkit.results import LabResult, lab_from_dict
from labkit.run_config import RunConfig
from labkit.settings import SANDBOX_CPUS, SANDBOX_POD, cache_folder

if TYPE_CHECKING:
    from labkit.sandbox import SandboxNetwork

INI_PATH = Path(__file__).parent / "pytest-grader.ini"
# The sandbox's pod is labkit's own, set for the grader under --sandbox docker only.
SCRUBBED = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONSAFEPATH",
            SANDBOX_POD)  # fmt: skip
EventHandler = Callable[[dict[str, Any]], None]
SETTLE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class GradeRequest:
    lab: Lab  # the catalog's lab, whose stages run
    config: RunConfig  # what the grader is told: config.lab_id is lab.id


def grader_env(*, cache_bytecode: bool = True) -> dict[str, str]:
    """The grader's environment. Its compiled modules (labkit's, the stages' and their helpers', never a learner's:
    learners run in processes of their own, with bytecode off) are kept in labkit's cache folder, so that a grading
    does not compile them again; with an instructor's hidden checks (``cache_bytecode=False``) nothing is written."""
    env = {name: value for name, value in os.environ.items() if name not in SCRUBBED}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if cache_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode_cache())
    else:
        env.pop("PYTHONPYCACHEPREFIX", None)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def bytecode_cache() -> Path:
    """Where the grader's compiled modules are kept between runs, outside the checkout."""
    return cache_folder() / "pycache"


def grader_tree(request: GradeRequest) -> Path:
    """The folder whose stage modules run: the lab's own, or with --extra-graders a private copy in the run folder
    where the instructor's hidden_<stage>.py modules sit next to the stages, sharing their conftest and helpers."""
    extra_graders = request.config.choices.extra_graders
    if extra_graders is None:
        return request.lab.grader_folder
    extra = extra_graders / request.lab.id
    if not extra.is_dir():
        raise HarnessError(f"--extra-graders {extra_graders} has no folder {request.lab.id}/")
    merged = request.config.run_dir / "graders" / request.lab.id
    shutil.copytree(request.lab.grader_folder, merged, ignore=shutil.ignore_patterns("__pycache__"))
    merged.parent.chmod(0o700)  # hidden checks: only the grader's user may read them, never a sandboxed learner
    known = {stage.hidden_module_name for stage in request.lab.stages}
    for module in extra.glob("*.py"):
        if module.name.startswith("hidden_") and module.name not in known:
            raise HarnessError(f"{module} names no stage of {request.lab.id}; use hidden_<stage slug>.py")
        if (merged / module.name).exists():
            raise HarnessError(f"{module} would replace the lab's own {module.name}; rename it")
        shutil.copy2(module, merged / module.name)
    return merged


def pytest_command(request: GradeRequest, config_path: Path, events_fd: int) -> list[str]:
    """The grader's command line; the progress events' pipe is an option of its own, as it belongs to this one
    process: a kept configuration file can be graded again by hand, where that descriptor means nothing."""
    tree = grader_tree(request)
    stage_files = []
    for stage in request.lab.stages[: request.config.choices.until or None]:
        if not (tree / stage.module_name).is_file():
            raise LabConfigError(
                f"stage {stage.index} '{stage.slug}' of {request.lab.id} has no grader module: expected "
                f"{request.lab.grader_folder / stage.module_name}",
                hint="each [[stages]] entry of lab.toml needs graders/<lab>/stage_<slug>.py (dashes as underscores)",
            )
        stage_files.append(str(tree / stage.module_name))
        if (tree / stage.hidden_module_name).is_file():
            stage_files.append(str(tree / stage.hidden_module_name))
    return [
        sys.executable, "-m", "pytest",
        "-c", str(INI_PATH),
        "--rootdir", str(tree.parent),
        "--confcutdir", str(tree.parent),
        "-p", "labkit.plugin",
        "-p", "no:terminal",
        f"--labkit-config={config_path}",
        f"--labkit-events-fd={events_fd}",
        *stage_files,
    ]  # fmt: skip


def run_grader(request: GradeRequest, on_event: EventHandler | None = None) -> LabResult:
    missing = [path for path in (request.lab.grader_folder,) if not path.is_dir()]
    if missing:
        raise HarnessError(f"grader folder {missing[0]} is missing")
    config = request.config
    config.run_dir.mkdir(parents=True, exist_ok=True)
    config_path = config.write()
    log_path = config.run_dir / f"{request.lab.id}.pytest.log"
    network = _sandbox_network(config)
    lost: str | None = None
    read_fd, write_fd = os.pipe()
    try:
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                pytest_command(request, config_path, write_fd),
                cwd=config.run_dir,
                env=_grader_env(request, network),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                start_new_session=True,  # Ctrl-C reaches labkit only, which then stops the grader in order
                preexec_fn=_grader_preexec(network),
            )
            os.close(write_fd)
            write_fd = -1
            reader = threading.Thread(target=_pump_events, args=(read_fd, on_event), daemon=True)
            reader.start()
            code = _wait_settled(process)
            reader.join(timeout=5)
    finally:
        if write_fd >= 0:
            os.close(write_fd)
        if network is not None:
            try:
                lost = network.lost()
            finally:
                network.close()
    result = _read_results(config.results_path, log_path, code)
    if lost is not None and result.harness_failed:
        raise SandboxLost(f"the sandbox's network holder {lost} during the grading of {request.lab.id}")
    return result


class Terminated(KeyboardInterrupt):
    """SIGTERM reached labkit (``timeout``, a cancelled CI job): it is torn down exactly as Ctrl-C is."""

    EXIT_CODE = 128 + signal.SIGTERM


def stop_on_sigterm() -> None:
    """Turns SIGTERM into ``Terminated``, so the grader is interrupted, waited for and swept as on Ctrl-C, where the
    default action would end labkit at once and leave the grader, its learners and services running."""

    def terminate(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one teardown: a repeated SIGTERM must not cut it short
        raise Terminated

    signal.signal(signal.SIGTERM, terminate)


def interruptible() -> None:
    """``preexec_fn`` of a child that labkit stops with SIGINT (its orderly teardown): a labkit started where
    SIGINT is ignored (a background job of a script, nohup) would pass that on, and the child would run on."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _grader_preexec(network: SandboxNetwork | None) -> Callable[[], None]:
    def preexec() -> None:
        interruptible()
        if network is not None:
            network.enter()

    return preexec


def _grader_env(request: GradeRequest, network: SandboxNetwork | None) -> dict[str, str]:
    env = grader_env(cache_bytecode=request.config.choices.extra_graders is None)
    return env if network is None else {**env, **network.grader_env(), **sandbox_cores_env(request.lab, env)}


def sandbox_cores_env(lab: Lab, env: dict[str, str]) -> dict[str, str]:
    """A lab with a stage that needs N cores (``cores:N``) gets them for its sandboxed program, as many as this
    machine's processes may use, unless LABKIT_SANDBOX_CPUS says otherwise: its default of one core would turn the
    stage into "not run" in the sandbox only, and the sandbox must not change a verdict."""
    if env.get(SANDBOX_CPUS, "").strip():
        return {}
    needed = [int(req.name) for stage in lab.stages for req in stage.requires if req.kind == "cores"]
    if not needed:
        return {}
    return {SANDBOX_CPUS: str(min(max(needed), len(os.sched_getaffinity(0))))}


def _sandbox_network(config: RunConfig) -> SandboxNetwork | None:
    if not config.choices.sandbox.in_container:
        return None
    from labkit.sandbox import SandboxNetwork

    return SandboxNetwork.open(config.run_id, config.choices.sandbox)


def _wait_settled(process: subprocess.Popen[bytes]) -> int:
    """Waits for the grader; on Ctrl-C, interrupts it once and lets its teardown stop learners and services."""
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=SETTLE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        raise


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
