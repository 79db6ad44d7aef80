"""Hostile programs in `--sandbox docker`: each gets a clear verdict, and nothing reaches the host.

Each program does its mischief, reports on stderr what the sandbox let it do, and never becomes ready, so the
connect check fails and its verdict carries that stderr. The network test aims only at a container this test
starts itself and at the host's loopback.
"""

from __future__ import annotations

import json
import socket
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_docker_grading import labelled
from test_sandbox_support import sandbox_unavailable, skip_unless_ready

from labkit.containers import engine, run_labels
from labkit.sandbox import sandbox_image
from support import RUN_PREFIX, run_labkit

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPORTER = """
import errno, os, socket, sys, time

def attempt(label, action):
    try:
        action()
        outcome = "allowed"
    except OSError as error:
        outcome = errno.errorcode.get(error.errno, str(error))
    print(f"{label}: {outcome}", file=sys.stderr, flush=True)
"""


@pytest.fixture(autouse=True)
def _needs_sandbox() -> None:
    skip_unless_ready(sandbox_unavailable(), "--sandbox docker")


def connect_verdict(tmp_path: Path, program: str, name: str) -> dict[str, Any]:
    """Grades ``program`` as a tcp-kv server up to the connect stage; returns the first failing check."""
    impl = tmp_path / "impl"
    impl.mkdir()
    (impl / "server.py").write_text(REPORTER + textwrap.dedent(program))
    prefix = f"{RUN_PREFIX}{name}"
    done = run_labkit(
        "grade", "tcp-kv", "--impl", str(impl), "--stage", "connect", "--sandbox", "docker", "--format", "json",
        env={"LABKIT_RUN_ID_PREFIX": prefix},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    checks = json.loads(done.stdout)["labs"][0]["stages"][0]["checks"]
    assert labelled(prefix) == [], "every container of the run is removed"
    failed: dict[str, Any] = next(check for check in checks if check["status"] == "failed")
    return failed


def test_unprivileged_read_only_outside_its_tmpfs(tmp_path: Path) -> None:
    check = connect_verdict(
        tmp_path,
        """
        print(f"uid={os.getuid()} gid={os.getgid()}", file=sys.stderr)
        attempt("write submission", lambda: open("/submission/planted.txt", "w").write("x"))
        attempt("write etc", lambda: open("/etc/planted", "w").write("x"))
        attempt("write root", lambda: open("/planted", "w").write("x"))
        attempt("write tmp", lambda: open("/tmp/scratch", "w").write("x"))
        attempt("setuid root", lambda: os.setuid(0))
        sys.exit(3)
        """,
        "fs",
    )
    tail = check["stderr_tail"]
    assert "exited with code 3 before it was ready" in check["message"]
    assert "uid=10001 gid=10001" in tail
    for refused in ("write submission", "write etc", "write root", "setuid root"):
        assert f"{refused}: allowed" not in tail and f"{refused}: E" in tail, tail
    assert "write tmp: allowed" in tail
    assert not (tmp_path / "impl" / "planted.txt").exists()


def _accepts(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def decoy() -> Iterator[tuple[str, int]]:
    """A server in a container of this test's own on Docker's default network: reachable from the host, so
    only the sandbox can be what keeps the learner's program from it."""
    client = engine()
    container = client.containers.run(
        sandbox_image(), ["--pipes", "--", "python3", "-m", "http.server", "8000"], detach=True,
        labels=run_labels(f"{RUN_PREFIX}decoy"),
    )  # fmt: skip
    try:
        container.reload()
        address = container.attrs["NetworkSettings"]["IPAddress"]
        deadline = time.monotonic() + 20
        while not _accepts(address, 8000):  # the host reaches it, once it listens
            assert time.monotonic() < deadline, "the decoy server never started"
            time.sleep(0.05)
        yield address, 8000
    finally:
        container.remove(force=True, v=True)
        client.close()


def test_no_route_off_its_loopback(tmp_path: Path, decoy: tuple[str, int]) -> None:
    with socket.socket() as host_listener:
        host_listener.bind(("127.0.0.1", 0))
        host_listener.listen()
        host_port = host_listener.getsockname()[1]
        check = connect_verdict(
            tmp_path,
            f"""
            interfaces = [line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:]]
            print("interfaces=" + ",".join(sorted(interfaces)), file=sys.stderr)
            attempt("decoy", lambda: socket.create_connection(("{decoy[0]}", {decoy[1]}), timeout=3))
            attempt("host loopback", lambda: socket.create_connection(("127.0.0.1", {host_port}), timeout=3))
            sys.exit(3)
            """,
            "net",
        )
    tail = check["stderr_tail"]
    assert "interfaces=lo" in tail
    assert "decoy: ENETUNREACH" in tail
    assert "host loopback: ECONNREFUSED" in tail, "its loopback is the sandbox's, not the host's"


def test_fork_bomb_hits_the_process_limit_and_is_reported(tmp_path: Path) -> None:
    check = connect_verdict(
        tmp_path,
        """
        started = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(600)
                    os._exit(0)
                started += 1
        except OSError as error:
            print(f"fork refused after {started}: {error}", file=sys.stderr, flush=True)
        time.sleep(600)
        """,
        "fork",
    )
    assert "did not accept connections" in check["message"]
    assert "fork refused after" in check["stderr_tail"]
    assert "[sandbox] process limit reached" in check["stderr_tail"]


def test_ten_gigabyte_allocation_is_refused(tmp_path: Path) -> None:
    check = connect_verdict(
        tmp_path,
        """
        hoard = bytearray(10 * 1024**3)
        """,
        "mem",
    )
    assert "exited with code 1 before it was ready" in check["message"]
    assert "MemoryError" in check["stderr_tail"]
