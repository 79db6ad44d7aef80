"""The docker service provider against a real engine: readiness by round trip, labels, loopback-only ports,
removal, the orphan sweep, and images that honour the official postgres/redis interface.

Images come from LABKIT_POSTGRES_IMAGE / LABKIT_REDIS_IMAGE (the official ones by default; CI points them at the
stand-ins docker/build-images.sh builds). Without an engine or the images, each test says which is missing.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from test_docker_grading import labelled
from test_sandbox_support import services_unavailable, skip_unless_ready

from labkit.containers import OWNER_LABEL, RUN_LABEL, engine, run_labels, sweep_orphans
from labkit.services import DockerProvider, PostgresEndpoint, RedisEndpoint, resolve_provider
from labkit.services.base import wait_postgres_ready, wait_redis_ready
from labkit.services.docker import postgres_image, redis_image
from support import RUN_PREFIX, run_labkit

pytestmark = pytest.mark.docker


@pytest.fixture(autouse=True)
def _needs_services() -> None:
    skip_unless_ready(services_unavailable(), "the docker provider")


@pytest.fixture
def client() -> Any:
    docker_client = engine()
    yield docker_client
    docker_client.close()


def test_servers_answer_carry_the_run_labels_listen_on_loopback_and_are_removed(tmp_path: Path, client: Any) -> None:
    run_id = f"{RUN_PREFIX}prov"
    with DockerProvider(run_id, tmp_path) as provider:
        postgres, redis_endpoint = provider.start_postgres(), provider.start_redis()
        with psycopg.connect(postgres.dsn(), autocommit=True) as conn:  # ready means a real round trip
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert redis.Redis.from_url(redis_endpoint.url()).ping()
        containers = client.containers.list(filters={"label": f"{RUN_LABEL}={run_id}"})
        assert len(containers) == 2
        for container in containers:
            assert container.labels["labkit"] == "1"
            assert container.labels[OWNER_LABEL] == f"{socket.gethostname()}:{os.getpid()}"
            bindings = [b for ports in container.attrs["NetworkSettings"]["Ports"].values() for b in ports or []]
            assert bindings and {b["HostIp"] for b in bindings} == {"127.0.0.1"}
    assert labelled(run_id) == []


def test_auto_picks_docker_when_an_engine_answers_and_doctor_says_why(tmp_path: Path) -> None:
    provider = resolve_provider("auto", f"{RUN_PREFIX}auto", tmp_path)
    assert isinstance(provider, DockerProvider)
    assert provider.selected_because.startswith("auto: Docker engine answers")
    doctor = run_labkit("doctor")
    assert "--services auto would use docker" in doctor.stdout
    assert "images present" in doctor.stdout


def test_orphan_sweep_removes_containers_whose_owner_died_and_keeps_live_ones(client: Any) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead_owner = f"{socket.gethostname()}:{gone.pid}"
    orphan_labels = {**run_labels(f"{RUN_PREFIX}orphan"), OWNER_LABEL: dead_owner}
    orphan = client.containers.create(redis_image(), labels=orphan_labels)
    alive = client.containers.create(redis_image(), labels=run_labels(f"{RUN_PREFIX}alive"))
    try:
        sweep_orphans(client)
        remaining = {c.id for c in client.containers.list(all=True, filters={"label": "labkit=1"})}
        assert orphan.id not in remaining
        assert alive.id in remaining
    finally:
        alive.remove(force=True, v=True)


def _published(client: Any, image: str, port: int, **options: Any) -> tuple[Any, int]:
    container = client.containers.run(
        image, detach=True, ports={f"{port}/tcp": ("127.0.0.1", None)}, labels=run_labels(f"{RUN_PREFIX}image"),
        **options,
    )  # fmt: skip
    container.reload()
    return container, int(container.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"][0]["HostPort"])


def test_postgres_image_honours_the_official_variables(client: Any) -> None:
    password = secrets.token_urlsafe(12)
    env = {"POSTGRES_USER": "alice", "POSTGRES_PASSWORD": password, "POSTGRES_DB": "shop"}
    container, port = _published(client, postgres_image(), 5432, environment=env)
    try:
        endpoint = PostgresEndpoint("127.0.0.1", port, "alice", password, "shop")
        wait_postgres_ready(endpoint, 60)
        with psycopg.connect(endpoint.dsn(), autocommit=True) as conn:
            assert conn.execute("SELECT current_user, current_database()").fetchone() == ("alice", "shop")
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(PostgresEndpoint("127.0.0.1", port, "alice", "wrong", "shop").dsn(), connect_timeout=5)
    finally:
        container.remove(force=True, v=True)  # v: the image declares a VOLUME


def test_redis_image_takes_server_flags_as_its_command(client: Any) -> None:
    password = secrets.token_urlsafe(12)
    container, port = _published(client, redis_image(), 6379, command=["--requirepass", password])
    try:
        wait_redis_ready(RedisEndpoint("127.0.0.1", port, password), 30)
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=port, socket_timeout=5).ping()
    finally:
        container.remove(force=True, v=True)  # v: the image declares a VOLUME
