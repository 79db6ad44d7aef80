"""What every labkit container has in common: the engine client, run labels, and the sweeps that remove them.

Each container labkit creates (service, sandbox, network holder) carries ``labkit=1``, ``labkit.run=<run id>``
and ``labkit.owner=<host>:<pid>`` of the process that created it. A run removes its own containers when it
ends, also on failure and Ctrl-C; ``sweep_orphans`` removes those whose owner died without cleaning up (killed
with SIGKILL, a machine that lost power), and only on this host, so two concurrent runs never touch each other.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from docker.client import from_env  # not `import docker`: mypy mistakes the repo's docker/ folder for it
from docker.errors import DockerException, ImageNotFound

from labkit.errors import HarnessError

LABEL, RUN_LABEL, OWNER_LABEL = "labkit", "labkit.run", "labkit.owner"


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
    """Force-removes containers, then networks, carrying ``label`` (``key=value``); ``keep(labels)`` spares some.

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
