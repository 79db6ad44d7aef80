"""`labkit services up`: the query-tuning playground serves the grader's full dataset to the learner's role at the
URL it prints, a lab's query can be explained there, and SIGTERM removes servers, data and scratch folders."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from labkit.playground import connect_hints
from labkit.services import PlaygroundData
from support import KIT, RUN_PREFIX, LineReader, run_labkit

DEADLINE_S = 300.0  # PostgreSQL's start and a million rows loaded on a loaded two-core machine


@pytest.fixture
def scratch() -> Iterator[Path]:
    """The playground's TMPDIR, outside pytest's private temp folder: embedded PostgreSQL runs as another user."""
    folder = Path(tempfile.mkdtemp(prefix="lktest-playground-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_query_tuning_playground_serves_the_dataset_and_leaves_nothing(scratch: Path) -> None:
    env = {**os.environ, "COLUMNS": "200", "LABKIT_RUN_ID_PREFIX": RUN_PREFIX, "TMPDIR": str(scratch)}
    process = subprocess.Popen(
        [sys.executable, "-m", "labkit", "services", "up", "query-tuning", "--services", "embedded", "--no-shell"],
        cwd=KIT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        output = LineReader(process)
        shown = output.wait_for("Ctrl-C stops the servers", DEADLINE_S)
        url = next(match.group(1) for line in shown if (match := re.search(r"DATABASE_URL=(\S+)", line)))
        family = psutil.Process(process.pid).children(recursive=True)

        query = (KIT / "solutions" / "query-tuning" / "queries" / "orders_on_day.sql").read_text()
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            assert conn.execute("SELECT count(*) FROM orders").fetchone() == (1_000_000,)
            assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (False,)
            assert conn.execute("SHOW max_parallel_workers_per_gather").fetchone() == ("0",), "the grader's settings"
            conn.execute(f"PREPARE orders_on_day(date) AS {query}")
            plan = [row[0] for row in conn.execute("EXPLAIN EXECUTE orders_on_day('2024-03-01')").fetchall()]
        assert any("orders" in line for line in plan), plan

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=120) == 0
        output.wait_for("servers and their data are removed", 30)
        _, alive = psutil.wait_procs(family, timeout=30)
        assert not alive, f"outlived the playground: {[p.cmdline() for p in alive]}"
        assert list(scratch.iterdir()) == [], "a scratch folder outlived the playground"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_lab_without_services_has_no_playground() -> None:
    done = run_labkit("services", "up", "tcp-kv")
    assert done.returncode == 2 and "uses no services" in done.stderr and "query-tuning" in done.stderr


def test_connect_hints_name_a_client_for_every_url() -> None:
    data = PlaygroundData({"DATABASE_URL": "postgresql://u:p@127.0.0.1:5/d", "REDIS_URL": "redis://u:p@127.0.0.1:6/0"})
    hints = connect_hints(data)
    assert len(hints) == 2
    assert "postgresql://u:p@127.0.0.1:5/d" in hints[0] and "redis://u:p@127.0.0.1:6/0" in hints[1]
