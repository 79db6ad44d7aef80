"""PostgreSQL and Redis in throwaway containers, through testcontainers, when a Docker engine is at hand.

Ryuk (testcontainers' reaper container) is disabled: it needs to pull another image and a privileged socket mount,
and labkit already cleans up twice over, in ``close()`` and in ``sweep()`` by the ``labkit.run`` label. With a
local engine, ports are published on 127.0.0.1 only, so a learner's database is never exposed to the network.
A remote DOCKER_HOST or Docker-in-Docker cannot reach our loopback, so there the engine's default applies.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docker.client import from_env  # not `import docker`: mypy mistakes the repo's docker/ folder for it
from docker.errors import DockerException

from labkit.errors import ServiceUnavailable
from labkit.ports import LOOPBACK
from labkit.services.base import (
    Availability,
    PostgresEndpoint,
    RedisEndpoint,
    ServiceProvider,
    wait_postgres_ready,
    wait_redis_ready,
)

os.environ["TESTCONTAINERS_RYUK_DISABLED"] = "true"  # read by testcontainers' config, imported lazily below

if TYPE_CHECKING:
    from testcontainers.core.container import DockerContainer

POSTGRES_IMAGE_VARIABLE, REDIS_IMAGE_VARIABLE = "LABKIT_POSTGRES_IMAGE", "LABKIT_REDIS_IMAGE"
READY_TIMEOUT_S = 60.0  # after the image is pulled; a cold container start is slower than a process
PING_TIMEOUT_S = 1
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
HINT = "start Docker (or use --services embedded); `labkit doctor` explains what is missing"


def _engine_error(exc: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(f"Docker engine not reachable: {exc}", hint=HINT)


def sweep(run_id: str | None = None) -> int:
    """Removes labkit's containers and networks (one run's, or all of them); returns how many were removed."""
    label = "labkit=1" if run_id is None else f"labkit.run={run_id}"
    try:
        client = from_env(timeout=30)
    except DockerException as exc:
        raise _engine_error(exc) from exc
    removed = 0
    try:
        for container in client.containers.list(all=True, filters={"label": label}):
            container.remove(force=True, v=True)
            removed += 1
        for network in client.networks.list(filters={"label": label}):
            network.remove()
            removed += 1
    except (DockerException, OSError) as exc:
        raise ServiceUnavailable(f"sweeping {label} containers failed after {removed}: {exc}", hint=HINT) from exc
    finally:
        client.close()
    return removed


class DockerProvider(ServiceProvider):
    name = "docker"

    def __init__(self, run_id: str, workdir: Path) -> None:
        super().__init__(run_id, workdir)
        self._containers: list[DockerContainer] = []

    @classmethod
    def availability(cls) -> Availability:
        try:
            client = from_env(timeout=PING_TIMEOUT_S)
        except DockerException as exc:
            return Availability(False, f"Docker engine not reachable: {exc}")
        try:
            client.ping()
            return Availability(True, f"Docker engine answers at {client.api.base_url}")
        except (DockerException, OSError) as exc:  # requests' connection errors are OSErrors
            return Availability(False, f"Docker engine not reachable: {exc}")
        finally:
            client.close()

    def _run(self, image: str, port: int, env: dict[str, str], command: list[str]) -> tuple[DockerContainer, str, int]:
        """Starts a labelled container; returns it and the host and port to reach ``port`` in it from here."""
        from testcontainers.core.config import ConnectionMode
        from testcontainers.core.container import DockerContainer

        try:
            container = DockerContainer(image, env=env, labels={"labkit": "1", "labkit.run": self.run_id})
        except DockerException as exc:
            raise _engine_error(exc) from exc
        container.with_command(command).with_exposed_ports(port)
        engine = container.get_docker_client()
        mode = engine.get_connection_mode()
        local = mode is ConnectionMode.docker_host and engine.host() in LOCAL_HOSTS
        if local or mode is ConnectionMode.bridge_ip:  # reachable from here without exposing it to the network
            ports: dict[str, Any] = container.ports  # docker-py accepts (host_ip, host_port); the stub says int
            ports[str(port)] = (LOOPBACK, None)
        self._containers.append(container)  # before start(), so close() removes a half-started container
        try:
            container.start()
            host = LOOPBACK if local else container.get_container_host_ip()
            return container, host, container.get_exposed_port(port)
        except (DockerException, OSError) as exc:  # requests' errors and wait timeouts are OSErrors
            raise ServiceUnavailable(f"could not start {image}: {exc}", hint=HINT) from exc

    @staticmethod
    def _probes(container: DockerContainer) -> tuple[Callable[[], str], Callable[[], bool]]:
        """Log tail and liveness for the readiness helpers, read from the engine at the moment they are needed."""

        def log_tail() -> str:
            try:
                return bytes(container.get_wrapped_container().logs(tail=20)).decode(errors="replace")
            except (DockerException, OSError) as exc:
                return f"(container logs unavailable: {exc})"

        def alive() -> bool:
            try:
                container.reload()
            except (DockerException, OSError):
                return True  # unknown is not dead: let the readiness deadline decide
            return container.status in {"created", "running"}

        return log_tail, alive

    def _start_postgres(self) -> PostgresEndpoint:
        image = os.environ.get(POSTGRES_IMAGE_VARIABLE, "postgres:17")
        password = secrets.token_urlsafe(16)
        env = {"POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": password, "POSTGRES_DB": "postgres"}
        command = ["postgres", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        container, host, port = self._run(image, 5432, env, command)
        endpoint = PostgresEndpoint(host, port, "postgres", password, "postgres")
        log_tail, alive = self._probes(container)
        wait_postgres_ready(endpoint, READY_TIMEOUT_S, log_tail=log_tail, alive=alive)
        return endpoint

    def _start_redis(self) -> RedisEndpoint:
        image = os.environ.get(REDIS_IMAGE_VARIABLE, "redis:7")
        container, host, port = self._run(image, 6379, {}, ["redis-server", "--save", "", "--appendonly", "no"])
        endpoint = RedisEndpoint(host, port, None)
        log_tail, alive = self._probes(container)
        wait_redis_ready(endpoint, READY_TIMEOUT_S, log_tail=log_tail, alive=alive)
        return endpoint

    def _shutdown(self) -> None:
        while self._containers:
            container = self._containers.pop()
            try:
                container.stop(force=True, delete_volume=True)
            except (DockerException, OSError):
                continue  # already gone; sweep() catches anything the engine still holds
