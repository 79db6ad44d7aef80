"""The container path end to end: a throwaway lab whose learner program uses PostgreSQL and Redis, graded with
the docker provider, in the sandbox, and interrupted with SIGINT mid-run; nothing labelled survives any of it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_sandbox_support import sandbox_unavailable, services_unavailable, skip_unless_ready

from labkit.containers import RUN_LABEL, engine
from labkit.engine import interruptible
from labkit.wait import until
from support import KIT, RUN_PREFIX
from throwaway import Stage, ThrowawayKit

pytestmark = [pytest.mark.docker, pytest.mark.slow]

STAGE = '''
import os
import socket
import time

import psycopg
import redis


def ask(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        return conn.makefile().readline().strip()


def check_grader_reaches_postgres(postgres):
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        assert conn.execute("SELECT 41 + 1").fetchone()[0] == 42


def check_grader_reaches_redis(redis_url):
    assert redis.Redis.from_url(redis_url).ping()


def check_program_reaches_both(start_learner, postgres_learner, redis_url):
    redis.Redis.from_url(redis_url).set("greeting", "hello")
    program = start_learner(env={"DATABASE_URL": postgres_learner.dsn(), "REDIS_URL": redis_url})
    assert ask(program.port) == "pg=42 redis=hello"


def check_hold_if_asked(redis_url):
    """Keeps the run busy with every container up, for the interruption test"""
    if os.environ.get("SVC_SERVER_HOLD"):
        redis.Redis.from_url(redis_url, socket_timeout=60).blpop(["never-pushed"], timeout=50)
'''

SERVER = """
import os
import socket

import psycopg
import redis

with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
    answer = conn.execute("SELECT 41 + 1").fetchone()[0]
greeting = redis.Redis.from_url(os.environ["REDIS_URL"]).get("greeting").decode()
listener = socket.create_server(("127.0.0.1", int(os.environ["PORT"])))
while True:
    conn, _ = listener.accept()
    conn.sendall(f"pg={answer} redis={greeting}\\n".encode())
    conn.close()
"""


@pytest.fixture(autouse=True)
def _needs_services() -> None:
    skip_unless_ready(services_unavailable(), "the docker provider")


@pytest.fixture
def server_kit(tmp_path: Path) -> ThrowawayKit:
    """A server lab whose starter (graded, as no --impl is given) is a program that uses both services."""
    return ThrowawayKit(tmp_path).lab(
        "svc-server",
        "server",
        run={"command": ["{python}", "server.py"], "ready_timeout": 20.0},
        services=("postgres", "redis"),
        stages={"data": Stage(STAGE, points=4, timeout=60)},
        files={"server.py": SERVER},
    )


def labelled(prefix: str) -> list[str]:
    """Containers and networks of runs whose id starts with ``prefix``."""
    client = engine()
    try:
        containers = client.api.containers(all=True, filters={"label": "labkit=1"})
        networks = client.api.networks(filters={"label": "labkit=1"})
    finally:
        client.close()
    return [
        f"{kind} {found.get('Names') or found.get('Name')}"
        for kind, listed in (("container", containers), ("network", networks))
        for found in listed
        if (found.get("Labels") or {}).get(RUN_LABEL, "").startswith(prefix)
    ]


def grade(kit: ThrowawayKit, prefix: str, *extra: str) -> dict[str, Any]:
    code, result = kit.grade("svc-server", "--services", "docker", *extra, env={"LABKIT_RUN_ID_PREFIX": prefix})
    assert code == 0, json.dumps(result, indent=1)
    return result


def test_docker_services_serve_grader_and_program_and_are_removed(server_kit: ThrowawayKit) -> None:
    prefix = f"{RUN_PREFIX}svc"
    lab = grade(server_kit, prefix)["labs"][0]
    assert (lab["points"], lab["max_points"]) == (4, 4)
    assert lab["services"].startswith("docker")
    assert labelled(prefix) == []


def test_sandboxed_program_reaches_the_services_on_its_loopback(server_kit: ThrowawayKit) -> None:
    skip_unless_ready(sandbox_unavailable(), "--sandbox docker")
    prefix = f"{RUN_PREFIX}sbx"
    result = grade(server_kit, prefix, "--sandbox", "docker")
    assert result["sandbox"] == "docker"
    assert result["labs"][0]["points"] == 4
    assert labelled(prefix) == []


@pytest.mark.parametrize("sandbox", ["process", "docker"])
def test_sigint_mid_run_leaves_no_container_or_network(server_kit: ThrowawayKit, sandbox: str) -> None:
    if sandbox == "docker":
        skip_unless_ready(sandbox_unavailable(), "--sandbox docker")
    prefix = f"{RUN_PREFIX}int{sandbox[0]}"
    env = {**os.environ, **server_kit.env, "LABKIT_RUN_ID_PREFIX": prefix, "SVC_SERVER_HOLD": "1"}
    command = [sys.executable, "-m", "labkit", "grade", "svc-server", "--services", "docker", "--sandbox", sandbox]
    # Ctrl-C as a person's shell delivers it: this suite may itself run where SIGINT is ignored (a background job).
    grading = subprocess.Popen(
        command, cwd=KIT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=interruptible
    )
    expected = 3 if sandbox == "docker" else 2  # postgres and redis, plus the namespace holder
    until(lambda: len(labelled(prefix)) >= expected or grading.poll() is not None, 120, interval=0.2)
    assert len(labelled(prefix)) >= expected, "the run never had its containers up"
    grading.send_signal(signal.SIGINT)
    _, stderr = grading.communicate(timeout=60)
    assert grading.returncode == 2
    assert b"interrupted" in stderr
    assert labelled(prefix) == []
