"""The lab benchmark's comparison: its verdict on two medians, its grading order, its table rows, and the
interpreter through which a checkout's grader process imports that checkout's labkit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from labkit.engine import grader_env
from support import KIT

sys.path.insert(0, str(KIT / "tests" / "bench"))
from bench_labs import Row, format_row, interleaved, interpreter, verdict


@pytest.mark.parametrize(
    ("new_s", "old_s", "expected"),
    [
        (10.0, 7.0, "slower"),  # 1.43 times and 3 s more
        (0.6, 0.3, "same"),  # twice as long, but 0.3 s is a short lab's jitter
        (40.0, 36.0, "same"),  # 4 s more, but 1.11 times
        (7.0, 10.0, "faster"),
        (5.0, 5.0, "same"),
    ],
)
def test_verdict_needs_both_the_ratio_and_the_margin(new_s: float, old_s: float, expected: str) -> None:
    assert verdict(new_s, old_s) == expected


def test_sides_take_turns_run_after_run() -> None:
    assert interleaved(["new", "old"], 3) == ["new", "old", "new", "old", "new", "old"]
    assert interleaved(["new"], 2) == ["new", "new"]


def test_a_row_compares_the_medians() -> None:
    row = Row("tcp-kv", new=[4.0, 9.0, 5.0], old=[4.0, 3.0, 3.5])  # medians 5.0 and 3.5; the means would be 6 and 3.5
    assert format_row(row, compared=True).split() == ["tcp-kv", "5.00", "3.50", "1.43", "slower"]


def test_a_lab_on_one_side_only_is_named_so() -> None:
    new_lab, removed_lab = Row("pager", new=[2.0], old=None), Row("pager", new=None, old=[])
    assert format_row(new_lab, compared=True).split() == ["pager", "2.00", "-", "-", "new", "lab"]
    assert format_row(removed_lab, compared=True).split() == ["pager", "-", "-", "-", "removed", "lab"]
    assert format_row(new_lab, compared=False).split() == ["pager", "2.00", "-", "-"]


def test_the_grader_process_imports_the_checkouts_labkit(tmp_path: Path) -> None:
    planted = tmp_path / "checkout" / "graders" / "labkit" / "__init__.py"
    planted.parent.mkdir(parents=True)
    planted.write_text("")
    python = interpreter(tmp_path / "checkout", tmp_path / "python")
    done = subprocess.run(
        [str(python), "-c", "import labkit, pytest; print(labkit.__file__)"],
        env=grader_env(),  # as labkit starts its grader: PYTHONPATH scrubbed
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == planted
