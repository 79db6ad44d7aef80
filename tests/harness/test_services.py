"""The service layer against real servers: embedded PostgreSQL and Redis processes, no mocks."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import psutil
import psycopg
import pytest
import redis

import labkit.services.embedded as embedded_module
from labkit.errors import ServiceUnavailable
from labkit.ports import free_port
from labkit.services import (
    DockerProvider,
    EmbeddedProvider,
    ExternalProvider,
    PostgresEndpoint,
    RedisEndpoint,
    fresh_postgres_database,
    fresh_redis_db,
    resolve_provider,
    sweep,
    wait_postgres_ready,
)
from labkit.settings import Settings, reset_settings


def _scalar(endpoint: PostgresEndpoint, query: str) -> object:
    with psycopg.connect(endpoint.dsn(), autocommit=True) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def _server_processes(port: int) -> list[psutil.Process]:
    """The process listening on ``port`` and all its children."""
    for conn in psutil.net_connections("tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            server = psutil.Process(conn.pid)
            return [server, *server.children(recursive=True)]
    raise AssertionError(f"nothing listens on port {port}")


def test_embedded_postgres_answers_on_loopback_only(embedded: EmbeddedProvider) -> None:
    endpoint = embedded.start_postgres()
    assert embedded.start_postgres() is endpoint, "a second call must reuse the running server"
    assert _scalar(endpoint, "SELECT 1") == 1
    assert _scalar(endpoint, "SHOW fsync") == "off"
    listening = {c.laddr.ip for c in psutil.net_connections("inet") if c.laddr and c.laddr.port == endpoint.port}
    assert listening == {"127.0.0.1"}


def test_fresh_databases_are_isolated_and_dropped(embedded: EmbeddedProvider) -> None:
    server = embedded.start_postgres()
    with fresh_postgres_database(server) as first:
        assert first.dbname != server.dbname
        with psycopg.connect(first.dsn(), autocommit=True) as conn:
            conn.execute("CREATE TABLE leftovers (id int)")
    with fresh_postgres_database(server) as second:
        assert second.dbname != first.dbname
        assert _scalar(second, "SELECT to_regclass('leftovers') IS NULL") is True
        held_open = psycopg.connect(second.dsn(), autocommit=True)  # DROP ... WITH (FORCE) must not wait on it
    held_open.close()
    names = f"'{first.dbname}', '{second.dbname}'"
    assert _scalar(server, f"SELECT count(*) FROM pg_database WHERE datname IN ({names})") == 0


def test_embedded_redis_set_get_and_fresh_db_is_flushed(embedded: EmbeddedProvider) -> None:
    endpoint = embedded.start_redis()
    assert endpoint.password is None
    dirty, neighbour = redis.Redis.from_url(endpoint.url(3)), redis.Redis.from_url(endpoint.url(4))
    dirty.set("greeting", "hello")
    neighbour.set("greeting", "untouched")
    assert dirty.get("greeting") == b"hello"
    url = fresh_redis_db(endpoint, 3)
    assert url == endpoint.url(3)
    assert dirty.dbsize() == 0
    assert neighbour.get("greeting") == b"untouched"
    dirty.close()
    neighbour.close()


def test_close_leaves_no_process_and_no_data_dir(services_dir: Path) -> None:
    provider = EmbeddedProvider("close-run", services_dir)
    provider.close()  # nothing started yet: must be a no-op
    postgres, redis_endpoint = provider.start_postgres(), provider.start_redis()
    processes = _server_processes(postgres.port) + _server_processes(redis_endpoint.port)
    assert len(processes) >= 3, "postmaster, its helpers, and redis-server"
    assert [p for p in services_dir.iterdir() if p.is_dir()], "data dirs live under the workdir"
    provider.close()
    provider.close()
    assert [p.pid for p in processes if p.is_running()] == []
    assert [p for p in services_dir.iterdir() if p.is_dir()] == []
    assert {p.name for p in services_dir.iterdir()} == {"postgres.log", "redis.log"}


def test_server_that_exits_fails_fast_with_its_log_and_close_cleans_up(
    services_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded_module, "SPEED_OVER_DURABILITY", ("fsync=sometimes",))
    provider = EmbeddedProvider("broken-run", services_dir)
    with pytest.raises(ServiceUnavailable, match="server process exited") as caught:
        provider.start_postgres()
    assert "fsync" in caught.value.message, "the log tail names the bad setting"
    provider.close()
    assert [p for p in services_dir.iterdir() if p.is_dir()] == []


def test_port_taken_by_someone_else_is_retried_on_another_port(
    services_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))  # bound, not listening: the clash without a 2 s connect timeout
        taken = squatter.getsockname()[1]
        offered = iter([taken])
        monkeypatch.setattr(embedded_module, "free_port", lambda: next(offered, None) or free_port())
        with EmbeddedProvider("clash-run", services_dir) as provider:
            endpoint = provider.start_postgres()
            assert endpoint.port != taken
            assert _scalar(endpoint, "SELECT 1") == 1
    assert "already in use" in (services_dir / "postgres.log").read_text()


def test_external_provider_uses_the_urls_and_leaves_the_servers_alone(
    embedded: EmbeddedProvider, tmp_path: Path
) -> None:
    postgres, redis_endpoint = embedded.start_postgres(), embedded.start_redis()
    reset_settings(Settings(postgres_url=postgres.dsn(), redis_url=redis_endpoint.url()))
    assert ExternalProvider.availability().usable
    with ExternalProvider("external-run", tmp_path) as external:
        assert external.start_postgres() == postgres
        assert external.start_redis() == redis_endpoint
        with fresh_postgres_database(external.start_postgres()) as db:
            assert _scalar(db, "SELECT current_database()") == db.dbname
    assert _scalar(postgres, "SELECT 1") == 1, "close() must not stop a server it does not own"


@pytest.mark.parametrize(
    ("variable", "start"),
    [("LABKIT_POSTGRES_URL", ExternalProvider.start_postgres), ("LABKIT_REDIS_URL", ExternalProvider.start_redis)],
)
@pytest.mark.parametrize("value", [None, "not a url", "redis://host-without-port"])
def test_external_provider_names_the_missing_or_bad_variable(
    variable: str,
    start: Callable[[ExternalProvider], object],
    value: str | None,
    tmp_path: Path,
) -> None:
    reset_settings(Settings.from_env({} if value is None else {variable: value}))
    provider = ExternalProvider("external-run", tmp_path)
    with pytest.raises(ServiceUnavailable, match=variable):
        start(provider)
    assert not ExternalProvider.availability().usable


def test_readiness_gives_up_with_last_error_log_and_hint() -> None:
    nobody = PostgresEndpoint("127.0.0.1", free_port(), "postgres", "pw", "postgres")
    with pytest.raises(ServiceUnavailable) as caught:
        wait_postgres_ready(nobody, 0.3, log_tail=lambda: "FATAL: example log line")
    assert "last error" in caught.value.message
    assert "FATAL: example log line" in caught.value.message
    assert caught.value.hint


def test_auto_picks_embedded_without_docker_and_says_why(tmp_path: Path) -> None:
    docker = DockerProvider.availability()
    assert docker.reason
    if docker.usable:
        pytest.skip(f"a Docker engine answers here ({docker.reason}), so auto picks docker")
    assert "not reachable" in docker.reason
    provider = resolve_provider("auto", "auto-run", tmp_path)
    assert isinstance(provider, EmbeddedProvider)
    assert "Docker engine not reachable" in provider.selected_because
    assert list(tmp_path.iterdir()) == [], "resolving must not start anything"


def test_unknown_provider_choice_is_a_service_error(tmp_path: Path) -> None:
    with pytest.raises(ServiceUnavailable, match="podman"):
        resolve_provider("podman", "run", tmp_path)


@pytest.mark.docker
def test_docker_provider_round_trip_and_sweep(tmp_path: Path) -> None:
    availability = DockerProvider.availability()
    if not availability.usable:
        pytest.skip(f"needs a Docker engine: {availability.reason}")
    with DockerProvider("docker-test-run", tmp_path) as provider:
        assert _scalar(provider.start_postgres(), "SELECT 1") == 1
        assert redis.Redis.from_url(provider.start_redis().url()).ping()
    assert sweep("docker-test-run") == 0, "close() already removed both containers"


def test_redis_endpoint_url_quotes_the_password() -> None:
    assert RedisEndpoint("127.0.0.1", 6379, "p@ss word").url(2) == "redis://:p%40ss%20word@127.0.0.1:6379/2"
    assert PostgresEndpoint("h", 1, "u", "p/w", "d").dsn("other") == "postgresql://u:p%2Fw@h:1/other"
