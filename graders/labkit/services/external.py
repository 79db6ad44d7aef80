"""Servers someone else runs (CI service containers, a course VM), named by URL in the environment.

labkit never starts or stops these; it only checks that they answer. Per-check isolation still comes from
``fresh.py``, so the PostgreSQL role in ``LABKIT_POSTGRES_URL`` needs CREATEDB, and the Redis must allow
FLUSHDB on the logical databases the checks use.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from labkit.errors import ServiceUnavailable
from labkit.services.base import (
    Availability,
    PostgresEndpoint,
    RedisEndpoint,
    ServiceProvider,
    wait_postgres_ready,
    wait_redis_ready,
)
from labkit.settings import POSTGRES_URL, REDIS_URL, settings

REACH_TIMEOUT_S = 10.0


def _parse_url(
    raw: str | None, variable: str, schemes: tuple[str, ...], example: str
) -> tuple[str, int, str, str, str]:
    """(host, port, user, password, path) from ``raw``, the value of ``variable``, or a ServiceUnavailable naming
    the variable."""
    hint = f"export {variable}={example}"
    if not raw:
        raise ServiceUnavailable(f"{variable} is not set; the external provider needs it", hint=hint)
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ServiceUnavailable(f"{variable} is not a valid URL: {exc}", hint=hint) from exc
    if parts.scheme not in schemes or not parts.hostname or port is None:
        raise ServiceUnavailable(
            f"{variable} must look like {example} (scheme {' or '.join(schemes)}, host and port)", hint=hint
        )
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    return parts.hostname, port, user, password, parts.path.lstrip("/")


class ExternalProvider(ServiceProvider):
    name = "external"

    @classmethod
    def availability(cls) -> Availability:
        urls = {POSTGRES_URL: settings().postgres_url, REDIS_URL: settings().redis_url}
        missing = [name for name, url in urls.items() if url is None]
        if missing:
            return Availability(False, f"{' and '.join(missing)} not set")
        return Availability(True, f"servers named by {POSTGRES_URL} and {REDIS_URL}")

    def _start_postgres(self) -> PostgresEndpoint:
        example = "postgresql://user:password@127.0.0.1:5432/postgres"
        url = settings().postgres_url
        host, port, user, password, dbname = _parse_url(url, POSTGRES_URL, ("postgresql", "postgres"), example)
        if not user:
            raise ServiceUnavailable(f"{POSTGRES_URL} names no user", hint=f"export {POSTGRES_URL}={example}")
        endpoint = PostgresEndpoint(host, port, user, password, dbname or "postgres")
        wait_postgres_ready(endpoint, REACH_TIMEOUT_S)
        return endpoint

    def _start_redis(self) -> RedisEndpoint:
        example = "redis://127.0.0.1:6379"
        host, port, _, password, _ = _parse_url(settings().redis_url, REDIS_URL, ("redis",), example)
        endpoint = RedisEndpoint(host, port, password or None)
        wait_redis_ready(endpoint, REACH_TIMEOUT_S)
        return endpoint

    def _shutdown(self) -> None:
        """Nothing to do: the servers belong to whoever set the variables."""
