"""Run kind `client`: the learner's program run to completion, with its exit, output, limits and hangs reported."""

from __future__ import annotations

import itertools
import signal
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from labkit.catalog import Limits
from labkit.client import ClientResult, run_client_program
from labkit.errors import CheckFailed
from labkit.supervisor import LaunchSpec
from labkit.sweep import marked_processes
from support import RUN_PREFIX
from throwaway import Stage, ThrowawayKit

_numbers = itertools.count()
PATIENT_S = 30.0

Run = Callable[..., ClientResult]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "s3cret")  # must not reach the program

    def run_source(
        source: str,
        *,
        stdin: bytes | None = None,
        timeout: float = PATIENT_S,
        limits: Limits | None = None,
        stop_when: Callable[[], str | None] | None = None,
        **env: str,
    ) -> ClientResult:
        number = next(_numbers)
        script = tmp_path / f"client{number}.py"
        script.write_text(textwrap.dedent(source))
        spec = LaunchSpec(
            command=(sys.executable, str(script)), cwd=tmp_path, logs=tmp_path / f"logs{number}",
            marker=f"{RUN_PREFIX}client{number}", limits=limits or Limits(), extra_env=env,
        )  # fmt: skip
        result = run_client_program(spec, stdin=stdin, timeout=timeout, stop_when=stop_when)
        assert not marked_processes(spec.marker), "nothing of a client run may outlive it"
        return result

    return run_source


def test_exit_code_stdout_and_stderr_are_captured(run: Run) -> None:
    result = run("import sys\nprint('hello')\nprint('a warning', file=sys.stderr)\nsys.exit(0)")
    assert (result.exit_code, result.stdout, result.timed_out, result.output_capped) == (0, b"hello\n", False, False)
    assert "a warning" in result.stderr_tail
    result.expect_exit(0)


def test_a_failing_exit_code_is_a_clear_failure(run: Run) -> None:
    result = run("import sys; sys.exit(3)")
    assert result.exit_code == 3
    with pytest.raises(CheckFailed, match=r"^your program exited with code 3$") as caught:
        result.expect_exit(0)
    assert caught.value.expected == "exit code 0"
    assert caught.value.got is None, "the headline already says what came: no Got: line repeating it"
    result.expect_exit(3)


def test_stop_when_ends_a_run_once_its_verdict_is_settled(run: Run, tmp_path: Path) -> None:
    flag = tmp_path / "the server died"
    asked: list[float] = []

    def server_dead() -> str | None:
        asked.append(time.monotonic())
        if len(asked) == 4:
            flag.touch()
        return "the grader's server had exited" if flag.exists() else None

    began = time.monotonic()
    result = run("import time; time.sleep(60)", stop_when=server_dead)
    assert time.monotonic() - began < 10, "stopped long before its 30 s timeout"
    assert (result.stopped_because, result.timed_out, len(asked)) == ("the grader's server had exited", False, 4)
    assert result.outcome.startswith("was stopped after ") and result.outcome.endswith(
        "s, when the grader's server had exited"
    ), result.outcome
    with pytest.raises(CheckFailed, match="when the grader's server had exited"):
        result.expect_exit(0)


def test_stop_when_leaves_a_program_that_exits_by_itself_alone(run: Run) -> None:
    result = run("import sys; sys.exit(4)", stop_when=lambda: None)
    assert (result.exit_code, result.stopped_because, result.timed_out) == (4, None, False)
    hung = run("import time; time.sleep(60)", timeout=0.5, stop_when=lambda: None)
    assert (hung.timed_out, hung.stopped_because) == (True, None), "the timeout still holds"


def test_stdin_and_environment_reach_the_program(run: Run) -> None:
    source = """
    import os, sys
    data = sys.stdin.buffer.read()
    sys.stdout.buffer.write(data[::-1] + b"|" + os.environ["SERVER"].encode())
    sys.stdout.write("|" + ",".join(sorted(os.environ)))
    """
    result = run(source, stdin=b"\x00abc", SERVER="127.0.0.1:4000")
    reversed_input, server, names = result.stdout.split(b"|")
    assert (reversed_input, server) == (b"cba\x00", b"127.0.0.1:4000")
    assert b"GRADER_SECRET_TOKEN" not in names and b"LABKIT_RUN_MARKER" in names and b"PORT" not in names.split(b",")


def test_without_stdin_the_program_reads_end_of_file(run: Run) -> None:
    assert run("import sys; print(len(sys.stdin.read()))").stdout == b"0\n"


def test_a_hang_is_stopped_at_the_timeout(run: Run) -> None:
    result = run("import time; print('started', flush=True); time.sleep(120)", timeout=1)
    assert result.timed_out and result.exit_code == -signal.SIGKILL
    assert result.stdout == b"started\n"  # what it wrote before the timeout is kept
    with pytest.raises(CheckFailed, match=r"your program was stopped: it had not finished after 1 s") as caught:
        result.expect_exit()
    assert "timeout" in (caught.value.hint or "")


def test_output_beyond_the_cap_is_reported(run: Run) -> None:
    result = run("import sys\nwhile True: sys.stdout.write('x' * 65536)", limits=Limits(output_mb=1))
    assert result.output_capped and not result.timed_out
    assert len(result.stdout) <= 1024 * 1024
    with pytest.raises(CheckFailed, match="more than 1 MiB of output"):
        result.expect_exit()


def test_death_by_signal_is_named(run: Run) -> None:
    result = run("import os, signal; os.kill(os.getpid(), signal.SIGTERM)")
    assert result.exit_code == -signal.SIGTERM
    with pytest.raises(CheckFailed, match="killed by signal SIGTERM"):
        result.expect_exit()


def test_a_background_child_is_swept_with_the_run(run: Run) -> None:
    """The fixture asserts nothing carries the marker afterwards; the child here would sleep for two minutes."""
    result = run("import os, time\nif os.fork() == 0:\n    os.setsid(); time.sleep(120)\nprint('parent done')")
    assert result.exit_code == 0 and result.stdout == b"parent done\n"


# --- through the real grading path, with a run.toml that starts the program another way ----------------------

CLIENT_STAGE = """
from labkit.checks import expect_equal


def check_arguments_input_and_environment(run_client):
    result = run_client(args=["add", "2", "3"], env={"GREETING": "sum"}, stdin=b"ignored", timeout=20)
    result.expect_exit(0)
    expect_equal(result.stdout, b"sum 5\\n", "what your program printed")


def check_a_hang_is_reported(run_client):
    result = run_client(args=["hang"], timeout=1)
    expect_equal(result.timed_out, True, "stopped at the timeout")
"""

CLIENT_SH = """
if [ "$1" = hang ]; then exec sleep 120; fi
echo "$GREETING $(($2 + $3))"
"""


def test_a_client_lab_through_the_grading_path(tmp_path: Path) -> None:
    kit = ThrowawayKit(tmp_path).lab(
        "client-demo",
        "client",
        run={"command": ["{python}", "client.py"]},
        stages={"runs": Stage(CLIENT_STAGE, points=2, timeout=30)},
    )
    impl = kit.impl({"client.sh": CLIENT_SH}, run_toml={"command": ["sh", "client.sh"]})  # any language: the shell
    code, result = kit.grade("client-demo", impl=impl)
    checks = result["labs"][0]["stages"][0]["checks"]
    assert code == 0, checks
    assert [check["status"] for check in checks] == ["passed", "passed"]
