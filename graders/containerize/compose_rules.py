"""The lab's Compose rules (CZ2xx), over compose.yaml read with the line of every key."""

from __future__ import annotations

import re
from typing import Any

from dockerfile import image_reference_pinned, sensitive_name, url_has_literal_password
from findings import Finding
from yamldocs import Mapping

FILE = "compose.yaml"
SERVICES = ("app", "postgres", "redis")
APP_PORT = "127.0.0.1:8080:8080"
PGDATA = "/var/lib/postgresql/data"
COMPOSE_REFERENCE = r"\$\{[^}]*\}"
INTERPOLATION = re.compile(r"\A\$\{[A-Za-z_][A-Za-z0-9_]*(?:(?::?[-?+]).*)?\}\Z")


def services(compose: Mapping) -> Mapping:
    value = compose.get("services")
    return value if isinstance(value, Mapping) else Mapping()


def _service(compose: Mapping, name: str) -> Mapping | None:
    value = services(compose).get(name)
    return value if isinstance(value, Mapping) else None


def services_rule(compose: Mapping) -> list[Finding]:
    """CZ201: the three services exist under their names, and every service says what it runs."""
    found = [
        Finding(
            "CZ201",
            FILE,
            compose.line_of("services"),
            f"there is no service {name!r}",
            f"declare services: app (built from this folder), postgres and redis; {name} is missing",
        )
        for name in SERVICES
        if _service(compose, name) is None
    ]
    found += [
        Finding(
            "CZ201",
            FILE,
            service.line if isinstance(service, Mapping) else services(compose).line_of(str(name)),
            f"service {name} has neither an image nor a build: Compose cannot start it",
            f"give {name} an image (postgres:17.2, redis:7.4.1) or a build",
        )
        for name, service in services(compose).items()
        if not isinstance(service, Mapping) or not (service.get("image") or service.get("build"))
    ]
    return found


def healthcheck_rule(compose: Mapping) -> list[Finding]:
    """CZ202: every service has a health check that runs."""
    found = []
    for name, service in services(compose).items():
        if not isinstance(service, Mapping):
            continue
        check = service.get("healthcheck")
        if not isinstance(check, Mapping) or not check.get("test") or check.get("disable") is True:
            found.append(
                Finding(
                    "CZ202",
                    FILE,
                    service.line_of("healthcheck") if check else service.line,
                    f"service {name} has no health check",
                    f"give {name} a healthcheck with a test (pg_isready, redis-cli ping, python -m app.healthcheck)",
                )
            )
    return found


def depends_on_rule(compose: Mapping) -> list[Finding]:
    """CZ203: app waits for postgres and redis to be healthy, not merely started."""
    app = _service(compose, "app")
    if app is None:
        return []
    depends = app.get("depends_on")
    found = []
    for name in ("postgres", "redis"):
        condition = (
            depends.get(name, {}).get("condition")
            if isinstance(depends, Mapping) and isinstance(depends.get(name), dict)
            else None
        )
        if condition != "service_healthy":
            where = app.line_of("depends_on")
            found.append(
                Finding(
                    "CZ203",
                    FILE,
                    where,
                    f"app does not wait for {name} to be healthy",
                    f"depends_on: {{{name}: {{condition: service_healthy}}}} (the list form only waits "
                    "for the container to start)",
                )
            )
    return found


def _published(port: Any) -> str:
    """A port entry in the short syntax's terms, for comparison and messages."""
    if isinstance(port, dict):
        host_ip = port.get("host_ip", "")
        published, target = port.get("published", ""), port.get("target", "")
        return f"{host_ip}:{published}:{target}" if host_ip else f"{published}:{target}"
    return str(port)


def ports_rule(compose: Mapping) -> list[Finding]:
    """CZ204: only app publishes a port, 8080 on the loopback only."""
    found = []
    for name, service in services(compose).items():
        if not isinstance(service, Mapping):
            continue
        ports = service.get("ports") or []
        entries = [_published(port) for port in ports] if isinstance(ports, list) else [str(ports)]
        wanted = [APP_PORT] if name == "app" else []
        if entries != wanted:
            where = service.line_of("ports") if "ports" in service else service.line
            problem = f"service {name} publishes {entries or 'no port'}"
            change = (
                f'publish exactly "{APP_PORT}" (the loopback only: 8080 alone is open to the network)'
                if name == "app"
                else f"remove {name}'s ports: app reaches it on the Compose network"
            )
            found.append(Finding("CZ204", FILE, where, problem, change))
    return found


def volume_rule(compose: Mapping) -> list[Finding]:
    """CZ205: PostgreSQL keeps its data on a named volume that the file declares."""
    postgres = _service(compose, "postgres")
    if postgres is None:
        return []
    volumes = compose.get("volumes")
    declared: dict[str, Any] = volumes if isinstance(volumes, dict) else {}
    for volume in postgres.get("volumes") or []:
        source, target = _volume_parts(volume)
        if target.rstrip("/") == PGDATA and source in declared:
            return []
    return [
        Finding(
            "CZ205",
            FILE,
            postgres.line_of("volumes"),
            f"postgres does not keep {PGDATA} on a named volume",
            f"mount a named volume (pgdata:{PGDATA}) and declare it under the top-level volumes:",
        )
    ]


def _volume_parts(volume: Any) -> tuple[str, str]:
    if isinstance(volume, dict):
        return str(volume.get("source", "")), str(volume.get("target", ""))
    parts = str(volume).split(":")
    return (parts[0], parts[1]) if len(parts) >= 2 else ("", parts[0])


def _environment(service: Mapping) -> list[tuple[str, str, int]]:
    """(name, value, line) of a service's environment, in map or list form."""
    env = service.get("environment")
    if isinstance(env, Mapping):
        return [(str(key), "" if value is None else str(value), env.line_of(key)) for key, value in env.items()]
    if isinstance(env, list):
        line = service.line_of("environment")
        return [(str(item).partition("=")[0], str(item).partition("=")[2], line) for item in env]
    return []


def secrets_rule(compose: Mapping) -> list[Finding]:
    """CZ206: passwords come from the environment Compose runs in (${VAR}), never written in the file."""
    found = []
    for name, service in services(compose).items():
        if not isinstance(service, Mapping):
            continue
        for key, value, line in _environment(service):
            literal_url_password = key.upper().endswith("_URL") and url_has_literal_password(value, COMPOSE_REFERENCE)
            literal_secret = (
                sensitive_name(key)
                and not key.upper().endswith(("_URL", "_FILE"))
                and key.upper() != "GREETING"
                and value
                and not INTERPOLATION.match(value)
            )
            if literal_url_password or literal_secret:
                found.append(
                    Finding(
                        "CZ206",
                        FILE,
                        line,
                        f"{name}'s {key} holds a password written in the file",
                        "take it from the environment: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}",
                    )
                )
    return found


def images_rule(compose: Mapping) -> list[Finding]:
    """CZ207: every image is a pinned version."""
    return [
        Finding(
            "CZ207",
            FILE,
            service.line_of("image"),
            f"service {name} uses image {service['image']!r}",
            "name a version tag other than latest (postgres:17.2, redis:7.4.1) or a digest",
        )
        for name, service in services(compose).items()
        if isinstance(service, Mapping) and "image" in service and not image_reference_pinned(str(service["image"]))
    ]


def app_settings_rule(compose: Mapping) -> list[Finding]:
    """CZ208: app is configured through its environment: DATABASE_URL and REDIS_URL."""
    app = _service(compose, "app")
    if app is None:
        return []
    names = {key for key, _value, _line in _environment(app)}
    found = []
    if "build" not in app:
        found.append(
            Finding(
                "CZ208",
                FILE,
                app.line,
                "app is not built from this folder",
                "give app build: {context: ., args: {BASE_IMAGE: ...}}",
            )
        )
    found += [
        Finding(
            "CZ208",
            FILE,
            app.line_of("environment"),
            f"app's environment does not set {setting}",
            f"set {setting} under app's environment, pointing at the {service} service",
        )
        for setting, service in (("DATABASE_URL", "postgres"), ("REDIS_URL", "redis"))
        if setting not in names
    ]
    return found
