"""The concurrency lab's spec stays true to itself and its upstream counts what the checks rely on: the README's
worked example is what the grader's own rules print, the slot arithmetic tells batches from busy slots, and the
upstream (real HTTP on loopback) counts attempts in flight, numbers retries and sees an abandoned connection."""

from __future__ import annotations

import http.client
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from support import KIT

LAB = KIT / "labs" / "concurrency"
GRADER = KIT / "graders" / "concurrency"
HELPERS = ("jobs", "upstream")


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
    assert [jobs.attempts_expected(job, knobs) for job in (flaky, too_flaky, post, not_found)] == [3, 3, 1, 1]
    assert [jobs.outcome(job, knobs).split(" ")[:2] for job in (flaky, too_flaky, post, not_found)] == [
        ["OK", "ok"],
        ["FAILED", "504"],
        ["FAILED", "503"],
        ["FAILED", "404"],
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
