"""Prints the wall time of grading every lab's reference solution (median of N runs, embedded services), and with
--against REF the same for a temporary checkout of REF, with the ratio new/old per lab.

    python tests/bench/bench_labs.py [--runs N] [LAB ...]                   this checkout only
    python tests/bench/bench_labs.py --against HEAD~1 --runs 3 [LAB ...]    this checkout (new) against HEAD~1 (old)

The two sides are graded in turn (new, old, new, old, ...) so the machine's noise falls on both alike. A lab is
"slower" only when its median grows by more than SLOWER_RATIO and by more than SLOWER_MARGIN_S: a short lab's
jitter is no slowdown. The exit status is 0 whatever the times (numbers to read, not a timed test), 1 when a
solution misses full marks, 2 for a ref or lab that does not exist.

Both sides run on this venv's interpreter and packages, nothing installed: each through an empty venv whose
site-packages lists its checkout's graders/ first, then this venv's. PYTHONPATH would not do: labkit scrubs it
from the grader's pytest process, which would then run this checkout's labkit on the other checkout's labs.
"""

from __future__ import annotations

import argparse
import os
import signal
import site
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from labkit.engine import interruptible

KIT = Path(__file__).resolve().parents[2]
SLOWER_RATIO = 1.25
SLOWER_MARGIN_S = 0.5
STOP_GRACE_S = 60.0  # after SIGINT, labkit itself waits up to 30 s for its grader's teardown
T = TypeVar("T")


class BenchError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Side:
    name: str  # "new" (this checkout) or "old" (the --against checkout)
    root: Path  # a kit checkout: labs/, solutions/, graders/
    python: Path  # imports labkit from root/graders, see the module's docstring


@dataclass(frozen=True)
class Row:
    lab: str
    new: list[float] | None  # seconds per run; None: the lab is not on that side
    old: list[float] | None


def interleaved(sides: Sequence[T], runs: int) -> list[T]:
    """The grading order: every side once in turn, `runs` times over."""
    return [side for _ in range(runs) for side in sides]


def verdict(new_s: float, old_s: float) -> str:
    if new_s > old_s * SLOWER_RATIO and new_s - old_s > SLOWER_MARGIN_S:
        return "slower"
    if old_s > new_s * SLOWER_RATIO and old_s - new_s > SLOWER_MARGIN_S:
        return "faster"
    return "same"


def format_row(row: Row, *, compared: bool) -> str:
    def seconds(times: list[float] | None) -> str:
        return f"{statistics.median(times):8.2f}" if times else f"{'-':>8}"

    if row.new and row.old:
        new_s, old_s = statistics.median(row.new), statistics.median(row.old)
        comparison = f"{new_s / old_s:8.2f}  {verdict(new_s, old_s)}"
    else:
        comparison = f"{'-':>8}  " + ("" if not compared else "new lab" if row.new else "removed lab")
    return f"{row.lab:<18} {seconds(row.new)} {seconds(row.old)} {comparison}".rstrip()


def lab_ids(root: Path) -> set[str]:
    return {toml.parent.name for toml in (root / "labs").glob("*/lab.toml")}


def interpreter(root: Path, folder: Path) -> Path:
    """An empty venv in `folder` whose site-packages lists root/graders first, then this venv's packages."""
    venv.EnvBuilder(symlinks=True, with_pip=False).create(folder)
    (purelib,) = folder.glob("lib/python*/site-packages")
    (purelib / "labkit-bench.pth").write_text("\n".join([str(root / "graders"), *site.getsitepackages()]) + "\n")
    return folder / "bin" / "python"


def describe_ref(ref: str) -> str:
    done = subprocess.run(["git", "-C", str(KIT), "log", "-1", "--format=%H %s", f"{ref}^{{commit}}", "--"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise BenchError(f"--against {ref}: no such commit here ({done.stderr.strip()})", exit_code=2)
    return done.stdout.strip()


@contextmanager
def checkout(commit: str, folder: Path) -> Iterator[Path]:
    """A detached worktree of `commit` in `folder`, removed on the way out, however that happens."""
    subprocess.run(["git", "-C", str(KIT), "worktree", "add", "--detach", "--quiet", str(folder), commit], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["git", "-C", str(KIT), "worktree", "remove", "--force", str(folder)], check=False)


def grade_seconds(side: Side, lab_id: str) -> float:
    command = [str(side.python), "-m", "labkit", "grade", lab_id, "--impl", str(side.root / "solutions" / lab_id),
               "--format", "json", "--seed", "1", "--services", "embedded"]  # fmt: skip
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    began = time.perf_counter()
    with subprocess.Popen(
        command,
        cwd=side.root,
        env={**env, "LABKIT_HOME": str(side.root)},  # labkit's kit root: LABKIT_HOME before the working directory
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # Ctrl-C reaches this script only, which then stops labkit in order
        preexec_fn=interruptible,
    ) as process:
        try:
            _, stderr = process.communicate()
        except KeyboardInterrupt:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
            raise
    elapsed = time.perf_counter() - began
    if process.returncode != 0:
        missed = f"{lab_id}: the {side.name} solution missed full marks (labkit exit {process.returncode})"
        reason = stderr.strip().splitlines()[-5:]  # where labkit names a harness error
        raise BenchError("\n".join([missed, *reason]), exit_code=1)
    return elapsed


def bench(sides: list[Side], wanted: list[str], runs: int) -> None:
    labs_of = {side.name: lab_ids(side.root) for side in sides}
    every_lab = set().union(*labs_of.values())
    if unknown := sorted(set(wanted) - every_lab):
        raise BenchError(f"unknown lab(s) {', '.join(unknown)}; known: {', '.join(sorted(every_lab))}", exit_code=2)
    print(f"{'lab':<18} {'new s':>8} {'old s':>8} {'new/old':>8}  verdict", flush=True)
    for lab_id in wanted or sorted(every_lab):
        present = [side for side in sides if lab_id in labs_of[side.name]]
        times: dict[str, list[float]] = {side.name: [] for side in present}
        if "new" in times:  # a lab this checkout removed is listed, not graded
            for side in interleaved(present, runs):
                times[side.name].append(grade_seconds(side, lab_id))
        print(format_row(Row(lab_id, times.get("new"), times.get("old")), compared=len(sides) > 1), flush=True)


def run(against: str | None, labs: list[str], runs: int, temp: Path) -> None:
    new = Side("new", KIT, interpreter(KIT, temp / "new-python"))
    where = f"solution grading times, median of {runs} run(s) per side, embedded services; new = {KIT}"
    if against is None:
        print(where)
        bench([new], labs, runs)
        return
    commit, _, subject = describe_ref(against).partition(" ")
    print(f"{where}; old = {against} ({commit[:10]} {subject[:60]})")
    with checkout(commit, temp / "old") as root:
        bench([new, Side("old", root, interpreter(root, temp / "old-python"))], labs, runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", metavar="REF", help="also grade a temporary checkout of this git ref, compared")
    parser.add_argument("labs", nargs="*", help="lab ids (default: every lab of either side)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a stopped run removes its checkout too
    try:
        with tempfile.TemporaryDirectory(prefix="lkbench-") as temp:
            run(args.against, args.labs, args.runs, Path(temp))
    except BenchError as error:
        print(f"bench_labs: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("bench_labs: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
