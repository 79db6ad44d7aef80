"""Prints cohort grading throughput with 1 and 2 jobs, measured in one run on the same submissions
(the solution, the starter and every broken scenario of one lab), and their ratio (target at least 1.6)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]


def build_cohort(lab: str, root: Path) -> int:
    shutil.copytree(KIT / "solutions" / lab, root / "solution")
    shutil.copytree(KIT / "labs" / lab, root / "starter")
    for scenario in sorted((KIT / "tests" / "scenarios" / lab).glob("*/")):
        shutil.copytree(scenario, root / scenario.name)
    return len(list(root.iterdir()))


def cohort_seconds(submissions: Path, lab: str, jobs: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "labkit", "cohort", "grade", str(submissions), "--lab", lab,
                   "--out", out, "--jobs", str(jobs), "--seed", "1", "--services", "embedded"]  # fmt: skip
        began = time.perf_counter()
        subprocess.run(command, cwd=KIT, capture_output=True, check=True)
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lab", default="tcp-kv")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        count = build_cohort(args.lab, Path(folder))
        one = cohort_seconds(Path(folder), args.lab, 1)
        two = cohort_seconds(Path(folder), args.lab, 2)
    print(f"cohort of {count} {args.lab} submissions: 1 job {one:.1f} s ({count / one:.2f}/s), "
          f"2 jobs {two:.1f} s ({count / two:.2f}/s); speed-up {one / two:.2f}x (target >= 1.6x)")  # fmt: skip


if __name__ == "__main__":
    main()
