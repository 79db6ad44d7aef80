"""Stage 6 (needs a Docker engine and docker-compose): compose.yaml runs for real. Every service becomes healthy,
app reaches postgres and redis by their service names, and its DATABASE_URL logs in to the database Compose made.

Compose v1 has no ``up --wait``: ``up --detach`` waits for the ``service_healthy`` conditions, then the grader
polls the health of every container of the project itself."""

import secrets
from urllib.parse import urlsplit

import pytest
import yaml

import composerun
from engine import Engine, prepare_context
from labkit.checks import expect, fail, log
from labkit.errors import HarnessError
from labkit.services import postgres_image, redis_image
from labkit.tools.compose import ComposeProject
from labkit.wait import until
from probes import IN_CONTAINER_GET, Reply

UP_TIMEOUT_S = 240.0  # the app's build, then postgres and redis healthy
HEALTHY_WITHIN_S = 90.0
SETTLED = {"healthy", "unhealthy", "exited", "dead"}


@pytest.fixture(scope="module")
def engine(run_info):
    engine = Engine(run_info.run_id)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def project(engine, run_info):
    """The project started once per stage: (ComposeProject, what ``up`` returned)."""
    images = {"postgres": postgres_image(), "redis": redis_image()}
    if missing := [image for image in images.values() if not engine.has_image(image)]:
        raise HarnessError(
            f"the engine has no {' and no '.join(missing)} image to run compose.yaml's postgres and redis",
            hint="build the kit's stand-ins (docker/build-images.sh standins) and set LABKIT_POSTGRES_IMAGE and "
            "LABKIT_REDIS_IMAGE to them, or pull the official images",
        )
    scratch = run_info.run_dir / "compose"
    base, _size = engine.standin_base(scratch)
    password = secrets.token_hex(12)
    context = prepare_context(run_info.impl_dir, run_info.lab_folder / "app", scratch, password)
    compose = yaml.safe_load((context / "compose.yaml").read_text(encoding="utf-8"))
    file = composerun.runnable_copy(
        compose,
        context,
        images=images,
        app_tag=f"labkit-containerize-compose:{run_info.run_id.lower()}",
        base=base,
        labels=engine.labels,
    )
    name = "labkit" + "".join(c for c in run_info.run_id.lower() if c.isalnum())
    started = ComposeProject(file, name, env={"POSTGRES_PASSWORD": password, "BASE_IMAGE": base})
    try:
        yield started, started.up(UP_TIMEOUT_S)
    finally:
        started.down()


@pytest.fixture
def services(engine, project):
    """The project's containers by service name, once ``up`` succeeded."""
    compose, result = project
    if not result.ok:
        fail("docker-compose up failed (the first check of this stage shows why)", hint="make it start first")
    return engine.project_containers(compose.name)


def check_compose_up_starts_the_project(engine, project):
    """docker-compose up builds app and starts the three services in order"""
    compose, result = project
    said = result.output
    for service, container in engine.project_containers(compose.name).items():
        said = said.replace(container.id[:12], service)  # Compose names a dependency that failed by its id
    log(said)
    expect(
        result.ok,
        f"docker-compose up stopped with exit code {result.exit_code}; it said:\n{said}",
        hint="run it yourself: POSTGRES_PASSWORD=secret docker compose up --wait (a service that never becomes "
        "healthy holds back the ones that depend on it)",
    )


def check_every_service_becomes_healthy(engine, services):
    """app, postgres and redis all report healthy within 90 s"""
    expect(
        {"app", "postgres", "redis"} <= set(services),
        f"the project started {sorted(services)}, not app, postgres and redis",
        hint="docker-compose up starts every service of compose.yaml",
    )
    until(lambda: all(engine.health(container) in SETTLED for container in services.values()), HEALTHY_WITHIN_S)
    unwell = {name: engine.health(container) for name, container in services.items()}
    unwell = {name: health for name, health in unwell.items() if health != "healthy"}
    if unwell:
        name, health = sorted(unwell.items())[0]
        fail(
            f"{name}'s container is {health}"
            + ("" if health in SETTLED else f" after {HEALTHY_WITHIN_S:g} s")
            + f"{engine.last_probe(services[name])}; its last output:\n{engine.output_tail(services[name])}",
            hint="run the health check's command yourself in the container (docker compose exec SERVICE ...): "
            "it must exit 0 when the service is ready, and the image must have the program it runs",
        )


def check_app_reaches_postgres_and_redis(engine, services):
    """app's /ready finds postgres and redis at the addresses compose.yaml gives it"""
    app = services["app"]
    reply = _get_inside(app, "/ready")
    urls = engine.environment(app)
    where = ", ".join(f"{name} at {_address(urls.get(name))}" for name in ("DATABASE_URL", "REDIS_URL"))
    body = reply.json() or {}
    down = [name for name in ("postgres", "redis") if body.get(name) is not True]
    expect(
        reply.status == 200 and not down,
        f"app's GET /ready answered {reply.status}: it cannot reach {' and '.join(down) or 'its dependencies'} "
        f"({where})",
        hint="inside the Compose network a service is reached by its name: postgres:5432 and redis:6379, not "
        "localhost (which is app's own container)",
    )


def check_database_url_logs_in_to_postgres(engine, services):
    """app's DATABASE_URL names the user, password and database postgres was created with"""
    url = urlsplit(engine.environment(services["app"]).get("DATABASE_URL") or "")
    code, output = engine.psql_select_1(
        services["postgres"],
        user=url.username or "",
        password=url.password or "",
        database=url.path.lstrip("/"),
    )
    expect(
        code == 0,
        f"PostgreSQL refused app's DATABASE_URL (user {url.username!r}, database {url.path.lstrip('/')!r}): "
        f"{output.strip()[-300:]}",
        hint="the user, password and database in DATABASE_URL are the ones postgres's POSTGRES_USER, "
        "POSTGRES_PASSWORD and POSTGRES_DB create: both from the same ${POSTGRES_PASSWORD}",
    )


def _get_inside(container, path):
    code, output = container.exec_run(["python", "-c", IN_CONTAINER_GET, path])
    status, _, body = bytes(output).decode(errors="replace").partition("\n")
    if code != 0 or not status.isdigit():
        fail(
            f"app did not answer GET {path} on 127.0.0.1:8080 inside its container: {status} {body[-300:]}",
            hint="the service listens on $PORT, 8080 unless set",
        )
    return Reply(int(status), body.encode())


def _address(url):
    """host:port of a URL, never its password."""
    if not url:
        return "no URL"
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
