"""The concurrency lab's spec stays true to itself and its upstream counts what the checks rely on: the README's
worked example is what the grader's own rules print, the slot arithmetic tells batches from busy slots, the
upstream (real HTTP on loopback) counts attempts in flight, numbers retries, sees an abandoned connection, hangs up
on one, notes a POST without Content-Length: 0 and answers in bursts, the backoff's median rule tells doubling from
tripling, and the switch hook makes an unguarded update from threads lose updates."""

from __future__ import annotations

import http.client
import random
import re
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from support import KIT

LAB = KIT / "labs" / "concurrency"
GRADER = KIT / "graders" / "concurrency"
HELPERS = ("jobs", "upstream", "backoff")


@pytest.fixture(scope="module")
def grader() -> Iterator[tuple[ModuleType, ModuleType]]:
    """The lab's helper modules, imported as its stages import them, and forgotten afterwards."""
    sys.path.insert(0, str(GRADER))
    try:
        import jobs
        import upstream

        yield jobs, upstream
    finally:
        sys.path.remove(str(GRADER))
        for name in HELPERS:
            sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def backoff(grader: tuple[ModuleType, ModuleType]) -> ModuleType:
    """The retries stage's backoff rule (it imports the upstream, so it comes with the other helpers)."""
    import backoff

    return backoff


def example_blocks() -> list[list[str]]:
    return [block.strip().splitlines() for block in re.findall(r"```\n(.*?)```", example_section_text(), re.S)]


def test_the_worked_example_is_what_the_rules_print(grader: tuple[ModuleType, ModuleType]) -> None:
    jobs, _ = grader
    job_list, output = example_blocks()
    reply = jobs.Reply
    answers = {
        "/doc/amber": (reply(200, "amber-7f3a", delay=0.3),),
        "/doc/basil": (reply(503, "busy", retry_after=1), reply(200, "basil-91c2")),
        "/orders/cedar": (reply(503, "busy"),),
        "/doc/dune": (reply(404, "no"),),
        "/doc/ember": (reply(blackhole=True),),
    }
    listed = [line.split(" ") for line in job_list]
    example = [jobs.Job(method, path, answers[path]) for method, path in listed]
    knobs = jobs.Knobs(limit=2, timeout_ms=1000, retries=2, backoff_ms=200, rounds=1)
    assert jobs.expected_lines(example, knobs) == output
    rounds_2 = re.search(r"With `ROUNDS=2` amber's digest would be\s+`([0-9a-f]{64})`", example_section_text())
    assert rounds_2 is not None and rounds_2.group(1) == jobs.digest("amber-7f3a", 2)


def example_section_text() -> str:
    return (LAB / "README.md").read_text(encoding="utf-8").split("## Worked example")[1].split("## Stages")[0]


def test_retry_budget_and_outcomes_follow_the_rules(grader: tuple[ModuleType, ModuleType]) -> None:
    jobs, _ = grader
    reply, knobs = jobs.Reply, jobs.Knobs(retries=2)
    flaky = jobs.Job("GET", "/a", (reply(503), reply(500), reply(200, "ok")))
    too_flaky = jobs.Job("GET", "/b", (reply(503), reply(502), reply(504), reply(200, "late")))
    post = jobs.Job("POST", "/c", (reply(503), reply(200, "ok")))
    not_found = jobs.Job("GET", "/d", (reply(404),))
    hung_up = jobs.Job("GET", "/e", (reply(0, hang_up="reset"), reply(200, "never sent")))
    work = (flaky, too_flaky, post, not_found, hung_up)
    assert [jobs.attempts_expected(job, knobs) for job in work] == [3, 3, 1, 1, 1]
    assert [jobs.outcome(job, knobs).split(" ")[:2] for job in work] == [
        ["OK", "ok"],
        ["FAILED", "504"],
        ["FAILED", "503"],
        ["FAILED", "404"],
        ["FAILED", "0"],
    ]


@pytest.fixture
def server(grader: tuple[ModuleType, ModuleType]) -> Iterator[Any]:
    _, upstream = grader
    running = upstream.Upstream().start()
    yield running
    running.close()


def get(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, headers={"Content-Length": "0"} if method == "POST" else {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_the_upstream_counts_attempts_in_flight(grader: tuple[ModuleType, ModuleType], server: Any) -> None:
    jobs, _ = grader
    work = [jobs.Job("GET", f"/doc/{i}", (jobs.Reply(200, f"body-{i}", delay=0.3),)) for i in range(8)]
    server.load(work)
    port = server.server_address[1]
    status, _, listing = get(port, "/jobs")
    assert status == 200 and listing.decode().splitlines() == [job.line for job in work]
    answers: list[bytes] = []
    threads = [threading.Thread(target=lambda j=job: answers.append(get(port, j.path)[2])) for job in work[:5]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    record = server.snapshot()
    assert sorted(answers) == sorted(f"body-{i}".encode() for i in range(5))
    assert (record.peak, record.in_flight, record.jobs_fetched) == (5, 0, 1)
    assert all(
        attempt.answered is not None and attempt.answered - attempt.arrived >= 0.3 for attempt in record.attempts
    )


def test_the_upstream_queues_a_burst_of_connections_before_it_accepts_one(
    grader: tuple[ModuleType, ModuleType],
) -> None:
    """A client that connects LIMIT times at once (16 in shared-state) finds every connection queued: with a short
    listen backlog the kernel drops the SYNs beyond it, and the client sends them again only a second later."""
    _, upstream = grader
    idle = upstream.Upstream()  # listening, its accept loop not started
    clients = [socket.socket() for _ in range(32)]
    try:
        for client in clients:
            client.setblocking(False)
            client.connect_ex(idle.server_address)
        connected: set[socket.socket] = set()
        deadline = time.monotonic() + 5.0
        while len(connected) < len(clients) and time.monotonic() < deadline:
            _, writable, _ = select.select([], [c for c in clients if c not in connected], [], 0.1)
            connected.update(c for c in writable if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
        assert len(connected) == len(clients)
    finally:
        for client in clients:
            client.close()
        idle.server_close()


def test_the_upstream_numbers_retries_and_sees_an_abandoned_attempt(
    grader: tuple[ModuleType, ModuleType], server: Any
) -> None:
    jobs, _ = grader
    reply = jobs.Reply
    flaky = jobs.Job("GET", "/doc/flaky", (reply(503, "busy", retry_after=1), reply(200, "fine")))
    hole = jobs.Job("GET", "/doc/hole", (reply(blackhole=True),))
    server.load([flaky, hole])
    port = server.server_address[1]
    status, headers, _ = get(port, flaky.path)
    assert (status, headers["retry-after"]) == (503, "1")
    assert get(port, flaky.path)[:1] == (200,)
    assert get(port, "/doc/unknown")[0] == 404
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(b"GET /doc/hole HTTP/1.1\r\nHost: x\r\n\r\n")
        deadline = time.monotonic() + 5
        while not server.attempts_of(hole.path) and time.monotonic() < deadline:
            time.sleep(0.01)
        connection.settimeout(0.3)
        with pytest.raises(TimeoutError):
            connection.recv(1)  # a black hole answers nothing
    deadline = time.monotonic() + 5
    while server.attempts_of(hole.path)[0].closed is None and time.monotonic() < deadline:
        time.sleep(0.01)
    record = server.snapshot()
    assert [(a.path, a.number, a.status) for a in record.attempts] == [
        (flaky.path, 0, 503),
        (flaky.path, 1, 200),
        (hole.path, 0, None),
    ]
    assert record.attempts[2].closed is not None and record.attempts[2].answered is None
    assert record.unknown == ["GET /doc/unknown"] and record.in_flight == 0


def fetch_together(port: int, paths: list[str]) -> list[bytes]:
    answers: list[bytes] = []
    threads = [threading.Thread(target=lambda p=path: answers.append(get(port, p)[2])) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return answers


@pytest.mark.parametrize("sent", [2, 3, 5])
def test_the_gate_holds_the_first_answers_until_the_client_shows_its_limit(
    grader: tuple[ModuleType, ModuleType], server: Any, sent: int
) -> None:
    jobs, upstream = grader
    work = [jobs.Job("GET", f"/doc/{i}", (jobs.Reply(200, f"body-{i}"),)) for i in range(8)]
    server.load(work, upstream.Gate(limit=3, quiet=0.5, quiet_below=0.5))
    answers = fetch_together(server.server_address[1], [job.path for job in work[:sent]])
    record = server.snapshot()
    assert sorted(answers) == sorted(f"body-{i}".encode() for i in range(sent))
    # Up to the limit, every attempt sent together is in flight before the first answer; one more opens the gate.
    first_answer = min(attempt.answered for attempt in record.attempts)
    before_first_answer = sum(attempt.arrived < first_answer for attempt in record.attempts)
    if sent <= 3:
        assert record.peak == before_first_answer == sent
    else:
        assert 3 < record.peak <= sent and before_first_answer > 3


def test_a_held_answer_waits_until_every_other_job_has_started(
    grader: tuple[ModuleType, ModuleType], server: Any
) -> None:
    jobs, _ = grader
    held = jobs.Job("GET", "/doc/held", (jobs.Reply(200, "late", held=True),))
    others = [jobs.Job("GET", f"/doc/{i}", (jobs.Reply(200, f"body-{i}"),)) for i in range(4)]
    server.load([held, *others])
    port = server.server_address[1]
    waiting = threading.Thread(target=lambda: get(port, held.path))
    waiting.start()
    deadline = time.monotonic() + 5
    while not server.attempts_of(held.path) and time.monotonic() < deadline:
        time.sleep(0.01)
    for job in others:
        assert get(port, job.path)[0] == 200, "the other jobs are answered while the held one waits"
    waiting.join(timeout=10)
    (attempt,) = server.attempts_of(held.path)
    last_other = max(seen.arrived for seen in server.snapshot().attempts if seen.path != held.path)
    assert attempt.answered is not None and attempt.answered > last_other


def test_a_burst_is_answered_once_limit_attempts_are_in_flight(
    grader: tuple[ModuleType, ModuleType], server: Any
) -> None:
    jobs, upstream = grader
    work = [jobs.Job("GET", f"/doc/{i}", (jobs.Reply(200, f"body-{i}"),)) for i in range(4)]
    server.load(work, burst=upstream.Burst(limit=4, quiet=30.0, longest=30.0))
    port = server.server_address[1]
    answers: list[bytes] = []
    first = [threading.Thread(target=lambda p=job.path: answers.append(get(port, p)[2])) for job in work[:3]]
    for thread in first:
        thread.start()
    deadline = time.monotonic() + 10
    while len(server.snapshot().attempts) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # a burst that released early would have answered by now
    assert answers == [] and server.snapshot().in_flight == 3
    assert get(port, work[3].path)[2] == b"body-3"
    for thread in first:
        thread.join(timeout=10)
    record = server.snapshot()
    fourth = next(attempt for attempt in record.attempts if attempt.path == work[3].path)
    assert sorted(answers) == [b"body-0", b"body-1", b"body-2"]
    assert all(attempt.answered is not None and attempt.answered >= fourth.arrived for attempt in record.attempts)


def test_a_burst_that_does_not_fill_is_answered_after_its_quiet_time(
    grader: tuple[ModuleType, ModuleType], server: Any
) -> None:
    jobs, upstream = grader
    work = [jobs.Job("GET", f"/doc/{i}", (jobs.Reply(200, f"body-{i}"),)) for i in range(4)]
    server.load(work, burst=upstream.Burst(limit=4, quiet=0.2, longest=30.0))
    answers = fetch_together(server.server_address[1], [job.path for job in work[:2]])
    record = server.snapshot()
    assert sorted(answers) == [b"body-0", b"body-1"]
    last_arrival = max(attempt.arrived for attempt in record.attempts)
    assert all(attempt.answered is not None and attempt.answered - last_arrival >= 0.2 for attempt in record.attempts)


COUNTER = """
import sys, threading

total = 0
lock = threading.Lock()
start = threading.Barrier(8)

def add() -> None:
    global total
    start.wait()
    for _ in range(200):
        if sys.argv[1] == "lock":
            with lock:
                total += 1
        else:
            total += 1

threads = [threading.Thread(target=add) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(total)
"""


def count_with_the_hook(tmp_path: Path, guard: str) -> int:
    hook, program = tmp_path / "hook", tmp_path / "program"
    hook.mkdir(exist_ok=True)
    program.mkdir(exist_ok=True)
    shutil.copyfile(GRADER / "switch_hook.py", hook / "sitecustomize.py")
    (program / "count.py").write_text(COUNTER)
    done = subprocess.run(
        [sys.executable, "count.py", guard],
        cwd=program,
        env={"PYTHONPATH": str(hook), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        timeout=120,
        check=True,
    )
    return int(done.stdout)


def test_the_switch_hook_makes_an_unguarded_update_lose_updates_every_time(tmp_path: Path) -> None:
    assert [count_with_the_hook(tmp_path, "none") < 1600 for _ in range(3)] == [True, True, True]
    assert count_with_the_hook(tmp_path, "lock") == 1600


def test_the_switch_hook_traces_the_programs_own_files_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(GRADER))
    try:
        import switch_hook
    finally:
        sys.path.remove(str(GRADER))
        sys.modules.pop("switch_hook", None)
    monkeypatch.setattr(switch_hook, "PROGRAM_FOLDER", f"{tmp_path}/")
    assert switch_hook.is_programs(str(tmp_path / "client.py"))
    assert switch_hook.is_programs(str(tmp_path / "lib" / "tally.py"))
    assert not switch_hook.is_programs(str(tmp_path / ".venv/lib/python3.11/site-packages/h11/_util.py"))
    assert not switch_hook.is_programs(http.client.__file__)
    assert not switch_hook.is_programs(f"{tmp_path}-other/client.py")


def send_raw(port: int, request: bytes) -> bytes | type[OSError]:
    """What a client reads after sending ``request``: the bytes until the upstream closed, or the error it raised."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request)
        received = b""
        try:
            while chunk := connection.recv(4096):
                received += chunk
        except OSError as error:
            return type(error)
        return received


def test_the_upstream_hangs_up_without_an_answer(grader: tuple[ModuleType, ModuleType], server: Any) -> None:
    jobs, _ = grader
    closes = jobs.Job("GET", "/doc/closes", (jobs.Reply(0, delay=0.05, hang_up="close"),))
    resets = jobs.Job("GET", "/doc/resets", (jobs.Reply(0, delay=0.05, hang_up="reset"),))
    server.load([closes, resets])
    port = server.server_address[1]
    assert send_raw(port, b"GET /doc/closes HTTP/1.1\r\nHost: x\r\n\r\n") == b""
    assert send_raw(port, b"GET /doc/resets HTTP/1.1\r\nHost: x\r\n\r\n") is ConnectionResetError
    record = server.snapshot()
    assert [(a.path, a.status, a.answered) for a in record.attempts] == [
        (closes.path, None, None),
        (resets.path, None, None),
    ]
    assert all(a.closed is not None for a in record.attempts) and record.in_flight == 0


def test_the_upstream_notes_a_post_without_content_length_zero(
    grader: tuple[ModuleType, ModuleType], server: Any
) -> None:
    jobs, _ = grader
    orders = [jobs.Job("POST", f"/orders/{i}", (jobs.Reply(200, f"done-{i}"),)) for i in range(3)]
    server.load(orders)
    port = server.server_address[1]
    framed = send_raw(port, b"POST /orders/0 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    bare = send_raw(port, b"POST /orders/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    body = send_raw(port, b"POST /orders/2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
    assert all(isinstance(answer, bytes) and answer.startswith(b"HTTP/1.1 200") for answer in (framed, bare, body))
    assert server.snapshot().unframed_posts == [
        "POST /orders/1 with no Content-Length",
        "POST /orders/2 with Content-Length: 2",
    ]


def test_the_median_rule_tells_doubling_from_tripling(backoff: ModuleType) -> None:
    """Waits drawn as the README says pass, one stalled wait too; a backoff that triples does not, at the retry it
    overshoots most; a machine that stalled every wait at once does too (the check then makes its run again)."""
    rng = random.Random(7)

    def draws(growth: float, stall: float = 0.0) -> dict[int, list[float]]:
        return {k: [rng.uniform(0.05, 0.1) * growth ** (k - 1) + stall for _ in range(6)] for k in range(1, 5)}

    for _ in range(200):
        assert backoff.median_overshoot(draws(2.0), 100) is None
        tripled = backoff.median_overshoot(draws(3.0), 100)
        assert tripled is not None and tripled.retry == 4 and tripled.median >= 1.35
    one_late = draws(2.0)
    one_late[4][0] += 2.0
    assert backoff.median_overshoot(one_late, 100) is None
    assert backoff.median_overshoot(draws(2.0, stall=1.0), 100) is not None


def test_waits_run_from_each_answer_to_the_next_arrival(
    grader: tuple[ModuleType, ModuleType], backoff: ModuleType
) -> None:
    _, upstream = grader
    attempt = upstream.Attempt
    chain = [
        attempt("GET", "/a", 0, 0.0, answered=0.1),
        attempt("GET", "/a", 1, 0.2, answered=0.3),
        attempt("GET", "/a", 2, 0.7),
    ]
    other = [attempt("GET", "/b", 0, 0.0, answered=0.05), attempt("GET", "/b", 1, 0.15)]
    by_retry = backoff.waits_by_retry([chain, other])
    assert {k: [round(w, 3) for w in waits] for k, waits in by_retry.items()} == {1: [0.1, 0.1], 2: [0.4]}
