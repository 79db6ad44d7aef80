"""One run of the learner's client against the upstream, and the checks of its output every stage shares."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jobs import Job, Knobs, expected_lines
from labkit.checks import fail, log
from labkit.learners import ClientResult
from upstream import Attempt, Burst, Gate, Record, Upstream

RunClient = Callable[..., ClientResult]


@dataclass(frozen=True)
class Run:
    jobs: tuple[Job, ...]
    knobs: Knobs
    result: ClientResult
    record: Record

    def attempts_of(self, path: str) -> list[Attempt]:
        return [attempt for attempt in self.record.attempts if attempt.path == path]

    @property
    def lines(self) -> list[str]:
        return self.result.stdout.decode(errors="replace").splitlines()

    def expect_finished(self) -> None:
        if self.result.timed_out:
            fail(
                f"your program {self.result.outcome}",
                expected="every job's result line, then exit status 0",
                hint="an attempt the upstream never answers must end after TIMEOUT_MS, and a job is retried at most "
                "RETRIES times: is there a timeout on every attempt, and a budget on retries?",
            )
        self.result.expect_exit(0)
        if self.record.jobs_fetched == 0:
            fail(
                "your program never sent GET /jobs to the upstream",
                hint="UPSTREAM is the base URL, e.g. http://127.0.0.1:41234; the job list is at /jobs",
            )
        if self.record.malformed:
            fail(
                "the upstream could not parse a request of yours",
                got=self.record.malformed[0],
                hint="send HTTP/1.1 requests with a Host header; a POST carries Content-Length: 0",
            )
        if self.record.unframed_posts:
            fail(
                "your program sent a POST that does not say it has no body",
                expected="Content-Length: 0 on every POST, and no body",
                got=self.record.unframed_posts[0],
                hint="a POST without Content-Length leaves the server to guess where its body ends: send the header "
                "Content-Length: 0 with every POST",
            )

    def expect_results(self) -> None:
        """Exit status 0 and exactly the README's result lines, in job-list order."""
        self.expect_finished()
        expect_lines(self.lines, expected_lines(self.jobs, self.knobs), self.result.stdout.endswith(b"\n"))


def expect_lines(got: Sequence[str], expected: Sequence[str], ends_with_newline: bool, *, preface: str = "") -> None:
    """``preface`` starts the message (e.g. how the program ended, when the grader stopped it on purpose)."""
    if list(got) == list(expected):
        if expected and not ends_with_newline:
            fail(f"{preface}your last result line has no newline", hint="every line ends with \\n, the last one too")
        return
    hint = "one line per job: METHOD PATH OUTCOME, in the order of the job list"
    headline = f"your result lines differ from the spec's at line {{}} of {len(expected)}"
    if sorted(got) == sorted(expected):
        # Which line comes first out of place depends on timing: the headline says what is wrong, not where.
        headline = "your result lines are right, but not in the order of the job list"
        hint = "print the lines in the order of the job list once every job is done, not as jobs finish"
    elif len(got) != len(expected):
        hint = f"{len(expected)} jobs make {len(expected)} lines; standard output carries nothing else"
    index = next(
        (i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b), min(len(got), len(expected))
    )
    fail(
        preface + headline.format(index + 1),
        expected=expected[index] if index < len(expected) else "no more lines",
        got=got[index] if index < len(got) else "no more lines",
        hint=hint,
    )


def run_jobs(
    run_client: RunClient,
    upstream: Upstream,
    jobs: Sequence[Job],
    knobs: Knobs,
    *,
    deadline: float,
    extra_env: dict[str, str] | None = None,
    gate: Gate | None = None,
    burst: Burst | None = None,
) -> Run:
    """Runs the learner's client to completion (or ``deadline`` seconds) against ``jobs``."""
    upstream.load(jobs, gate, burst)
    log(
        f"{len(jobs)} jobs, LIMIT={knobs.limit} TIMEOUT_MS={knobs.timeout_ms} RETRIES={knobs.retries} "
        f"BACKOFF_MS={knobs.backoff_ms} ROUNDS={knobs.rounds} WORKERS={knobs.workers}"
    )
    result = run_client(env={**knobs.env(upstream.url), **(extra_env or {})}, timeout=deadline)
    return Run(tuple(jobs), knobs, result, upstream.snapshot())
