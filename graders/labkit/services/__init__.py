"""PostgreSQL and Redis for graders: one server of each per run at most, started on first use.

``resolve_provider`` turns the ``--services`` choice into a provider. "auto" prefers Docker when an engine
answers within a second and otherwise runs the servers as local processes, so a laptop without Docker still
grades every lab.
"""

from __future__ import annotations

from pathlib import Path

from labkit.errors import ServiceUnavailable
from labkit.run_config import ServiceChoice
from labkit.services.base import (
    Availability,
    PostgresEndpoint,
    RedisEndpoint,
    ServiceProvider,
    wait_postgres_ready,
    wait_redis_ready,
)
from labkit.services.docker import DockerProvider, postgres_image, redis_image, sweep
from labkit.services.embedded import EmbeddedProvider
from labkit.services.external import ExternalProvider
from labkit.services.fresh import (
    REDIS_DEFAULT_DATABASES,
    fresh_postgres_database,
    fresh_redis_db,
    learner_redis_url,
    learner_role,
    protect_redis_default_user,
)
from labkit.services.playground import PlaygroundData

PROVIDERS: dict[str, type[ServiceProvider]] = {
    provider.name: provider for provider in (EmbeddedProvider, DockerProvider, ExternalProvider)
}

__all__ = [
    "PROVIDERS",
    "REDIS_DEFAULT_DATABASES",
    "Availability",
    "DockerProvider",
    "EmbeddedProvider",
    "ExternalProvider",
    "PlaygroundData",
    "PostgresEndpoint",
    "RedisEndpoint",
    "ServiceProvider",
    "fresh_postgres_database",
    "fresh_redis_db",
    "learner_redis_url",
    "learner_role",
    "postgres_image",
    "protect_redis_default_user",
    "redis_image",
    "resolve_provider",
    "sweep",
    "wait_postgres_ready",
    "wait_redis_ready",
]


def resolve_provider(choice: ServiceChoice | str, run_id: str, workdir: Path) -> ServiceProvider:
    """The provider for ``choice`` (a ``ServiceChoice`` or its value); nothing is started until a check asks for a
    server.

    The provider's ``selected_because`` says why it was picked, for run reports: with "auto" that is the Docker
    probe's answer, which is the first thing to know when a run used a provider the learner did not expect.
    """
    if choice not in list(ServiceChoice):
        raise ServiceUnavailable(f"unknown services provider {choice!r}", hint=f"choose {', '.join(ServiceChoice)}")
    name, reason, details = str(choice), f"--services {choice}", ""
    if choice == ServiceChoice.AUTO:
        docker = DockerProvider.auto_choice()  # an engine with the images on it
        name = DockerProvider.name if docker.usable else EmbeddedProvider.name
        reason, details = f"auto: {first_clause(docker.reason)}", f"docker: {docker.reason}"
        if not docker.usable:
            embedded = EmbeddedProvider.availability()
            details += f"; embedded: {embedded.reason}"
            if not embedded.usable:  # the one thing to fix; the paths of a working install are only details
                reason += f"; {embedded.reason}"
    provider = PROVIDERS[name](run_id, workdir)
    provider.selected_because, provider.selection_details = reason, details
    return provider


def first_clause(reason: str) -> str:
    """A probe's answer without its particulars: "Docker engine not reachable", not the exception that said so."""
    return reason.split(": ", 1)[0].split("; ", 1)[0].strip()
