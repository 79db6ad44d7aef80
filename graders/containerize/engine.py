"""The image built and run on the Docker engine, everything labelled with the run's id and removed at the end.

No registry is reachable on grading machines, so the learner's ${BASE_IMAGE} is a stand-in built here from the
kit's sandbox image with python:3.12-slim's interface (root user, no entrypoint, python on PATH), exactly as the
kit stands in for the postgres and redis images. What this module creates carries ``labkit=1``,
``labkit.run=<run id>`` and ``labkit.owner=<host>:<pid>``, so that labkit's sweeps remove it even when the
grading is interrupted before ``close()``."""

from __future__ import annotations

import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker.client import from_env  # not `import docker`: mypy mistakes the repo's docker/ folder for it
from docker.errors import DockerException
from docker.types import LogConfig

from labkit.errors import HarnessError

SANDBOX_IMAGE = os.environ.get("LABKIT_SANDBOX_IMAGE") or "labkit-sandbox:latest"
SERVICE_PORT = 8080
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
BUILD_TIMEOUT_S = 180
STANDIN = f'FROM {SANDBOX_IMAGE}\nUSER root\nWORKDIR /\nENTRYPOINT []\nCMD ["python3"]\n'
KEPT_OUT = (".env", ".git")  # planted in the build context; .dockerignore must keep them out of the image


@dataclass(frozen=True)
class Build:
    image: str  # the image's id
    base_size: int  # bytes
    size: int  # bytes
    seconds: float  # how long the build took
    log_tail: str


class BuildFailed(Exception):
    def __init__(self, log_tail: str) -> None:
        super().__init__(log_tail)
        self.log_tail = log_tail


class Engine:
    """One run's images and containers; ``close()`` removes them all."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.labels = {"labkit": "1", "labkit.run": run_id, "labkit.owner": f"{socket.gethostname()}:{os.getpid()}"}
        try:
            self.client: Any = from_env(timeout=BUILD_TIMEOUT_S)
            self.client.ping()
        except (DockerException, OSError) as error:
            raise HarnessError(f"Docker engine not reachable: {error}", hint="start Docker; `labkit doctor`") from error
        self.images: list[str] = []
        self.containers: list[Any] = []

    def standin_base(self, scratch: Path) -> tuple[str, int]:
        """Builds the stand-in for ${BASE_IMAGE}; returns its tag and size."""
        try:
            sandbox = self.client.images.get(SANDBOX_IMAGE)
        except DockerException as error:
            raise HarnessError(
                f"the image {SANDBOX_IMAGE} is not on the engine: {error}",
                hint="build it once: docker/build-images.sh base sandbox",
            ) from error
        folder = scratch / "standin"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "Dockerfile").write_text(STANDIN, encoding="utf-8")
        tag = f"labkit-containerize-base:{self.run_id.lower()}"
        self._build(folder, tag, {})
        return tag, int(sandbox.attrs["Size"])

    def build(self, context: Path, base: str, base_size: int) -> Build:
        """Builds the learner's image with BASE_IMAGE=base; BuildFailed carries the end of the build's output."""
        tag = f"labkit-containerize-app:{self.run_id.lower()}"
        started = time.monotonic()
        image, log_tail = self._build(context, tag, {"BASE_IMAGE": base})
        seconds = time.monotonic() - started
        size = int(self.client.images.get(image).attrs["Size"])
        return Build(image, base_size, size, seconds, log_tail)

    def _build(self, context: Path, tag: str, args: dict[str, str]) -> tuple[str, str]:
        self.images.append(tag)  # before the build: close() removes a half-built tag too
        lines: list[str] = []
        try:
            for chunk in self.client.api.build(
                path=str(context),
                tag=tag,
                buildargs=args,
                labels=self.labels,
                rm=True,
                nocache=True,  # no layer shared with a concurrent run, whose cleanup could remove it mid-build
                forcerm=True,
                decode=True,
                pull=False,
            ):
                if "stream" in chunk:
                    lines += str(chunk["stream"]).splitlines()
                if "error" in chunk:
                    raise BuildFailed("\n".join([*lines[-15:], str(chunk["error"]).strip()]))
        except DockerException as error:
            raise BuildFailed("\n".join([*lines[-15:], str(error)])) from error
        return self.client.images.get(tag).id, "\n".join(lines[-15:])

    def run(self, image: str, environment: dict[str, str]) -> Any:
        """Starts the image detached, its port 8080 published on 127.0.0.1 (or in the sandbox's namespace)."""
        pod = os.environ.get("LABKIT_SANDBOX_POD")
        network: dict[str, Any] = (
            {"network_mode": f"container:{pod}"} if pod else {"ports": {f"{SERVICE_PORT}/tcp": ("127.0.0.1", None)}}
        )
        container = self.client.containers.create(
            image,
            detach=True,
            environment=environment,
            labels=self.labels,
            mem_limit="256m",
            pids_limit=128,
            log_config=LogConfig(type="json-file", config={"max-size": "1m", "max-file": "1"}),  # a flood stays small
            **network,
        )
        self.containers.append(container)
        container.start()
        return container

    def has_image(self, name: str) -> bool:
        try:
            self.client.images.get(name)
        except DockerException:
            return False
        return True

    def project_containers(self, project: str) -> dict[str, Any]:
        """The containers Compose started for ``project``, by service name."""
        found = self.client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={project}"})
        return {container.labels.get(SERVICE_LABEL, container.name): container for container in found}

    @staticmethod
    def health(container: Any) -> str:
        """healthy, unhealthy or starting; for a container no longer running, its state (exited, dead)."""
        container.reload()
        state = container.attrs["State"]
        if state["Status"] != "running":
            return str(state["Status"])
        return str((state.get("Health") or {}).get("Status") or "running without a health check")

    @staticmethod
    def last_probe(container: Any) -> str:
        probes = (container.attrs["State"].get("Health") or {}).get("Log") or []
        if not probes:
            return ""
        last = probes[-1]
        return f"; its last health probe exited {last.get('ExitCode')}: {str(last.get('Output', '')).strip()[:200]!r}"

    @staticmethod
    def output_tail(container: Any, lines: int = 10) -> str:
        return bytes(container.logs(tail=lines)).decode(errors="replace").rstrip() or "(nothing)"

    @staticmethod
    def environment(container: Any) -> dict[str, str]:
        """The container's environment as the engine set it (Compose's interpolation done)."""
        entries = container.attrs["Config"].get("Env") or []
        return dict(entry.partition("=")[::2] for entry in entries)

    @staticmethod
    def psql_select_1(container: Any, *, user: str, password: str, database: str) -> tuple[int, str]:
        """Logs in to the PostgreSQL of ``container`` over its network address, so that the server asks for the
        password (its pg_hba trusts the socket and loopback only)."""
        address = next(
            (net["IPAddress"] for net in container.attrs["NetworkSettings"]["Networks"].values() if net["IPAddress"]),
            "",
        )
        settings = {"PGHOST": address, "PGUSER": user, "PGPASSWORD": password, "PGDATABASE": database}
        code, output = container.exec_run(["psql", "-X", "-c", "select 1"], environment=settings)
        said = bytes(output).decode(errors="replace").replace(f'"{address}"', "postgres's address")
        return int(code), said

    @staticmethod
    def address(container: Any) -> tuple[str, int]:
        if os.environ.get("LABKIT_SANDBOX_POD"):
            return "127.0.0.1", SERVICE_PORT
        container.reload()
        bound = (container.attrs["NetworkSettings"]["Ports"] or {}).get(f"{SERVICE_PORT}/tcp") or []
        return "127.0.0.1", int(bound[0]["HostPort"]) if bound else 0

    def close(self) -> None:
        for container in self.containers:
            try:
                container.remove(force=True, v=True)
            except DockerException:
                continue
        for tag in reversed(self.images):
            try:
                self.client.images.remove(tag, force=True, noprune=False)
            except DockerException:
                continue
        # A multi-stage build leaves its earlier stages' last images untagged, labelled like every step of it.
        for image in self.client.api.images(filters={"label": f"labkit.run={self.run_id}"}):
            try:
                self.client.api.remove_image(image["Id"], force=True)
            except DockerException:
                continue
        self.client.close()


def prepare_context(impl_dir: Path, kit_app: Path, into: Path, canary: str) -> Path:
    """A copy of the learner's folder with the kit's app/ in place of theirs, and a planted .env and .git."""
    context = into / "context"
    shutil.copytree(impl_dir, context, symlinks=False, ignore=shutil.ignore_patterns("app", ".git"))
    shutil.copytree(kit_app, context / "app", ignore=shutil.ignore_patterns("__pycache__"))
    (context / ".env").write_text(f"POSTGRES_PASSWORD={canary}\n", encoding="utf-8")
    (context / ".git").mkdir()
    (context / ".git" / "config").write_text(f"[credential]\n\ttoken = {canary}\n", encoding="utf-8")
    return context
