"""The container that holds a sandboxed run's network outlives every signal but SIGKILL, even in its first
milliseconds. A holder that died anyway is named at once as the cause of the harness error, instead of five program
starts the engine refuses with "cannot join network of a non running container", and the lab is graded once more
from the start, with a new network."""

from __future__ import annotations

import io
import os
import shutil
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from rich.console import Console
from test_docker_grading import labelled
from test_sandbox_support import sandbox_unavailable, skip_unless_ready

from labkit.catalog import Limits, load_catalog
from labkit.containers import engine
from labkit.errors import HarnessError
from labkit.grading import GradeOptions, grade_labs
from labkit.results import LabResult
from labkit.run_config import RunChoices, SandboxChoice
from labkit.sandbox import SandboxedProcess, SandboxNetwork, pod_name
from labkit.settings import RUN_ID_PREFIX, reset_settings
from labkit.supervisor import LaunchSpec
from labkit.wait import until
from support import KIT, RUN_PREFIX

pytestmark = pytest.mark.docker

# Every signal a stray kill(2) of a busy host could carry (a stale pid, a process group, a Ctrl-C); SIGKILL and
# SIGSTOP are the kernel's own, which no process can refuse.
STRAY = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2,
         signal.SIGALRM, signal.SIGPIPE)  # fmt: skip
DEATH_WAIT_S = 3.0  # a holder that handled SIGTERM or SIGINT ended within milliseconds


@pytest.fixture
def run_id() -> Iterator[str]:
    skip_unless_ready(sandbox_unavailable(), "--sandbox docker")
    run_id = f"{RUN_PREFIX}holder{uuid.uuid4().hex[:6]}"
    network = SandboxNetwork.open(run_id)
    try:
        yield run_id
    finally:
        network.close()
    assert labelled(run_id) == []


def holder_state(run_id: str) -> dict[str, object]:
    client = engine()
    try:
        return dict(client.api.inspect_container(pod_name(run_id))["State"])
    finally:
        client.close()


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def launch(run_id: str, tmp_path: Path) -> SandboxedProcess:
    (tmp_path / "submission").mkdir()
    spec = LaunchSpec(
        command=(sys.executable, "-c", "import time; time.sleep(30)"), cwd=tmp_path / "submission",
        logs=tmp_path / "logs", marker=f"{run_id}.1", limits=Limits(),
    )  # fmt: skip
    return SandboxedProcess.launch(spec, run_id, tmp_path)


def test_the_holder_outlives_every_stray_signal_sent_from_the_host(run_id: str, tmp_path: Path) -> None:
    pid = int(str(holder_state(run_id)["Pid"]))
    for sig in STRAY:
        os.kill(pid, sig)  # as root on the host, as a stale pid or a process group would be hit
    assert not until(lambda: gone(pid), DEATH_WAIT_S), "a signal other than SIGKILL ended the network's holder"
    program = launch(run_id, tmp_path)  # the network is still there to join
    try:
        assert program.exit_code() is None
    finally:
        program.stop()


def test_a_program_start_after_the_holder_died_names_the_holder_at_once(run_id: str, tmp_path: Path) -> None:
    kill_holder(run_id)
    with pytest.raises(HarnessError) as raised:
        launch(run_id, tmp_path)
    message = raised.value.message
    assert f"the sandbox's network holder {pod_name(run_id)} stopped (killed by SIGKILL, at " in message
    assert "no program of this run can join its network" in message
    assert "failed 5 times" not in message  # not taken for one of the engine's passing refusals


def kill_holder(run_id: str) -> None:
    os.kill(int(str(holder_state(run_id)["Pid"])), signal.SIGKILL)
    assert until(lambda: not holder_state(run_id)["Running"], DEATH_WAIT_S), "the engine never saw the holder die"


def grade_losing_holders(monkeypatch: Any, losses: int) -> tuple[list[str], LabResult]:
    """Grades tcp-kv's first stage in the sandbox, killing the holder of each of the first ``losses`` networks as
    soon as it is opened, before the grader starts: every check of such a run finds the network gone. Returns the
    run ids of the networks opened, and the lab's result."""
    opened: list[str] = []
    open_network = SandboxNetwork.open

    def open_and_lose(run_id: str, choice: SandboxChoice = SandboxChoice.DOCKER) -> SandboxNetwork:
        network = open_network(run_id, choice)
        opened.append(run_id)
        if len(opened) <= losses:
            kill_holder(run_id)
        return network

    monkeypatch.setattr(SandboxNetwork, "open", open_and_lose)
    monkeypatch.setenv(RUN_ID_PREFIX, RUN_PREFIX)
    reset_settings()
    catalog = load_catalog(KIT)
    lab = catalog.get("tcp-kv")
    options = GradeOptions(RunChoices(seed=1, sandbox=SandboxChoice.DOCKER, until=1), show_progress=False)
    run = grade_labs(catalog, [(lab, lab.solution_folder)], options, Console(file=io.StringIO()))
    assert all(labelled(run_id) == [] for run_id in opened)
    return opened, run.labs[0]


def test_a_grading_whose_holder_died_is_graded_again_from_the_start(monkeypatch: Any, capsys: Any) -> None:
    skip_unless_ready(sandbox_unavailable(), "--sandbox docker")
    opened, result = grade_losing_holders(monkeypatch, losses=1)

    assert len(opened) == 2 and opened[0] != opened[1]
    assert (result.error, result.harness_failed) == (None, False)
    assert result.points == result.stages[0].max_points > 0
    notice = capsys.readouterr().err
    assert f"labkit: the sandbox's network holder {pod_name(opened[0])} stopped (killed by SIGKILL, at " in notice
    assert "during the grading of tcp-kv; grading tcp-kv again from the start" in notice


def test_a_second_lost_holder_ends_the_grading_as_a_harness_error(monkeypatch: Any, capsys: Any) -> None:
    skip_unless_ready(sandbox_unavailable(), "--sandbox docker")
    opened, result = grade_losing_holders(monkeypatch, losses=2)

    assert len(opened) == 2, "graded again once, not more"
    assert result.error is not None
    assert result.error.startswith(f"the sandbox's network holder {pod_name(opened[1])} stopped (killed by SIGKILL")
    assert "(logs kept in " in result.error
    assert capsys.readouterr().err.count("again from the start") == 1
    shutil.rmtree(result.error.rsplit("(logs kept in ", 1)[1].rstrip(")"), ignore_errors=True)
