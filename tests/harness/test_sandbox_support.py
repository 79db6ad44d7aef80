"""Whether this machine can run containers for the tests, and why not: docker tests skip with that reason only."""

from __future__ import annotations

import os
import shutil
import sys
from functools import cache

import pytest

from labkit.containers import image_present
from labkit.errors import HarnessError
from labkit.run_config import SandboxChoice
from labkit.sandbox import sandbox_image


@cache
def engine_unavailable() -> str | None:
    from labkit.containers import engine

    try:
        engine().close()
    except HarnessError as error:
        return error.message
    return None


@cache
def sandbox_unavailable(choice: SandboxChoice = SandboxChoice.DOCKER) -> str | None:
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return "it needs root on Linux (the grader joins the sandbox's network namespace)"
    if shutil.which("docker") is None:
        return "the docker command-line client is not on PATH"
    if reason := engine_unavailable():
        return reason
    from labkit.containers import engine

    client = engine()
    try:
        if not image_present(client, image := sandbox_image(choice)):
            targets = "base sandbox sandbox-polyglot" if choice is SandboxChoice.POLYGLOT else "base sandbox"
            return f"image {image} is missing: build it with docker/build-images.sh {targets}"
    finally:
        client.close()
    return None


@cache
def services_unavailable() -> str | None:
    """Why the docker service provider cannot start PostgreSQL and Redis here, or None."""
    if reason := engine_unavailable():
        return reason
    from labkit.containers import engine
    from labkit.services.docker import postgres_image, redis_image

    client = engine()
    try:
        missing = [image for image in (postgres_image(), redis_image()) if not image_present(client, image)]
    finally:
        client.close()
    if missing:
        return (
            f"{', '.join(missing)} not on this engine and no registry is assumed: build stand-ins with "
            "docker/build-images.sh base standins and set LABKIT_POSTGRES_IMAGE / LABKIT_REDIS_IMAGE"
        )
    return None


def skip_unless_ready(reason: str | None, what: str) -> None:
    """Skips, saying why, when the container path cannot run here; in a CI run that has just set up an engine
    and images (LABKIT_REQUIRE_DOCKER=1), the same reason is a failure instead of a silent gap."""
    if reason is None:
        return
    message = f"{what} cannot run here: {reason}"
    if os.environ.get("LABKIT_REQUIRE_DOCKER") == "1":
        pytest.fail(f"{message} (LABKIT_REQUIRE_DOCKER=1: CI set the engine and images up)")
    pytest.skip(message)
