"""The online migration as the grader plays it: a populated users table, the old version running in threads, the
learner's three step files applied one statement at a time, and checks of the application between statements.

Threads give real concurrency (locks, row conflicts); the synchronous probe after every statement that leaves no
transaction open makes each intermediate schema state visible to the application deterministically, so a step
that breaks the application even for a moment between two statements is caught every time.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import NoReturn

import psycopg
from psycopg import pq

import lockaudit
from labkit.checks import fail, log
from labkit.services import PostgresEndpoint
from labkit.tools.sql import Statement, first_line, run_script
from pgsession import LOCK_TIMEOUT_S, apply_migrations, connect, deadline, online_step
from workload import Model, Person, Phase, Session, Worker, WorkloadError, joined, random_name

DATASET_USERS = 2000
WORKERS_PER_VERSION = 2
OPS_AFTER_EACH_PHASE = 5
SETTLE_TIMEOUT_S = 10.0
STEP_DEADLINE_S = 20.0


class Rollout:
    """One rollout in one fresh database. Use as a context manager: threads and sessions end with it."""

    def __init__(
        self,
        postgres: PostgresEndpoint,
        postgres_learner: PostgresEndpoint,
        impl_dir: Path,
        rng: random.Random,
        *,
        audit: bool = False,
    ) -> None:
        self.postgres = postgres
        self.postgres_learner = postgres_learner
        self.impl_dir = impl_dir
        self.rng = rng
        self.audit = audit
        self.model = Model()
        self.phase = Phase()
        self.progress = threading.Condition()
        self.workers: dict[str, list[Worker]] = {"old": [], "new": []}
        self.connections: list[psycopg.Connection] = []
        self.findings: list[lockaudit.Finding] = []

    def _connect(
        self, endpoint: PostgresEndpoint, application: str, lock_timeout: float | None = None
    ) -> psycopg.Connection:
        conn = connect(endpoint, application=application, lock_timeout=lock_timeout)
        self.connections.append(conn)
        return conn

    def __enter__(self) -> Rollout:
        try:
            self.admin = self._connect(self.postgres, "labkit-catalog")
            self.migrator = self._connect(self.postgres_learner, "labkit-migration", lock_timeout=LOCK_TIMEOUT_S)
            self.probes = {
                version: Session(self._connect(self.postgres_learner, f"labkit-{version}-probe"), version,
                                 self.model, self.phase, f"{version}-probe", stable=True)
                for version in ("old", "new")
            }  # fmt: skip
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        for version in ("old", "new"):
            self.stop(version, report=False)  # a failure of the check itself is the verdict; never mask it
        for conn in self.connections:
            conn.close()

    # --- setting the scene -------------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Version 1 of the schema (the learner's migrations) with DATASET_USERS users, loaded by COPY."""
        apply_migrations(self.migrator, self.impl_dir)
        people = [(f"member{n}@example.com", random_name(self.rng)) for n in range(1, DATASET_USERS + 1)]
        try:
            with self.migrator.cursor() as cursor, cursor.copy("COPY users (email, full_name) FROM STDIN") as copy:
                for email, name in people:
                    copy.write_row((email, joined(name)))
            rows = self.migrator.execute("SELECT id, email FROM users").fetchall()
        except psycopg.Error as error:
            fail(f"loading {DATASET_USERS} users with COPY users (email, full_name) failed: {error}".strip())
        ids = {email: user_id for user_id, email in rows}
        for email, name in people:
            if email in ids:
                self.model.people[ids[email]] = Person(email, name, "the dataset (before the migration)")
        log(f"loaded {len(rows)} users")
        if self.audit:
            lockaudit.install(self.admin)

    def start(self, version: str) -> None:
        """WORKERS_PER_VERSION sessions of ``version``, each owning a slice of the dataset, running until stopped."""
        dataset = sorted((uid for uid, p in self.model.people.items() if p.email.startswith("member")), key=str)
        for number in range(WORKERS_PER_VERSION):
            slot = len(self.workers["old"]) + len(self.workers["new"])
            owned = dataset[slot :: WORKERS_PER_VERSION * 2][:200]
            session = Session(self._connect(self.postgres_learner, f"labkit-{version}-app"), version, self.model,
                              self.phase, f"{version}{number + 1}", stable=False)  # fmt: skip
            for user_id in owned:
                self.model.people[user_id].stable = False
            worker = Worker(session, owned, random.Random(self.rng.random()), self.progress)
            self.workers[version].append(worker)
            worker.start()
        log(f"started {WORKERS_PER_VERSION} sessions of the {version} version")
        self.settle(version)

    def stop(self, version: str, *, report: bool = True) -> None:
        workers = self.workers[version]
        for worker in workers:
            worker.stopping.set()
        for worker in workers:
            worker.join(timeout=2)
            if worker.is_alive():  # stuck in a statement: cancel it, then wait for the thread
                worker.session.conn.cancel_safe()
                worker.join(timeout=5)
        if report:
            self.raise_errors(version)
        self.workers[version] = []

    def settle(self, version: str) -> None:
        """Waits until every session of ``version`` has completed OPS_AFTER_EACH_PHASE more operations."""
        workers = self.workers[version]
        targets = {worker: worker.ops + OPS_AFTER_EACH_PHASE for worker in workers}
        with self.progress:
            done = self.progress.wait_for(
                lambda: all(w.finished or w.ops >= target for w, target in targets.items()), SETTLE_TIMEOUT_S
            )
        self.raise_errors(version)
        if not done:
            fail(
                f"the {version} version made no progress for {SETTLE_TIMEOUT_S:g} s {self.phase.label}",
                hint="its statements wait for a lock: does a step leave a transaction or a lock behind?",
            )
        log(f"the running sessions of the {version} version went on working {self.phase.label}")

    def raise_errors(self, version: str) -> None:
        for worker in self.workers[version]:
            if worker.error is not None:
                workload_failed(worker.error, background=True)

    # --- the steps ---------------------------------------------------------------------------------------------

    def apply(self, step: str, probe_versions: tuple[str, ...]) -> None:
        """Applies one step file while the running sessions keep working, probing the application between
        statements; then lets every running session complete more operations on the result."""
        script, source = online_step(self.impl_dir, step)
        since = lockaudit.next_xid(self.admin) if self.audit else 0
        self.phase.label = f"while {source} was being applied"
        self.phase.started = True
        statements: list[Statement] = []

        def after_each(statement: Statement, cursor: psycopg.Cursor) -> None:
            statements.append(statement)
            if self.migrator.info.transaction_status != pq.TransactionStatus.IDLE:
                return  # inside the step's own transaction: nothing is visible to the application yet
            where = f"right after {source} line {statement.line} ({statement.first_line})"
            for version in probe_versions:
                self.probe(version, where)

        with deadline(self.migrator, STEP_DEADLINE_S, source):
            run_script(self.migrator, script, source, after_each=after_each, hint=step_hint(step))
        self.phase.label = f"after {source}"
        for version in probe_versions:
            self.probe(version, f"after the whole of {source}")
            if self.workers[version]:
                self.settle(version)
        if self.audit:
            self.collect_findings(source, statements, since)

    def probe(self, version: str, where: str) -> None:
        """One deterministic round of the application: create a user, read it, rename it, read it again."""
        session = self.probes[version]
        saved, self.phase.label = self.phase.label, where
        try:
            user_id = session.create(random_name(self.rng))
            session.read(user_id)
            session.rename(user_id, random_name(self.rng))
            session.read(user_id)
            if version == "new":
                session.find(user_id)
        except WorkloadError as error:
            workload_failed(error)
        finally:
            self.phase.label = saved
        log(f"the {version} version works {where}")

    def cross_check(self) -> None:
        """After the backfill, each version must see what the other one wrote."""
        self.phase.label = "with both versions running (after the backfill)"
        old, new = self.probes["old"], self.probes["new"]
        try:
            by_old = old.create(random_name(self.rng))
            new.read(by_old)
            by_new = new.create(random_name(self.rng))
            old.read(by_new)
            new.rename(by_old, random_name(self.rng))
            old.read(by_old)
            old.rename(by_new, random_name(self.rng))
            new.read(by_new)
            new.find(by_new)
        except WorkloadError as error:
            workload_failed(error)

    def collect_findings(self, source: str, statements: list[Statement], since_xid: int) -> None:
        by_text = {statement.text: statement for statement in reversed(statements)}
        rewritten = False
        for kind, table, mode, tuples, reason, query in lockaudit.worst_per_statement(lockaudit.drain(self.admin)):
            statement = by_text.get((query or "").strip())
            problem, hint = lockaudit.describe(kind, table, mode, tuples, reason)
            rewritten = rewritten or (kind == "rewrite" and table == "users")
            shown = statement.first_line if statement else first_line(query or "?")
            finding = lockaudit.Finding(source, statement.line if statement else None, shown, problem, hint)
            if finding not in self.findings:
                self.findings.append(finding)
        largest = lockaudit.largest_transaction(self.admin, since_xid)
        if largest > lockaudit.BATCH_LIMIT and not rewritten:
            self.findings.append(
                lockaudit.Finding(
                    source,
                    None,
                    "",
                    f"one transaction changed more than {lockaudit.BATCH_LIMIT} rows of users: each row stays "
                    "locked until it commits, so the application's updates of those rows wait for all of them",
                    "update in batches of at most 1000 rows and COMMIT after each (a DO block may COMMIT "
                    "between batches when it does not run inside BEGIN ... COMMIT)",
                )
            )

    # --- the whole story ---------------------------------------------------------------------------------------

    def run(self, *, until: str = "contract") -> None:
        self.prepare()
        self.start("old")
        self.apply("expand.sql", ("old",))
        self.apply("backfill.sql", ("old",))
        if until == "backfill":
            return
        self.cross_check()
        self.start("new")
        self.settle("old")
        self.phase.label = "when the old version was retired"
        self.stop("old")
        self.apply("contract.sql", ("new",))
        self.stop("new")


def workload_failed(error: WorkloadError, *, background: bool = False) -> NoReturn:
    who = " (in one of its sessions running in the background)" if background else ""
    fail(
        f"the {error.version} version of the application failed {error.phase}{who}:\n"
        f"  {error.statement}\n  {error.problem}",
        expected="every statement of the application keeps working and reads back what was written",
        got=error.problem,
        hint=workload_hint(error),
    )


def workload_hint(error: WorkloadError) -> str:
    if error.version == "old" and error.sqlstate in ("42703", "42P01"):
        return (
            "expand and backfill may only add: the old version still reads and writes users.full_name; drop "
            "and rename things in contract.sql, once the old version is gone"
        )
    if error.version == "old" and error.sqlstate == "23502":
        return "a column you add must not demand a value the old version never sends: add it nullable"
    if error.version == "new" and error.sqlstate == "23502" and "contract" not in error.phase:
        return (
            "the new version never writes full_name, which is still NOT NULL while the old version runs: "
            "fill it from first_name and last_name in your BEFORE INSERT trigger"
        )
    if error.version == "new" and "contract" in error.phase and error.sqlstate is not None:
        return (
            "after the contract nothing may still use full_name: drop the sync trigger and its function in the "
            "same transaction as the column"
        )
    if error.sqlstate in ("55P03", "57014"):
        return "the application waited too long for a lock that a step held"
    if error.sqlstate is None:
        return (
            "both versions must always see the same names: a BEFORE INSERT OR UPDATE trigger derives first_name "
            "and last_name from full_name when the old version writes, and full_name from them when the new one does"
        )
    return "the application's statements are in the README; run them yourself against each intermediate schema"


def step_hint(step: str) -> str:
    return {
        "expand.sql": "expand.sql runs while the old version works on users: add columns, functions, triggers",
        "backfill.sql": "backfill.sql fills the new columns of existing rows, in committed batches",
        "contract.sql": "contract.sql runs while only the new version works: drop what only the old version used",
    }[step] + f"; a statement that waits more than {LOCK_TIMEOUT_S:g} s for a lock fails"


def verify_names(admin: psycopg.Connection, model: Model, *, with_full_name: bool) -> None:
    """Every user's columns hold the name last written by either version (the grader's model).

    Examples in the message come from rows whose history does not depend on thread timing whenever possible, so
    the same mistake always reads the same."""
    columns = "first_name, last_name" + (", full_name" if with_full_name else "")
    try:
        rows = admin.execute(f"SELECT id, {columns} FROM users").fetchall()
    except psycopg.Error as error:
        fail(f"SELECT id, {columns} FROM users failed: {(error.diag.message_primary or str(error)).strip()}")
    order = {user_id: number for number, user_id in enumerate(model.people)}
    wrong: dict[str, list[tuple[bool, int, str]]] = {"existing": [], "written": []}
    for user_id, first, last, *full in rows:
        person = model.people.get(user_id)
        if person is None:
            continue
        want = person.name
        got_full = full[0] if full else joined(want)
        if (first, last) != want or got_full != joined(want):
            shown = f"{person.email}: first_name {sql_value(first)}, last_name {sql_value(last)}"
            if full:
                shown += f", full_name {sql_value(got_full)}"
            shown += f" (expected {want[0]!r}, {want[1]!r})"
            group = "written" if person.during else "existing"
            if group == "written":
                shown += f"; last written by {person.written}"
            wrong[group].append((not person.stable, order[user_id], shown))
    # One group only: which rows the application wrote during the migration depends on thread timing, so that
    # group is the verdict only when every row from before the migration is right.
    lines = []
    if wrong["existing"]:
        lines.append("users that existed before the migration, e.g. " + min(wrong["existing"])[2])
    elif wrong["written"]:
        lines.append("users the application wrote during the migration, e.g. " + min(wrong["written"])[2])
    if len(rows) < len(model.people):
        lines.append("some users the application wrote are missing altogether")
    if lines:
        fail(
            "users do not hold the names the application wrote:\n  " + "\n  ".join(lines),
            expected="first_name and last_name split from full_name at the first space, for every user",
            hint=BACKFILL_HINT if wrong["existing"] else TRIGGER_HINT,
        )


def sql_value(value: object) -> str:
    return "NULL" if value is None else repr(value)


BACKFILL_HINT = "backfill.sql must fill first_name and last_name for every row that existed before the trigger"
TRIGGER_HINT = (
    "rows the application writes during the migration need the trigger: it derives first_name and last_name "
    "whenever the old version writes full_name, and full_name whenever the new version writes the parts"
)
