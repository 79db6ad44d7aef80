"""Hostile learner programs (tests/hostile/<case>/): each is graded to a clear verdict and leaves nothing behind.

A case is a folder with the program and a ``hostile.toml``: the lab, the stage that must catch it and a substring
of the failed check's message, plus optional evidence (``stderr`` lines its stderr tail must show, strings the
report must never contain, ``notes`` of a cohort run). Every case must end as a failed check with exit code 1:
never a harness error, never a pass. Then nothing may be left: no process carrying the run's marker, none of
the pids the program recorded (``pid_file``, "<pid> <start time>" lines), no file in the TMPDIR labkit ran with
(its run folder, learner scratch folders, embedded servers and cohort staging live there), and in ``--sandbox
docker`` no container of the run. (``labkit cohort grade`` gives each submission a run-id prefix of its own and
sweeps it; for cohort cases the TMPDIR check is what covers the run.)

Cases with ``lab = "store-demo"`` are graded by a throwaway driver lab built here, whose checks hand
``postgres_learner.dsn()`` and ``redis_learner_url`` to the learner's module and then verify, with the grader's
own credentials, that its databases, roles, Redis data, settings and server are intact. ``[known_hole]`` names a
mode where a case is known to get through, with the reason: there the test is an expected failure (strict, so a
fix is noticed).
"""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from test_docker_grading import labelled
from test_sandbox_support import sandbox_unavailable, services_unavailable, skip_unless_ready

from labkit.sweep import marked_processes
from support import KIT, RUN_PREFIX, run_labkit
from throwaway import Stage, ThrowawayKit

HOSTILE = KIT / "tests" / "hostile"
SECRET = "hostile-test-secret-5be1d2"  # in labkit's environment as LABKIT_TEST_SECRET: must reach no report
HIDDEN_TOKEN = "hidden-check-token-9c04aa"  # in the source of a hidden check: must reach no report
NEIGHBOUR_TOKEN = "neighbour-notes-3e7f10"  # in a file next to a cohort submission: must reach no report
MODES = ("process", "docker")
GRADE_TIMEOUT_S = 180
JOBS = 4  # cases graded at the same time


@dataclass(frozen=True)
class HostileCase:
    name: str
    folder: Path
    description: str
    lab: str
    stage: str
    message: str
    grade: str = "grade"  # or "cohort": staged and graded by `labkit cohort grade`
    stderr: tuple[str, ...] = ()
    report_lacks: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    pid_file: str | None = None
    extra_graders: bool = False
    rename: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    known_hole: dict[str, str] = field(default_factory=dict)


def hostile_cases() -> list[HostileCase]:
    cases = []
    for toml_path in sorted(HOSTILE.glob("*/hostile.toml")):
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        for key in ("stderr", "report_lacks", "notes"):
            data[key] = tuple(data.get(key, ()))
        cases.append(HostileCase(name=toml_path.parent.name, folder=toml_path.parent, **data))
    return cases


def case_params() -> list[Any]:
    params = []
    for case in hostile_cases():
        for mode in MODES:
            marks = [pytest.mark.docker, pytest.mark.slow] if mode == "docker" else []
            if mode in case.known_hole:
                marks.append(pytest.mark.xfail(strict=True, reason=f"known hole: {case.known_hole[mode]}"))
            params.append(pytest.param(case, mode, marks=marks, id=f"{case.name}-{mode}"))
    return params


# -- the demo lab for service cases ---------------------------------------------------------------------------

DEMO_STAGE = '''
"""The learner's module gets the learner's credentials only; after each call the grader checks, with its own,
that everything outside the learner's data is intact. Damage is reported as "GRADER STATE DAMAGED"."""

import psycopg
import redis

from labkit.checks import expect_equal


def damaged(what):
    raise AssertionError(f"GRADER STATE DAMAGED: {what}")


def postgres_intact(postgres, learner):
    try:
        conn = psycopg.connect(postgres.dsn(), autocommit=True, connect_timeout=5)
    except psycopg.Error as error:
        damaged(f"the check's database cannot be reached: {error}")
    with conn:
        roles = dict(conn.execute("SELECT rolname, rolsuper FROM pg_roles").fetchall())
        if roles.get(learner.user) is not False:
            damaged(f"the learner role is {'a superuser' if roles.get(learner.user) else 'gone'}")
        if roles.get(postgres.user) is not True:
            damaged("the grader's role is no longer a superuser")


def stored_in_postgres(postgres, key):
    with psycopg.connect(postgres.dsn(), autocommit=True, connect_timeout=5) as conn:
        try:
            row = conn.execute("SELECT value FROM kv WHERE key = %s", (key,)).fetchone()
        except psycopg.errors.UndefinedTable:
            return None
    return row[0] if row else None


def check_postgres_keeps_a_value(driver, postgres, postgres_learner):
    """pg_save() stores a value in table kv through the learner's PostgreSQL role"""
    try:
        driver.call("pg_save", postgres_learner.dsn(), "greeting", "hello")
    finally:
        postgres_intact(postgres, postgres_learner)
    expect_equal(stored_in_postgres(postgres, "greeting"), "hello", "the value stored in table kv")


def check_redis_keeps_a_value(driver, redis_server, redis_url, redis_learner_url):
    """redis_save() stores a value through the learner's Redis user"""
    own_db = int(redis_url.rsplit("/", 1)[1])
    other = redis.Redis.from_url(redis_server.url((own_db + 1) % 16), socket_timeout=5)
    admin = redis.Redis.from_url(redis_url, socket_timeout=5)
    other.set("grader-sentinel", "kept")
    maxmemory = admin.config_get("maxmemory")
    try:
        driver.call("redis_save", redis_learner_url, "greeting", "hello")
    finally:
        try:
            admin.ping()
        except redis.RedisError as error:
            damaged(f"the Redis server does not answer: {error}")
        if other.get("grader-sentinel") != b"kept":
            damaged("the grader's key in another logical db is gone")
        if admin.config_get("maxmemory") != maxmemory:
            damaged("the server's settings changed")
        other.delete("grader-sentinel")
    expect_equal(admin.get("greeting"), b"hello", "the value stored under 'greeting'")


def check_no_learner_role_or_database_outlives_its_check(postgres):
    """No learner role and no other check's database is left on the server"""
    with psycopg.connect(postgres.dsn(), autocommit=True, connect_timeout=5) as conn:
        roles = conn.execute("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'labkit_learner_%'").fetchone()[0]
        databases = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'labkit_%' AND datname <> current_database()"
        ).fetchone()[0]
    expect_equal((roles, databases), (0, 0), "learner roles and other databases left on the server")
'''


def with_store_demo(kit: ThrowawayKit) -> ThrowawayKit:
    return kit.lab(
        "store-demo",
        "driver",
        run={"module": "store", "ready_timeout": 20},
        services=("postgres", "redis"),
        stages={"data": Stage(DEMO_STAGE, points=3, timeout=40)},
    )


HIDDEN_CHECK = f'''
def check_hidden_probe():
    """An instructor's private check"""
    secret_input = "{HIDDEN_TOKEN}"  # its name is shown to learners, never its inputs
    assert secret_input
'''


# -- grading a case ---------------------------------------------------------------------------------------------


def substitute(text: str) -> str:
    return text.format(kit=KIT, secret=SECRET, hidden=HIDDEN_TOKEN, neighbour=NEIGHBOUR_TOKEN)


def install(case: HostileCase, target: Path) -> None:
    """Copies the case's program (renaming what the kit keeps under another name) and makes its links."""
    shutil.copytree(case.folder, target, ignore=shutil.ignore_patterns("hostile.toml", "__pycache__"))
    for stored, installed in case.rename.items():
        (target / stored).rename(target / installed)
    for name, link_target in case.links.items():
        (target / name).symlink_to(substitute(link_target))


@dataclass
class Observed:
    """What grading a case gave, and what was left right after it."""

    code: int
    result: dict[str, Any]
    report: str  # everything labkit printed and wrote: what a learner or an instructor could read
    stderr: str
    marked: list[str] = field(default_factory=list)  # processes carrying the run's marker
    recorded: list[str] | None = None  # processes the program recorded (pid_file), still alive
    files: list[str] = field(default_factory=list)  # in the TMPDIR labkit ran with
    containers: list[str] | None = None  # of the run, in --sandbox docker


def run_case(case: HostileCase, mode: str, workdir: Path) -> Observed:
    """Grades ``case`` in ``mode`` inside ``workdir`` and looks for leftovers at once."""
    prefix = f"{RUN_PREFIX}h{hostile_cases().index(case)}{mode[0]}"
    tmpdir = workdir / "tmp"
    tmpdir.mkdir()
    env = {"TMPDIR": str(tmpdir), "LABKIT_RUN_ID_PREFIX": prefix, "LABKIT_TEST_SECRET": SECRET}
    options = ["--seed", "1"] + (["--sandbox", "docker"] if mode == "docker" else [])
    kit = ThrowawayKit(workdir)
    if case.lab == "store-demo":
        env |= with_store_demo(kit).env
        # In the sandbox, services are containers in its network namespace, as an instructor would run them.
        options += ["--services", "docker" if mode == "docker" else "embedded"]
    impl = workdir / "home" / "learner" / "impl"  # deep enough that the program's ../ paths stay in workdir
    if case.grade == "cohort":
        submissions = workdir / "submissions"
        install(case, submissions / "mallory")
        (submissions / ".neighbour").mkdir()
        (submissions / ".neighbour" / "notes.txt").write_text(NEIGHBOUR_TOKEN)
        out = workdir / "results"
        done = run_labkit("cohort", "grade", str(submissions), "--lab", case.lab, "--out", str(out), *options,
                          env=env, timeout=GRADE_TIMEOUT_S)  # fmt: skip
        assert done.returncode == 0, f"the cohort run hit a harness error:\n{done.stdout}{done.stderr}"
        written = (out / "mallory.json").read_text(encoding="utf-8")
        result = json.loads(written)
        observed = Observed(result["exit_code"], result, done.stdout + done.stderr + written, done.stderr)
    else:
        install(case, impl)
        if case.extra_graders:
            private = kit.extra_graders(case.lab, {f"hidden_{case.stage.replace('-', '_')}": HIDDEN_CHECK})
            options += ["--extra-graders", str(private)]
        done = run_labkit("grade", case.lab, "--impl", str(impl), "--stage", case.stage, "--format", "json",
                          *options, env=env, timeout=GRADE_TIMEOUT_S)  # fmt: skip
        assert done.stdout, f"no JSON on stdout; exit {done.returncode}; stderr:\n{done.stderr}"
        observed = Observed(done.returncode, json.loads(done.stdout), done.stdout + done.stderr, done.stderr)
    observed.marked = [f"{p.pid} {' '.join(p.cmdline())}" for p in marked_processes(prefix, prefix=True)]
    if case.pid_file is not None and mode == "process":
        observed.recorded = recorded_processes_alive(impl / case.pid_file)
    observed.files = sorted(str(path.relative_to(tmpdir)) for path in tmpdir.rglob("*"))
    if mode == "docker":
        observed.containers = labelled(prefix)
    return observed


def recorded_processes_alive(pid_file: Path) -> list[str]:
    """The recorded "<pid> <start time>" processes that still run (same start time: not a reused pid)."""
    assert pid_file.exists(), "the program recorded no pid: the case would prove nothing"
    alive = []
    for line in filter(None, pid_file.read_text(encoding="ascii").split("\n")):
        pid, start_time = line.split()
        try:
            stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
        except OSError:
            continue
        name, fields = stat.split("(", 1)[1].rsplit(")", 1)
        if fields.split()[19] == start_time and fields.split()[0] != "Z":
            alive.append(f"{pid} {name}")
    return alive


def unavailable(case: HostileCase, mode: str) -> str | None:
    """Why ``case`` cannot be graded in ``mode`` on this machine, or None."""
    if mode == "process":
        return None
    if case.lab == "store-demo":
        return sandbox_unavailable() or services_unavailable()
    return sandbox_unavailable()


class Observations:
    """Each case graded once, in a small thread pool; ``of`` waits for one case's run, starting it if need be."""

    def __init__(self, pool: ThreadPoolExecutor, folders: pytest.TempPathFactory) -> None:
        self.pool, self.folders = pool, folders
        self.runs: dict[tuple[str, str], Future[Observed]] = {}

    def start(self, case: HostileCase, mode: str) -> Future[Observed]:
        key = (case.name, mode)
        if key not in self.runs:
            self.runs[key] = self.pool.submit(run_case, case, mode, self.folders.mktemp(f"{case.name}-{mode}"))
        return self.runs[key]

    def of(self, case: HostileCase, mode: str) -> Observed:
        return self.start(case, mode).result()


@pytest.fixture(scope="module")
def observations(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observations]:
    """In one process, grades every selected case at once, a few at a time: each run mostly waits (interpreters
    starting, servers initialising), so that takes a fraction of the time one after the other would. A parallel
    worker (pytest-xdist) does not know which of the module's tests it will be given, and the other workers keep
    the cores busy: there each case is graded when its test runs."""
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        runs = Observations(pool, tmp_path_factory)
        if not os.environ.get("PYTEST_XDIST_WORKER"):
            for item in request.session.items:
                callspec = getattr(item, "callspec", None)
                if callspec is None or getattr(item, "module", None) is not request.module:
                    continue
                case, mode = callspec.params["case"], callspec.params["mode"]
                if unavailable(case, mode) is None:
                    runs.start(case, mode)
        yield runs


@pytest.mark.parametrize(("case", "mode"), case_params())
def test_hostile_program_gets_a_clear_verdict_and_leaves_nothing(
    case: HostileCase, mode: str, observations: Observations
) -> None:
    skip_unless_ready(unavailable(case, mode), f"{case.name} in --sandbox {mode}")
    observed = observations.of(case, mode)
    lab = observed.result["labs"][0]
    checks = [check for stage in lab["stages"] for check in stage["checks"]]
    statuses = {stage["slug"]: stage["status"] for stage in lab["stages"]}
    first_failed = next((slug for slug, status in statuses.items() if status not in ("passed", "skipped")), None)

    # A clear verdict: a failed check at the intended stage with the intended message; no harness error, no pass.
    errors = [f"{check['id']}: {check['message']}" for check in checks if check["status"] == "error"]
    assert observed.code == 1, (
        f"{case.description}\nexit {observed.code}: {statuses}\n{observed.stderr}\n{lab.get('error')}\n"
        + "\n".join(errors)
    )
    assert lab.get("error") is None, lab["error"]
    assert first_failed == case.stage, f"caught at {first_failed}, not {case.stage}: {statuses}"
    assert not [check["id"] for check in checks if check["status"] == "error"], "a harness error"
    failed = [check for check in checks if check["status"] in ("failed", "timeout")]
    assert any(case.message in check["message"] for check in failed), [check["message"] for check in failed]
    tails = "\n".join(check.get("stderr_tail") or "" for check in failed)
    for line in case.stderr:
        assert line in tails, f"{line!r} is not in the stderr shown:\n{tails}"
    for text in map(substitute, case.report_lacks):
        assert text not in observed.report, f"the report shows {text!r}"
    if case.grade == "cohort":
        notes = observed.result["cohort"]["notes"]
        assert sorted(note.split(":")[0] for note in notes) == sorted(case.notes), notes

    # Nothing left behind.
    assert observed.marked == [], "processes carrying the run's marker survived"
    assert observed.recorded in (None, []), "processes the program started survived the run"
    assert observed.files == [], "the run left files in TMPDIR"
    assert observed.containers in (None, []), "containers of the run survived"
