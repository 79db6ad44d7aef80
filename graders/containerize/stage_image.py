"""Stage 5 (needs a Docker engine): the image builds on the grader's base, runs as a non-root user, becomes
healthy, answers with the configuration it is given, keeps planted secrets out, stops gracefully, and is small."""

import http.client
import secrets
import threading

import pytest

from engine import BuildFailed, Engine, prepare_context
from labkit.checks import expect, expect_equal, fail, log
from labkit.wait import until
from probes import CANARY_SEARCH, Reply, get

HEALTHY_WITHIN_S = 60.0
STOP_GRACE_S = 10  # docker stop's wait between SIGTERM and SIGKILL
SLOW_REQUEST_S = 2
MAX_GROWTH_MB = 20  # what the image may add to its base


@pytest.fixture(scope="module")
def engine(run_info):
    engine = Engine(run_info.run_id)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def canary(run_info):
    return f"canary-{run_info.seed:x}-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def attempt(engine, run_info, canary):
    """The build, once per stage: a Build, or the BuildFailed that ended it."""
    scratch = run_info.run_dir / "image"
    base, base_size = engine.standin_base(scratch)
    context = prepare_context(run_info.impl_dir, run_info.lab_folder / "app", scratch, canary)
    try:
        return engine.build(context, base, base_size)
    except BuildFailed as error:
        return error


@pytest.fixture
def build(attempt, request):
    if isinstance(attempt, BuildFailed):
        if request.node.name != "check_image_builds_on_the_given_base":
            fail("the image did not build (the first check of this stage shows why)", hint="make it build first")
        fail(
            f"docker build failed; the end of its output:\n{attempt.log_tail}",
            hint="build it yourself: docker build --build-arg BASE_IMAGE=python:3.12-slim . (no network at build "
            "time; the grader's base has no useradd: use a numeric USER)",
        )
    return attempt


@pytest.fixture(scope="module")
def settings(run_info, canary):
    greeting = f"hello from run {run_info.seed:x}"
    return {
        "GREETING": greeting,
        "DATABASE_URL": f"postgresql://notes:{canary}@127.0.0.1:1/notes",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }


@pytest.fixture(scope="module")
def started(engine, attempt, settings):
    """The container, once per stage (None when the image did not build)."""
    return None if isinstance(attempt, BuildFailed) else engine.run(attempt.image, settings)


@pytest.fixture
def container(build, started):
    return started


def _health(container):
    container.reload()
    return ((container.attrs["State"].get("Health") or {}).get("Status"), container.attrs["State"]["Status"])


def _expect_running(container):
    """Fails the check, with the container's last output, when it is no longer running."""
    container.reload()
    state = container.attrs["State"]
    if state["Status"] != "running":
        tail = bytes(container.logs(tail=10)).decode(errors="replace")
        fail(
            f"the container is not running: it exited with code {state['ExitCode']}; its last output:\n{tail}",
            hint="run the image yourself (docker run) and read what it prints",
        )


def check_image_builds_on_the_given_base(build):
    """The image builds with --build-arg BASE_IMAGE=<the grader's base>"""
    log(f"built in {build.seconds:.1f} s: {build.size / 1e6:.1f} MB on a {build.base_size / 1e6:.1f} MB base")
    expect(bool(build.image), "the build produced no image", hint="docker build must end with an image")


def check_image_is_small(build):
    """The image adds at most 20 MB to its base"""
    growth_mb = (build.size - build.base_size) / 1e6
    expect(
        growth_mb <= MAX_GROWTH_MB,
        f"the image is {growth_mb:.1f} MB larger than its base (at most {MAX_GROWTH_MB} MB)",
        hint="copy only app/ (and what .dockerignore lets in); remove caches in the RUN that made them; a "
        "multi-stage build leaves build tools behind",
    )


def check_container_becomes_healthy(container):
    """The container reports healthy within 60 s"""
    settled = {"healthy", "unhealthy"}
    state = until(lambda: _health(container)[0] in settled or _health(container)[1] == "exited", HEALTHY_WITHIN_S)
    health, status = _health(container)
    tail = bytes(container.logs(tail=10)).decode(errors="replace").rstrip()
    if status == "exited":
        fail(
            f"the container exited with code {container.attrs['State']['ExitCode']} instead of serving; its last "
            f"output:\n{tail}",
            hint="run the image yourself and read its output",
        )
    probes = (container.attrs["State"].get("Health") or {}).get("Log") or []
    last = probes[-1] if probes else {}
    said = f"; its last probe exited {last.get('ExitCode')}, printing {str(last.get('Output', '')).strip()[:200]!r}"
    expect(
        bool(state) and health == "healthy",
        f"the container's health is {health!r}"
        + ("" if health == "unhealthy" else f" after {HEALTHY_WITHIN_S:g} s")
        + (said if last else ""),
        hint="HEALTHCHECK must run python -m app.healthcheck (GET /healthz on $PORT) every few seconds",
    )


def check_service_runs_as_non_root(container):
    """Every process in the container runs as a non-root user"""
    _expect_running(container)
    listed = container.top(ps_args="-o uid,pid,args")
    rows = [dict(zip(listed["Titles"], row, strict=False)) for row in listed["Processes"] or []]
    log("\n".join(f"uid {row.get('UID')} pid {row.get('PID')}: {row.get('COMMAND')}" for row in rows))
    root = [row for row in rows if str(row.get("UID")) in {"0", "root"}]
    expect(
        bool(rows) and not root,
        f"running as root: {[row.get('COMMAND') for row in root] or 'no process'}",
        hint="USER 10001:10001 in the Dockerfile, after the instructions that need root",
    )


def check_service_answers_with_its_environment(engine, container, settings):
    """The service answers on port 8080 with the GREETING it was given"""
    _expect_running(container)
    host, port = engine.address(container)
    reply = until(lambda: _try_get(host, port, "/"), 10.0)
    if reply is None:
        fail(
            f"nothing answers GET / on the container's 8080/tcp (published as {host}:{port})",
            hint="the service listens on $PORT, 8080 unless set: do not set PORT in the image",
        )
    body = reply.json() or {}
    expect_equal(
        body.get("greeting"),
        settings["GREETING"],
        "the greeting of GET /",
        hint="GREETING comes from the environment of the container: never set it in the image",
    )


def check_nothing_secret_is_in_the_image(build, engine, container, canary):
    """No secret in the image's configuration; the planted .env and .git stay out"""
    image_env = engine.client.images.get(build.image).attrs["Config"].get("Env") or []
    names = [entry.partition("=")[0] for entry in image_env]
    baked = [name for name in names if name in {"GREETING", "DATABASE_URL", "REDIS_URL"} or "PASSWORD" in name]
    expect(not baked, f"the image's environment sets {baked}", hint="set them when the container runs, never with ENV")
    _expect_running(container)
    _code, output = container.exec_run(["python", "-c", CANARY_SEARCH, canary])
    found = [line for line in bytes(output).decode(errors="replace").splitlines() if line.startswith("/")]
    expect(
        not found,
        f"the image holds files the build context should have kept out: {found[:5]}",
        hint=".dockerignore must exclude .env, .env.* and .git: COPY . copies them otherwise",
    )


def check_sigterm_finishes_the_request_and_exits_0(engine, container):
    """docker stop: the request in flight completes and the service exits 0"""
    _expect_running(container)
    host, port = engine.address(container)
    outcome: dict[str, Reply] = {}
    errors: list[object] = []

    def slow_request():
        try:
            outcome["reply"] = get(host, port, f"/slow?seconds={SLOW_REQUEST_S}", timeout=STOP_GRACE_S + 10)
        except (OSError, http.client.HTTPException) as error:
            errors.append(error)

    worker = threading.Thread(target=slow_request, daemon=True)
    worker.start()
    started = until(lambda: b"slow request started" in bytes(container.logs(tail=50)), 10.0)
    expect(bool(started), "the slow request never reached the service", hint="is it answering on 8080?")
    container.stop(timeout=STOP_GRACE_S)
    worker.join(STOP_GRACE_S + 15)
    container.reload()
    code = container.attrs["State"]["ExitCode"]
    log(bytes(container.logs(tail=10)).decode(errors="replace"))
    if code == 137:
        fail(
            f"docker stop had to kill the service (exit 137) after {STOP_GRACE_S} s: SIGTERM never reached it",
            hint='PID 1 must be the service: CMD ["python", "-m", "app"], not a shell (sh -c ...) that does not '
            "pass signals on",
        )
    expect_equal(code, 0, "the container's exit code after docker stop", hint="the service exits 0 on SIGTERM")
    reply = outcome.get("reply")
    expect(
        reply is not None and reply.status == 200 and reply.body == b"done\n",
        f"the request in flight got {reply or (errors or ['no reply'])[0]!r} instead of 200 done",
        hint="let the service finish its requests: stop it with SIGTERM only",
    )


def _try_get(host, port, path):
    try:
        return get(host, port, path, timeout=3.0)
    except (OSError, http.client.HTTPException):
        return None
