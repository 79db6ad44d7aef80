"""Prints where the kit's own test suite spends its time, per group, from one run of it (or from the JUnit XML of
a run that already happened, such as CI's): the numbers to watch as labs are added, against CI's 90 minutes.

    python tests/bench/bench_suite.py                 runs the whole suite once (as the README's test command)
    python tests/bench/bench_suite.py --xml FILE      reads a finished run's pytest --junitxml FILE
    python tests/bench/bench_suite.py --last          reads the last whole run's, or says how to get one
    python tests/bench/bench_suite.py -- ARGS...      runs pytest with ARGS (a subset) instead

A whole run keeps its JUnit XML in out/suite-junit.xml (ignored by git), for --last.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from datetime import datetime
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]
LAST_RUN_XML = KIT / "out" / "suite-junit.xml"
# First match wins: a test's JUnit classname (its module path, dotted) decides its group.
GROUPS = (
    ("sandbox parity", "tests.harness.test_sandbox_parity"),
    ("containers", "tests.harness.test_docker_"),
    ("containers", "tests.harness.test_sandbox_"),
    ("containers", "tests.harness.test_engine_retries"),
    ("harness", "tests.harness."),
    ("labs (solutions, starters, alternatives)", "tests.test_labs"),
    ("scenarios", "tests.test_scenarios"),
    ("kit (catalog, README, contracts)", "tests."),
)


def group_of(classname: str) -> str:
    return next((name for name, prefix in GROUPS if classname.startswith(prefix)), "other")


def per_group(xml_path: Path) -> dict[str, tuple[int, float]]:
    counts: dict[str, int] = defaultdict(int)
    seconds: dict[str, float] = defaultdict(float)
    for case in ElementTree.parse(xml_path).getroot().iter("testcase"):
        group = group_of(case.get("classname", ""))
        counts[group] += 1
        seconds[group] += float(case.get("time", "0"))
    return {group: (counts[group], seconds[group]) for group in counts}


def report(groups: dict[str, tuple[int, float]], wall_s: float | None) -> None:
    total = sum(seconds for _, seconds in groups.values())
    for group, (count, seconds) in sorted(groups.items(), key=lambda item: -item[1][1]):
        print(f"{group:<42} {count:>5} tests {seconds / 60:7.1f} min  {100 * seconds / max(total, 1e-9):5.1f} %")
    print(f"{'all tests (sum of test times)':<42} {sum(c for c, _ in groups.values()):>5} tests {total / 60:7.1f} min")
    if wall_s is not None:
        print(f"{'wall time of the pytest run':<42} {'':>11} {wall_s / 60:7.1f} min")


def report_last_run() -> None:
    where = LAST_RUN_XML.relative_to(KIT)
    if not LAST_RUN_XML.is_file():
        print(f"suite time per group: no whole run recorded in {where} yet; `nox -s bench_suite` runs the suite once")
        print("and keeps it there (about half an hour), `tests/bench/bench_suite.py --xml FILE` reads another run's")
        return
    written = datetime.fromtimestamp(LAST_RUN_XML.stat().st_mtime).isoformat(sep=" ", timespec="minutes")
    print(f"suite time per group, from the last whole run ({where}, {written})")
    report(per_group(LAST_RUN_XML), None)


def run_suite(pytest_args: list[str], xml_path: Path) -> int:
    xml_path.unlink(missing_ok=True)  # a run that writes no XML must not report an older run's
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", f"--junitxml={xml_path}", *pytest_args],
                          cwd=KIT, check=False)  # fmt: skip
    report(per_group(xml_path), time.monotonic() - began)
    return done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--xml", type=Path, help="read this JUnit XML instead of running the suite")
    source.add_argument("--last", action="store_true", help="read the last whole run's JUnit XML, if any")
    parser.add_argument("pytest_args", nargs="*", help="after --: pytest arguments (default: the whole suite)")
    args = parser.parse_args()
    if args.xml is not None:
        report(per_group(args.xml), None)
        return 0
    if args.last:
        report_last_run()
        return 0
    if not args.pytest_args:
        LAST_RUN_XML.parent.mkdir(exist_ok=True)
        return run_suite([], LAST_RUN_XML)
    with tempfile.TemporaryDirectory(prefix="lkbench-") as folder:
        return run_suite(args.pytest_args, Path(folder) / "suite.xml")


if __name__ == "__main__":
    sys.exit(main())
