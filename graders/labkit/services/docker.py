"""PostgreSQL and Redis in throwaway containers, through testcontainers, when a Docker engine is at hand.

Images come from ``LABKIT_POSTGRES_IMAGE`` / ``LABKIT_REDIS_IMAGE`` (default ``postgres:17`` / ``redis:7``, the
official images a learner pulls; docker/ builds stand-ins with the same interface where no registry is
reachable). Ryuk (testcontainers' reaper container) is disabled: it needs to pull another image and a privileged
socket mount, and labkit already cleans up three times over: ``close()`` at the end of the run (also on failure
and Ctrl-C), the run's label swept by the ``labkit grade`` process after its grader exits, and
``labkit.containers.sweep_orphans`` for runs whose process was killed.

With a local engine (its unix socket, or localhost), ports are published on 127.0.0.1 only, so a learner's
database is never exposed to the network; a remote DOCKER_HOST keeps the engine's default, as it cannot reach our
loopback. Under ``--sandbox docker`` nothing is published at all: the containers join the run's sandbox network
namespace (``LABKIT_SANDBOX_POD``), where the grader and the learner's program reach them on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from docker.client import from_env  # not `import docker`: mypy mistakes the repo's docker/ folder for it
from docker.errors import DockerException
from requests.exceptions import RequestException

from labkit.containers import image_present, remove_labelled, run_labels, start_with_retries, sweep_orphans
from labkit.errors import HarnessError, ServiceUnavailable
from labkit.ports import LOOPBACK
from labkit.services.base import (
    Availability,
    PostgresEndpoint,
    RedisEndpoint,
    ServiceProvider,
    wait_postgres_ready,
    wait_redis_ready,
)
from labkit.settings import POSTGRES_IMAGE, REDIS_IMAGE, settings

if TYPE_CHECKING:
    from testcontainers.core.container import DockerContainer

READY_TIMEOUT_S = 60.0  # after the image is pulled; a cold container start is slower than a process
PING_TIMEOUT_S = 10  # a missing engine fails at once (no socket); a busy one may take seconds to answer
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
HINT = "start Docker (or use --services embedded); `labkit doctor` explains what is missing"


def postgres_image() -> str:
    """The image that runs PostgreSQL on the engine (``LABKIT_POSTGRES_IMAGE``: the kit's stand-in without a
    registry)."""
    return settings().postgres_image


def redis_image() -> str:
    """The image that runs Redis on the engine (``LABKIT_REDIS_IMAGE``)."""
    return settings().redis_image


def _engine_error(exc: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(f"Docker engine not reachable: {exc}", hint=HINT)


def sweep(run_id: str | None = None) -> int:
    """Removes labkit's containers and networks (one run's, or all of them); returns how many were removed."""
    label = "labkit=1" if run_id is None else f"labkit.run={run_id}"
    try:
        client = from_env(timeout=30)
    except DockerException as exc:
        raise _engine_error(exc) from exc
    try:
        return remove_labelled(client, label)
    except (DockerException, OSError) as exc:
        raise ServiceUnavailable(f"sweeping {label} containers failed: {exc}", hint=HINT) from exc
    finally:
        client.close()


class DockerProvider(ServiceProvider):
    name = "docker"

    def __init__(self, run_id: str, workdir: Path) -> None:
        super().__init__(run_id, workdir)
        self._containers: list[DockerContainer] = []
        self._swept = False

    @classmethod
    def availability(cls) -> Availability:
        return cls._probe()[0]

    @classmethod
    def auto_choice(cls) -> Availability:
        """Whether ``--services auto`` should pick Docker: an engine answers and both images are already on it.
        A missing image would need a registry, which may be out of reach; embedded servers need none."""
        engine_state, missing = cls._probe()
        if engine_state.usable and missing:
            return Availability(False, f"Docker engine answers, but {', '.join(missing)} not on it (docker pull it)")
        return engine_state

    @classmethod
    def _probe(cls) -> tuple[Availability, list[str]]:
        """The engine's answer, and which of the two images it does not hold yet."""
        try:
            client = from_env(timeout=PING_TIMEOUT_S)
        except DockerException as exc:
            return Availability(False, f"Docker engine not reachable: {exc}"), []
        try:
            client.ping()
            missing = [image for image in (postgres_image(), redis_image()) if not image_present(client, image)]
        except (DockerException, OSError) as exc:  # requests' connection errors are OSErrors
            return Availability(False, f"Docker engine not reachable: {exc}"), []
        finally:
            client.close()
        images = "images present" if not missing else f"{', '.join(missing)} will be pulled on first use"
        return Availability(True, f"Docker engine answers at {client.api.base_url}; {images}"), missing

    def _run(self, image: str, port: int, env: dict[str, str], command: list[str]) -> tuple[DockerContainer, str, int]:
        """Starts a labelled container; returns it and the host and port to reach ``port`` in it from here."""
        from testcontainers.core.config import testcontainers_config
        from testcontainers.core.container import DockerContainer

        testcontainers_config.ryuk_disabled = True  # see the module's doc: labkit removes its containers itself
        pod = settings().sandbox_pod
        # In the sandbox's namespace, the grader, the learner and this server share one loopback.
        extra: dict[str, Any] = {"network_mode": f"container:{pod}"} if pod else {}
        try:
            container = DockerContainer(image, env=env, labels=run_labels(self.run_id), **extra)
        except DockerException as exc:
            raise _engine_error(exc) from exc
        container.with_command(command)
        engine = container.get_docker_client()
        if not self._swept:
            self._swept = True
            sweep_orphans(engine.client)
        if not pod:
            container.with_exposed_ports(port)
            # An engine on this machine (its socket, or localhost) publishes on 127.0.0.1 only, whatever
            # testcontainers guesses about the network around us; a remote engine keeps its default.
            local = urlsplit(str(engine.client.api.base_url)).hostname in LOCAL_HOSTS
            if local:
                ports: dict[str, Any] = container.ports  # docker-py accepts (host_ip, host_port); the stub says int
                ports[str(port)] = (LOOPBACK, None)
        self._containers.append(container)  # before start(), so close() removes a half-started container

        def discard() -> None:
            with contextlib.suppress(DockerException, RequestException, AttributeError):  # never created
                container.get_wrapped_container().remove(force=True, v=True)

        try:
            start_with_retries(container.start, discard, f"the {image} container")
            if pod:
                return container, LOOPBACK, port
            host = LOOPBACK if local else container.get_container_host_ip()
            return container, host, int(container.get_exposed_port(port))
        except HarnessError as exc:
            raise ServiceUnavailable(exc.message, hint=self._image_hint(image)) from exc
        except (DockerException, OSError) as exc:  # requests' errors and wait timeouts are OSErrors
            raise ServiceUnavailable(f"could not start {image}: {exc}", hint=self._image_hint(image)) from exc

    @staticmethod
    def _image_hint(image: str) -> str:
        return (
            f"{HINT}. Without a registry, build stand-ins with docker/build-images.sh base standins and set "
            f"{POSTGRES_IMAGE}/{REDIS_IMAGE} (now {image!r} for this server)"
        )

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
                container.get_wrapped_container().reload()
            except (DockerException, OSError):
                return True  # unknown is not dead: let the readiness deadline decide
            return str(container.get_wrapped_container().status) in {"created", "running"}

        return log_tail, alive

    def _start_postgres(self) -> PostgresEndpoint:
        password = secrets.token_urlsafe(16)
        env = {"POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": password, "POSTGRES_DB": "postgres"}
        command = ["postgres", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        container, host, port = self._run(postgres_image(), 5432, env, command)
        endpoint = PostgresEndpoint(host, port, "postgres", password, "postgres")
        log_tail, alive = self._probes(container)
        wait_postgres_ready(endpoint, READY_TIMEOUT_S, log_tail=log_tail, alive=alive)
        return endpoint

    def _start_redis(self) -> RedisEndpoint:
        command = ["redis-server", "--save", "", "--appendonly", "no"]
        container, host, port = self._run(redis_image(), 6379, {}, command)
        endpoint = RedisEndpoint(host, port, None)
        log_tail, alive = self._probes(container)
        wait_redis_ready(endpoint, READY_TIMEOUT_S, log_tail=log_tail, alive=alive)
        return endpoint

    def _shutdown(self) -> None:
        while self._containers:
            container = self._containers.pop()
            try:
                container.get_wrapped_container().remove(force=True, v=True)
            except (DockerException, OSError, AttributeError):
                continue  # never started, or already gone; the run's sweep catches anything the engine holds
