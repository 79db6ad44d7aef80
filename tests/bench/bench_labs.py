"""Prints the wall time of grading every lab's reference solution (median of N runs), with the embedded
services provider, so each lab's speed target can be read off one run on one machine."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]

from labkit.catalog import load_catalog  # noqa: E402


def grade_seconds(lab_id: str) -> float:
    command = [sys.executable, "-m", "labkit", "grade", lab_id, "--impl", str(KIT / "solutions" / lab_id),
               "--format", "json", "--seed", "1", "--services", "embedded"]  # fmt: skip
    began = time.perf_counter()
    done = subprocess.run(command, cwd=KIT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{lab_id}: the solution did not get full marks (exit {done.returncode})")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("labs", nargs="*", help="lab ids (default: all)")
    args = parser.parse_args()
    labs = args.labs or [lab.id for lab in load_catalog(KIT).labs]
    for lab_id in labs:
        times = [grade_seconds(lab_id) for _ in range(args.runs)]
        print(f"{lab_id:<16} solution graded in median {statistics.median(times):.2f} s "
              f"(min {min(times):.2f}, max {max(times):.2f}, {args.runs} runs, embedded services)")  # fmt: skip


if __name__ == "__main__":
    main()
