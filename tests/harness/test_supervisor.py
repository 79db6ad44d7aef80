"""The supervisor against real misbehaving programs: each gets a clear verdict and leaves nothing behind."""

from __future__ import annotations

import itertools
import sys
import textwrap
import time
from pathlib import Path

import pytest

from labkit.catalog import Limits
from labkit.errors import CheckFailed
from labkit.ports import free_port
from labkit.supervisor import LaunchSpec, LearnerProcess
from labkit.sweep import marked_processes
from labkit.wait import until
from support import RUN_PREFIX

_numbers = itertools.count()

SERVER = """
import os, socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", {port_expr})); s.listen()
while True:
    c, _ = s.accept(); c.close()
"""


def launch(tmp_path: Path, source: str, limits: Limits | None = None, **env: str) -> LearnerProcess:
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(source))
    spec = LaunchSpec(
        command=(sys.executable, str(script)),
        cwd=tmp_path,
        logs=tmp_path / f"logs{next(_numbers)}",
        marker=f"{RUN_PREFIX}sup{next(_numbers)}",
        limits=limits or Limits(),
        port=free_port(),
        extra_env=env,
    )
    return LearnerProcess.start(spec)


@pytest.fixture
def started(tmp_path: Path):  # type: ignore[no-untyped-def]
    processes: list[LearnerProcess] = []

    def start(source: str, limits: Limits | None = None, **env: str) -> LearnerProcess:
        process = launch(tmp_path, source, limits, **env)
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.stop()
        assert not marked_processes(process.spec.marker), "stop() must leave nothing carrying the marker"


def test_ready_server_is_accepted(started) -> None:  # type: ignore[no-untyped-def]
    process = started(SERVER.format(port_expr='int(os.environ["PORT"])'))
    process.wait_ready_tcp(5)


def test_program_that_exits_early_shows_code_and_stderr(started) -> None:  # type: ignore[no-untyped-def]
    process = started("import sys; print('boom: cannot start', file=sys.stderr); sys.exit(3)")
    with pytest.raises(CheckFailed, match="exited with code 3 before it was ready"):
        process.wait_ready_tcp(5)
    assert "boom: cannot start" in process.stderr_tail()


def test_wrong_port_is_named(started) -> None:  # type: ignore[no-untyped-def]
    process = started(SERVER.format(port_expr='int(os.environ["PORT"]) + 1'))
    with pytest.raises(CheckFailed, match=r"listening on port \d+, but the grader asked for port \d+") as caught:
        process.wait_ready_tcp(1.0)
    assert "PORT environment variable" in (caught.value.hint or "")


def test_program_that_never_listens_times_out_quickly(started) -> None:  # type: ignore[no-untyped-def]
    process = started("import time; time.sleep(60)")
    began = time.monotonic()
    with pytest.raises(CheckFailed, match=r"did not accept connections .* within 0\.5 s"):
        process.wait_ready_tcp(0.5)
    # Gives up at its deadline rather than waiting for the program: far below the program's 60 s on any load.
    assert time.monotonic() - began < 30


def test_output_flood_is_stopped_by_the_cap(started) -> None:  # type: ignore[no-untyped-def]
    process = started("import sys\nwhile True: sys.stdout.write('x' * 65536)", limits=Limits(output_mb=1))
    with pytest.raises(CheckFailed, match="more than 1 MiB of output"):
        process.wait_ready_tcp(10)
    assert process.stdout_path.stat().st_size <= 1024 * 1024


def test_memory_limit_applies(started) -> None:  # type: ignore[no-untyped-def]
    process = started("x = bytearray(512 * 1024 * 1024)", limits=Limits(memory_mb=256))
    with pytest.raises(CheckFailed, match="exited with code 1"):
        process.wait_ready_tcp(10)
    assert "MemoryError" in process.stderr_tail()


def test_environment_is_allow_listed(started, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "s3cret")
    process = started("import os, sys; print(sorted(os.environ), file=sys.stderr)")
    process.wait_exit(5)
    seen = process.stderr_tail()
    assert "GRADER_SECRET_TOKEN" not in seen
    assert "PORT" in seen and "LABKIT_RUN_MARKER" in seen


def test_double_forked_daemon_is_swept(started) -> None:  # type: ignore[no-untyped-def]
    daemon = """
    import os, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            with open("daemon.pid.part", "w") as announced:
                announced.write(str(os.getpid()))
            os.rename("daemon.pid.part", "daemon.pid")
            time.sleep(120)
        os._exit(0)
    os._exit(0)
    """
    process = started(daemon)
    process.wait_exit(5)
    # Wait for the daemon itself: the process between the two forks carries the marker too, for a moment, and a
    # scan that saw only it could be followed by one that sees neither (it exited; the daemon was not yet listed).
    announced = process.spec.cwd / "daemon.pid"
    assert until(announced.exists, 10), "the daemon should have started"
    daemon_pid = int(announced.read_text())
    assert daemon_pid in [found.pid for found in marked_processes(process.spec.marker)], "the daemon carries the marker"
    process.stop()
    assert not marked_processes(process.spec.marker)


def test_missing_command_is_a_clear_failure(tmp_path: Path) -> None:
    spec = LaunchSpec(
        command=("definitely-not-a-program",), cwd=tmp_path, logs=tmp_path / "logs",
        marker=f"{RUN_PREFIX}missing", limits=Limits(), port=free_port(),
    )  # fmt: skip
    with pytest.raises(CheckFailed, match="was not found"):
        LearnerProcess.start(spec)
