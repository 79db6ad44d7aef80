"""`labkit mutate LAB`: grade single-change mutants of the reference solution and say how many the grader kills.

Each mutant is a copy of ``solutions/<lab>`` with one change (labkit.mutants), graded by ``labkit grade`` in its own
process, several at once, each within a time budget. A mutant is killed (at the first stage that failed), timed
out (the grading did not finish, twice, the second time with twice the budget: a grader with a deadline would not
pass it either), survived (full marks: the grader cannot tell it from the solution), or broke the harness. A
survivor is either a hole in the grader or an equivalent mutant, one no outside observer can tell apart; reviewed
ones are recorded in ``graders/<lab>/mutants.toml`` with the reason, and so are mutants out of reach of a grader
that only sees behaviour (a log message changed, say)::

    [[equivalent]]
    id = "server.py:core/NumberReplacer:1a2b3c4d5e"
    reason = "the backlog of listen() is a hint; 64 and 65 behave alike"

The sensitivity figure is the share of non-equivalent mutants the grader kills or times out.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.catalog import Lab, read_toml
from labkit.errors import LabConfigError
from labkit.mutants import Mutant
from labkit.settings import cache_folder
from labkit.subgrade import grade_all, run_grade

LEDGER_FILE = "mutants.toml"
SUMMARY_FILE = "sensitivity.json"  # the last full run's figures, published in the README
KINDS = ("equivalent", "out_of_reach")


@dataclass(frozen=True)
class Reviewed:
    kind: str  # equivalent: no observer can tell it apart; out_of_reach: only an inside view could
    reason: str


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    verdict: str  # killed, timeout, survived, error, equivalent, out_of_reach
    stage: str | None = None  # the first stage that failed
    check: str | None = None
    detail: str = ""
    seconds: float = 0.0


@dataclass
class MutationReport:
    lab_id: str
    outcomes: list[Outcome] = field(default_factory=list)
    baseline_s: float = 0.0
    elapsed_s: float = 0.0

    def count(self, verdict: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.verdict == verdict)

    @property
    def sensitivity(self) -> float | None:
        return sensitivity(outcome.verdict for outcome in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        counts = {verdict: self.count(verdict) for verdict in
                  ("killed", "timeout", "survived", "equivalent", "out_of_reach", "error")}  # fmt: skip
        return {
            "lab": self.lab_id,
            "mutants": len(self.outcomes),
            **counts,
            "sensitivity": None if self.sensitivity is None else round(self.sensitivity, 4),
            "baseline_s": round(self.baseline_s, 2),
            "elapsed_s": round(self.elapsed_s, 1),
            "outcomes": [
                {"id": o.mutant.id, "verdict": o.verdict, "stage": o.stage, "check": o.check, "detail": o.detail,
                 "line": o.mutant.line, "before": o.mutant.before, "after": o.mutant.after,
                 "seconds": round(o.seconds, 2)}
                for o in self.outcomes
            ],
        }  # fmt: skip


def sensitivity(verdicts: Iterable[str]) -> float | None:
    """Killed and timed-out mutants over all that are neither equivalent nor out of reach nor broken."""
    counted = [verdict for verdict in verdicts if verdict in ("killed", "timeout", "survived")]
    return None if not counted else sum(verdict != "survived" for verdict in counted) / len(counted)


def load_ledger(lab: Lab) -> dict[str, Reviewed]:
    """Reviewed mutants of the lab by id; a malformed ledger is a LabConfigError naming the entry."""
    path = lab.grader_folder / LEDGER_FILE
    if not path.is_file():
        return {}
    data = read_toml(path)
    unknown = set(data) - set(KINDS)
    if unknown:
        raise LabConfigError(f"{path}: unknown tables {sorted(unknown)} (known: {', '.join(KINDS)})")
    reviewed: dict[str, Reviewed] = {}
    for kind in KINDS:
        for number, entry in enumerate(data.get(kind, []), 1):
            where = f"{path} {kind} {number}"
            if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("id", "reason")):
                raise LabConfigError(f"{where}: 'id' and 'reason' strings expected")
            if not entry["reason"].strip():
                raise LabConfigError(f"{where}: the reason must say why, in words")
            reviewed[entry["id"]] = Reviewed(kind, entry["reason"])
    return reviewed


def stale_ledger_entries(lab: Lab, mutants: list[Mutant]) -> list[str]:
    """Ledger ids that match none of today's mutants of the solution: the code they reviewed has changed or gone,
    so the review no longer vouches for anything and the entry should be removed (or the mutant reviewed again)."""
    today = {mutant.id for mutant in mutants}
    return sorted(mutant_id for mutant_id in load_ledger(lab) if mutant_id not in today)


def select(mutants: list[Mutant], sample: int | None, seed: int, only: str | None) -> list[Mutant]:
    chosen = [mutant for mutant in mutants if only is None or only in mutant.id]
    if sample is not None and sample < len(chosen):
        chosen = sorted(random.Random(seed).sample(chosen, sample), key=chosen.index)
    return chosen


class Progress:
    """The verdicts of an unfinished ``--record`` run, kept as each grading ends, so that a run stopped part way
    (Ctrl-C, SIGTERM, a machine that went away) resumes where it stopped instead of grading everything again.

    One JSON line per graded mutant in the cache folder, in a file named by the lab and its fingerprint: a change
    to the grader or the solution starts afresh. Each line holds the seconds its run had taken by then, so the
    figures count the time of every run that graded them."""

    def __init__(self, lab: Lab) -> None:
        self.path = cache_folder() / "mutation" / f"{lab.id}-{fingerprint(lab)}.jsonl"
        self._lock = threading.Lock()
        self._run = f"{time.time_ns()}"

    def load(self) -> tuple[dict[str, tuple[str, str | None]], float]:
        """The verdicts kept so far, and the seconds the runs that graded them took."""
        verdicts: dict[str, tuple[str, str | None]] = {}
        runs: dict[str, float] = {}
        if not self.path.is_file():
            return verdicts, 0.0
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
                verdicts[entry["id"]] = (entry["verdict"], entry["stage"])
                runs[entry["run"]] = max(runs.get(entry["run"], 0.0), float(entry["elapsed_s"]))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short when the run was stopped: that mutant is graded again
        return verdicts, sum(runs.values())

    def keep(self, outcome: Outcome, elapsed_s: float) -> None:
        if outcome.verdict not in ("killed", "timeout", "survived"):
            return  # reviewed, reused or broken: nothing graded to keep
        line = json.dumps({"id": outcome.mutant.id, "verdict": outcome.verdict, "stage": outcome.stage,
                           "run": self._run, "elapsed_s": round(elapsed_s, 1)})  # fmt: skip
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a+b") as kept:
                if kept.seek(0, 2) > 0:
                    kept.seek(-1, 2)
                    if kept.read(1) != b"\n":  # a line a stopped run was writing: start a fresh one after it
                        kept.write(b"\n")  # (append mode writes at the end whatever was read)
                kept.write(line.encode() + b"\n")

    def finish(self) -> None:
        """The run is recorded in full: what was kept for a resumption is no longer needed."""
        self.path.unlink(missing_ok=True)


def run_mutation(
    lab: Lab,
    mutants: list[Mutant],
    *,
    jobs: int,
    seed: int,
    timeout_s: float | None,
    on_done: Callable[[Outcome], None],
    reuse: dict[str, tuple[str, str | None]] | None = None,
    reused_elapsed_s: float = 0.0,
    progress: Progress | None = None,
) -> MutationReport:
    """Grades the solution once (it must earn full marks: the baseline and its time), then every mutant: those
    reviewed in the ledger, and those in ``reuse`` (verdicts recorded on the same grader and solution), are not
    graded again. When any verdict is reused, the run's time adds ``reused_elapsed_s``, that of the recorded run
    that graded them: the figures say how long grading every mutant took, not how long applying a review did.
    With ``progress``, every verdict graded here is kept as soon as it is known."""
    report = MutationReport(lab.id)
    started = time.monotonic()
    baseline = _grade_copy(lab, None, seed, timeout_s or 600.0)
    if baseline.verdict != "survived":
        raise LabConfigError(
            f"the reference solution of {lab.id} does not earn full marks ({baseline.verdict}: {baseline.detail}); "
            "mutation analysis measures a grader against a correct solution"
        )
    report.baseline_s = baseline.seconds
    budget = timeout_s or max(3 * baseline.seconds, baseline.seconds + 30.0)
    ledger = load_ledger(lab)

    def judge(mutant: Mutant) -> Outcome:
        if (reviewed := ledger.get(mutant.id)) is not None:
            return Outcome(mutant, reviewed.kind, detail=reviewed.reason)
        if reuse and mutant.id in reuse:
            verdict, stage = reuse[mutant.id]
            return Outcome(mutant, verdict, stage, detail=REUSED)
        outcome = _grade_copy(lab, mutant, seed, budget)
        # A broken grading (the machine, not the mutant) is no verdict: one more try, then it is reported.
        if outcome.verdict == "error":
            outcome = _grade_copy(lab, mutant, seed, budget)
        # A busy machine can push a grading past the budget: a timeout counts as a kill only when a second
        # grading, with twice the budget, times out too.
        if outcome.verdict == "timeout":
            outcome = _grade_copy(lab, mutant, seed, CONFIRM_FACTOR * budget)
        if progress is not None:
            progress.keep(outcome, time.monotonic() - started)
        return outcome

    report.outcomes = grade_all(mutants, judge, jobs, on_done)
    report.elapsed_s = time.monotonic() - started
    if any(outcome.detail == REUSED for outcome in report.outcomes):
        report.elapsed_s += reused_elapsed_s
    return report


REUSED = "as recorded on this grader and solution"
CONFIRM_FACTOR = 2  # a timed-out mutant is graded again with this many times the budget


def _grade_copy(lab: Lab, mutant: Mutant | None, seed: int, timeout_s: float) -> Outcome:
    """Grades a copy of the solution with ``mutant`` applied (None: as it is); the copy is removed after."""
    placeholder = mutant or Mutant("", "baseline", 0, "", "", "")
    with tempfile.TemporaryDirectory(prefix=f"labkit-mutant-{lab.id}-") as staging:
        impl = Path(staging) / lab.id
        shutil.copytree(lab.solution_folder, impl, ignore=shutil.ignore_patterns("__pycache__"))
        if mutant is not None:
            (impl / mutant.path).write_text(mutant.source, encoding="utf-8")
        artifacts = Path(staging) / "artifacts"
        command = [sys.executable, "-m", "labkit", "grade", lab.id, "--impl", str(impl), "--format", "json",
                   "--seed", str(seed), "--services", "embedded", "--artifacts", str(artifacts)]  # fmt: skip
        began = time.monotonic()
        result, code, failure = run_grade(command, timeout_s)
        seconds = time.monotonic() - began
    if result is None:
        verdict = "timeout" if "longer than" in failure else "error"
        return Outcome(placeholder, verdict, detail=failure, seconds=seconds)
    summary = result["labs"][0]
    if summary.get("error"):
        return Outcome(placeholder, "error", detail=str(summary["error"]), seconds=seconds)
    for stage in summary["stages"]:
        for check in stage["checks"]:
            if check["status"] in ("failed", "timeout", "error"):  # error: the grader broke, not the mutant
                verdict = {"failed": "killed", "timeout": "timeout", "error": "error"}[check["status"]]
                message = (check.get("message") or "").splitlines()[:1]
                return Outcome(placeholder, verdict, stage["slug"], check["id"], message[0] if message else "",
                               seconds)  # fmt: skip
    if code != 0:
        return Outcome(placeholder, "error", detail=f"exit {code} with every check passed", seconds=seconds)
    return Outcome(placeholder, "survived", seconds=seconds)


def fingerprint(lab: Lab) -> str:
    """A digest of everything a mutant's verdict depends on: the lab's grader, its lab.toml and its reference
    solution. Verdicts recorded under another digest are stale. The reviewed-mutant ledger and the trace are left
    out: reviewing a survivor changes how it is counted, not how it was graded."""
    digest = hashlib.sha256()
    files = [lab.folder / "lab.toml", *_files(lab.grader_folder), *_files(lab.solution_folder)]
    root = lab.folder.parent.parent
    for path in files:
        if path.name in (SUMMARY_FILE, LEDGER_FILE, "trace.toml"):
            continue
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def write_summary(lab: Lab, report: MutationReport) -> Path:
    """Records a full run next to the grader: each mutant's graded verdict (reviewed ones as such), the time it
    took, and the fingerprint it was measured at."""
    data = {
        "fingerprint": fingerprint(lab),
        "baseline_s": round(report.baseline_s, 2),
        "elapsed_s": round(report.elapsed_s, 1),
        "verdicts": {o.mutant.id: {"verdict": o.verdict, "stage": o.stage} for o in report.outcomes},
    }
    path = lab.grader_folder / SUMMARY_FILE
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load_summary(lab: Lab) -> dict[str, Any] | None:
    path = lab.grader_folder / SUMMARY_FILE
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def recorded_verdicts(lab: Lab) -> dict[str, str]:
    """The recorded run's verdict of each mutant, with today's ledger applied: a survivor reviewed since counts as
    what the review says; a mutant once reviewed but no longer in the ledger counts as a survivor."""
    summary = load_summary(lab)
    if summary is None:
        return {}
    ledger = load_ledger(lab)
    verdicts = {}
    for mutant_id, entry in summary["verdicts"].items():
        verdict = entry["verdict"]
        if mutant_id in ledger:
            verdict = ledger[mutant_id].kind
        elif verdict in KINDS:
            verdict = "survived"
        verdicts[mutant_id] = verdict
    return verdicts


def reusable_outcomes(lab: Lab) -> dict[str, tuple[str, str | None]]:
    """Graded verdicts of the recorded run, when it was measured on today's grader and solution: a new run need
    not grade those mutants again."""
    summary = load_summary(lab)
    if summary is None or summary.get("fingerprint") != fingerprint(lab):
        return {}
    return {mutant_id: (entry["verdict"], entry.get("stage")) for mutant_id, entry in summary["verdicts"].items()
            if entry["verdict"] in ("killed", "timeout", "survived")}  # fmt: skip
