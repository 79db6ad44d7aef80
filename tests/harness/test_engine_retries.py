"""Container starts survive the engine's transient refusals, and say so; a refusal that lasts is a harness error
that names the engine's last words. The engine-backed tests put a real engine behind a proxy that refuses chosen
starts exactly as runc did on a loaded CI machine (see engine_faults.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from docker.errors import APIError, ImageNotFound
from engine_faults import REFUSAL, flaky_engine
from test_docker_grading import labelled
from test_sandbox_support import sandbox_unavailable, services_unavailable, skip_unless_ready

from labkit.containers import START_BACKOFF_S, EngineRefused, start_with_retries, transient
from labkit.errors import HarnessError
from support import KIT, RUN_PREFIX, grade_json


def api_error(status: int, explanation: str) -> APIError:
    response = requests.Response()
    response.status_code = status
    return APIError(explanation, response=response, explanation=explanation)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (api_error(500, REFUSAL), True),
        (api_error(500, "cannot start an already running container: unknown"), True),
        (api_error(409, "Conflict. The container name is already in use"), True),
        (api_error(400, "invalid reference format"), False),
        (api_error(404, "No such image: labkit-nope:latest"), False),
        (ImageNotFound("No such image: x"), False),
        (EngineRefused("docker: Error response from daemon: OCI runtime create failed"), True),
        (EngineRefused("docker: Error response from daemon: No such image: labkit-nope"), False),
        (requests.ConnectionError("Connection aborted"), True),
    ],
)
def test_transient_engine_errors_are_told_from_permanent_ones(error: Exception, expected: bool) -> None:
    assert transient(error) is expected


class Attempts:
    """A start that fails ``failures`` times with ``error``, then returns "started"."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error = failures, error
        self.calls = self.discarded = 0
        self.pauses: list[float] = []

    def start(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "started"

    def discard(self) -> None:
        self.discarded += 1


def test_a_start_is_retried_after_transient_failures_with_growing_pauses(capsys: Any) -> None:
    attempts = Attempts(2, api_error(500, REFUSAL))
    assert start_with_retries(attempts.start, attempts.discard, "the holder", attempts.pauses.append) == "started"
    assert (attempts.calls, attempts.discarded) == (3, 2)
    assert attempts.pauses == list(START_BACKOFF_S[:2])
    notices = capsys.readouterr().err.splitlines()
    assert len(notices) == 2 and all("failed to start the holder" in line and REFUSAL in line for line in notices)


def test_spent_retries_are_a_harness_error_naming_the_last_engine_error() -> None:
    attempts = Attempts(99, api_error(500, REFUSAL))
    with pytest.raises(HarnessError) as raised:
        start_with_retries(attempts.start, attempts.discard, "the holder", attempts.pauses.append)
    tries = len(START_BACKOFF_S) + 1
    assert attempts.calls == attempts.discarded == tries
    assert REFUSAL in raised.value.message and f"failed {tries} times" in raised.value.message


def test_a_permanent_failure_is_reported_at_once() -> None:
    attempts = Attempts(99, api_error(404, "No such image: labkit-nope:latest"))
    with pytest.raises(HarnessError, match="No such image"):
        start_with_retries(attempts.start, attempts.discard, "the holder", attempts.pauses.append)
    assert (attempts.calls, attempts.discarded, attempts.pauses) == (1, 1, [])


@pytest.mark.docker
def test_the_sandbox_network_opens_when_the_engine_refuses_the_holder_twice(monkeypatch: Any) -> None:
    skip_unless_ready(sandbox_unavailable(), "--sandbox docker")
    from labkit.sandbox import SandboxNetwork

    run_id = f"{RUN_PREFIX}flaky1"
    with flaky_engine(refuse={1, 2}) as engine:
        monkeypatch.setenv("DOCKER_HOST", engine.docker_host)
        network = SandboxNetwork.open(run_id)
        assert labelled(run_id) != []  # the holder runs
        network.close()
        assert (engine.starts, engine.refused) == (3, 2)
    monkeypatch.delenv("DOCKER_HOST")
    assert labelled(run_id) == []


@pytest.mark.docker
def test_a_lasting_refusal_is_a_harness_error_and_leaves_nothing(monkeypatch: Any) -> None:
    skip_unless_ready(sandbox_unavailable(), "--sandbox docker")
    from labkit.sandbox import SandboxNetwork

    run_id = f"{RUN_PREFIX}flaky2"
    with flaky_engine(refuse_all=True) as engine:
        monkeypatch.setenv("DOCKER_HOST", engine.docker_host)
        with pytest.raises(HarnessError) as raised:
            SandboxNetwork.open(run_id)
        assert engine.refused == len(START_BACKOFF_S) + 1
    monkeypatch.delenv("DOCKER_HOST")
    assert "sandbox's network namespace" in raised.value.message and REFUSAL in raised.value.message
    assert labelled(run_id) == []


@pytest.mark.docker
def test_a_sandboxed_grading_gets_full_marks_through_refused_holder_and_program_starts() -> None:
    skip_unless_ready(sandbox_unavailable(), "--sandbox docker")
    # Start 1 is the holder's, 2 its retry; 3 is the first program container's (the docker CLI), 4 its retry.
    with flaky_engine(refuse={1, 3}) as engine:
        code, report = grade_json(
            "tcp-kv", KIT / "solutions" / "tcp-kv", "--sandbox", "docker", "--stage", "connect",
            env={"DOCKER_HOST": engine.docker_host},
        )  # fmt: skip
        assert engine.refused == 2 and engine.starts > 3
    stage = report["labs"][0]["stages"][0]
    assert code == 0, report
    assert stage["points"] == stage["max_points"] > 0


@pytest.mark.docker
def test_the_docker_provider_starts_postgres_through_a_refused_start(monkeypatch: Any, tmp_path: Path) -> None:
    skip_unless_ready(services_unavailable(), "the docker provider")
    from labkit.services import DockerProvider

    run_id = f"{RUN_PREFIX}flaky3"
    with flaky_engine(refuse={1}) as engine:
        monkeypatch.setenv("DOCKER_HOST", engine.docker_host)
        with DockerProvider(run_id, tmp_path) as provider:
            postgres = provider.start_postgres()
            with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
        assert (engine.starts, engine.refused) == (2, 1)
    monkeypatch.delenv("DOCKER_HOST")
    assert labelled(run_id) == []


CHURN_CYCLES, CHURN_AT_ONCE, REFUSE_EVERY = 24, 3, 4  # 24 cycles: 6 refused holder starts, each retried


@pytest.mark.docker
@pytest.mark.slow
def test_sandbox_network_churn_survives_an_engine_refusing_every_fourth_holder_start(monkeypatch: Any) -> None:
    """The suite's pattern, compressed: open a run's network, join program containers to it, close; many runs,
    some at once, while the engine refuses every fourth holder start. Without retries about a quarter of these
    runs fail as CI's did; with them every run opens and nothing is left on the engine."""
    skip_unless_ready(sandbox_unavailable(), "--sandbox docker")
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    from labkit.containers import run_labels
    from labkit.sandbox import SANDBOX_USER, SandboxNetwork, pod_name, sandbox_image

    def cycle(number: int) -> str | None:
        run_id = f"{RUN_PREFIX}churn{number}"
        try:
            network = SandboxNetwork.open(run_id)
        except HarnessError as error:
            return error.message
        try:
            labels = [arg for key, value in run_labels(run_id).items() for arg in ("--label", f"{key}={value}")]
            for _ in range(2):  # straight to the engine: only the harness's own starts meet the refusals
                subprocess.run(
                    ["docker", "run", "-d", "--network", f"container:{pod_name(run_id)}", "--user", SANDBOX_USER,
                     *labels, "--entrypoint", "sleep", sandbox_image(), "infinity"],
                    env={key: value for key, value in os.environ.items() if key != "DOCKER_HOST"},
                    capture_output=True, check=True, timeout=60,
                )  # fmt: skip
        finally:
            network.close()
        return None

    with flaky_engine(refuse_every=REFUSE_EVERY) as engine:
        monkeypatch.setenv("DOCKER_HOST", engine.docker_host)  # read by every engine client the holder's code makes
        with ThreadPoolExecutor(CHURN_AT_ONCE) as pool:
            failures = [message for message in pool.map(cycle, range(CHURN_CYCLES)) if message]
        monkeypatch.delenv("DOCKER_HOST")
        assert failures == []
        assert engine.refused >= CHURN_CYCLES // REFUSE_EVERY
    assert labelled(f"{RUN_PREFIX}churn") == []
