"""What every labkit container has in common: the engine client, run labels, and the sweeps that remove them.

Each container labkit creates (service, sandbox, network holder) carries ``labkit=1``, ``labkit.run=<run id>``
and ``labkit.owner=<host>:<pid>`` of the process that created it. A run removes its own containers when it
ends, also on failure and Ctrl-C; ``sweep_orphans`` removes those whose owner died without cleaning up (killed
with SIGKILL, a machine that lost power), and only on this host, so two concurrent runs never touch each other.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from docker.client import from_env  # not `import docker`: mypy mistakes the repo's docker/ folder for it
from docker.errors import APIError, DockerException, ImageNotFound
from requests.exceptions import RequestException

from labkit.errors import HarnessError

LABEL, RUN_LABEL, OWNER_LABEL = "labkit", "labkit.run", "labkit.owner"
START_BACKOFF_S = (0.25, 0.5, 1.0, 2.0)  # a container start is tried once more after each of these pauses
# Engine answers that no retry can change: the request itself is wrong, or the image is missing.
PERMANENT_MARKS = ("no such image", "not found: manifest unknown", "invalid reference format", "unknown flag")

T = TypeVar("T")


def run_labels(run_id: str) -> dict[str, str]:
    return {LABEL: "1", RUN_LABEL: run_id, OWNER_LABEL: f"{socket.gethostname()}:{os.getpid()}"}


def engine(timeout: int = 30) -> Any:
    """A docker-py client for the engine named by the environment (DOCKER_HOST, or the default socket)."""
    try:
        client = from_env(timeout=timeout)
        client.ping()
    except (DockerException, OSError) as exc:  # requests' connection errors are OSErrors
        raise HarnessError(
            f"Docker engine not reachable: {exc}",
            hint="start Docker (or grade without containers); `labkit doctor` explains what is missing",
        ) from exc
    return client


def image_present(client: Any, image: str) -> bool:
    try:
        client.images.get(image)
    except ImageNotFound:
        return False
    return True


def remove_labelled(client: Any, label: str, keep: Any = None) -> int:
    """Force-removes containers, then networks, then images, carrying ``label`` (``key=value``); ``keep(labels)``
    spares some.

    Uses the engine's list endpoints directly: docker-py's high-level lists fetch each container again, which
    fails when a concurrent teardown removes it in between."""
    removed = 0
    for container in client.api.containers(all=True, filters={"label": label}):
        if keep is not None and keep(container.get("Labels") or {}):
            continue
        try:
            client.api.remove_container(container["Id"], force=True, v=True)
            removed += 1
        except DockerException:
            continue  # removed meanwhile by its own run
    for network in client.api.networks(filters={"label": label}):
        if keep is not None and keep(network.get("Labels") or {}):
            continue
        try:
            client.api.remove_network(network["Id"])
            removed += 1
        except DockerException:
            continue
    for volume in (client.api.volumes(filters={"label": label}) or {}).get("Volumes") or []:  # Compose's (containerize)
        if keep is not None and keep(volume.get("Labels") or {}):
            continue
        try:
            client.api.remove_volume(volume["Name"], force=True)
            removed += 1
        except DockerException:
            continue
    for image in client.api.images(filters={"label": label}):  # images a grader built (containerize)
        if keep is not None and keep(image.get("Labels") or {}):
            continue
        try:
            client.api.remove_image(image["Id"], force=True)
            removed += 1
        except DockerException:
            continue
    return removed


def _owner_alive(labels: dict[str, str]) -> bool:
    host, _, pid = labels.get(OWNER_LABEL, "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's (a shared remote engine), or unknown: not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_orphans(client: Any) -> int:
    """Removes labkit containers and networks whose creating process on this host no longer exists."""
    return remove_labelled(client, f"{LABEL}=1", keep=_owner_alive)


def sweep_run_quietly(run_id: str) -> int:
    """Best effort at the end of a run: removes whatever still carries this run's label; 0 without an engine."""
    try:
        client = from_env(timeout=30)
    except DockerException:
        return 0
    try:
        return remove_labelled(client, f"{RUN_LABEL}={run_id}")
    except (DockerException, OSError):
        return 0
    finally:
        client.close()


class EngineRefused(Exception):
    """A container start the engine refused; ``detail`` is the engine's words. Raised by start attempts that do
    not come through docker-py (``docker run``), so that :func:`start_with_retries` can judge them alike."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def transient(error: BaseException) -> bool:
    """Whether a failed container start may succeed when tried again: the engine's own failures (HTTP 5xx,
    e.g. runc's "cannot start a stopped process"), a lost or slow connection to it, a name still held by the
    attempt before. A missing image or a malformed request fails every time, and is reported at once."""
    text = str(error).lower()
    if any(mark in text for mark in PERMANENT_MARKS):
        return False
    if isinstance(error, ImageNotFound):
        return False
    if isinstance(error, APIError):
        return bool(error.is_server_error()) or error.status_code == 409
    return isinstance(error, EngineRefused | RequestException | DockerException)


def start_with_retries(
    start: Callable[[], T], discard: Callable[[], None], what: str, sleep: Callable[[float], None] = time.sleep
) -> T:
    """Runs ``start`` until it succeeds, at most ``len(START_BACKOFF_S) + 1`` times, calling ``discard`` (remove
    what the failed attempt left on the engine) after each transient failure. An engine refuses a start now and
    then, more often on a loaded machine; a grading must not fail for it.
    When every attempt failed, or one failed for good, the HarnessError names the engine's last words."""
    attempts = len(START_BACKOFF_S) + 1
    for attempt in range(1, attempts + 1):
        try:
            return start()
        except (EngineRefused, DockerException, RequestException) as error:  # RequestException: engine unreachable
            detail = error.detail if isinstance(error, EngineRefused) else str(error)
            discard()
            if not transient(error):
                raise HarnessError(f"could not start {what}: {detail}") from error
            if attempt == attempts:
                raise HarnessError(
                    f"could not start {what}: the Docker engine failed {attempts} times in a row; its last error: "
                    f"{detail}",
                    hint="look at the engine's log (journalctl -u docker, or dockerd's output); `labkit doctor` "
                    "checks that it answers",
                ) from error
            pause = START_BACKOFF_S[attempt - 1]
            first_line = detail.strip().splitlines()[-1:] or ["no detail"]
            print(f"labkit: the Docker engine failed to start {what} ({first_line[0]}); trying again in {pause:g} s",
                  file=sys.stderr)  # fmt: skip
            sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover


def remove_quietly(client: Any, name_or_id: str) -> None:
    """Force-removes one container if it exists; what a failed start attempt left behind."""
    try:
        client.api.remove_container(name_or_id, force=True, v=True)
    except DockerException:
        return
