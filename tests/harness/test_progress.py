"""Progress, reset and restore on a throwaway git clone of one lab: `labkit grade` records what the learner's own
folder reached, `labkit status` shows it, `labkit reset` brings the starter back from git and keeps the learner's
work, and `labkit restore` brings that work back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.progress import LabProgress, load_progress, save_progress
from support import KIT
from throwaway import ThrowawayKit

OWN_STATE = {"LABKIT_STATE_DIR": ""}  # this kit's own .labkit/, not the test session's folder


@pytest.fixture
def clone(tmp_path: Path) -> ThrowawayKit:
    kit = ThrowawayKit(tmp_path).copy_checkout("labs/tcp-kv", "graders/tcp-kv", ".gitignore")
    for args in (("init", "-q"), ("add", "-A"), ("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "kit")):
        subprocess.run(["git", "-C", str(kit.root), *args], check=True, capture_output=True, timeout=60)
    return kit


def test_grading_the_learners_folder_is_recorded_and_shown(clone: ThrowawayKit) -> None:
    starter = clone.root / "labs" / "tcp-kv"
    code, _ = clone.grade("tcp-kv", "--stage", "2", env=OWN_STATE)
    assert code == 1
    recorded = load_progress(clone.root)["tcp-kv"]
    assert (recorded.highest_stage, recorded.points, recorded.max_points) == (0, 0, 100)
    assert recorded.next_failure is not None and recorded.next_failure.startswith("stage 1 connect · ")

    shutil.copy(KIT / "solutions" / "tcp-kv" / "server.py", starter / "server.py")
    code, _ = clone.grade("tcp-kv", "--stage", "2", env=OWN_STATE)
    assert code == 0
    recorded = load_progress(clone.root)["tcp-kv"]
    assert (recorded.highest_stage, recorded.highest_slug, recorded.points) == (2, "request-response", 20)
    assert recorded.max_points == 100, "progress is shown against the lab's full total"

    shown = clone.labkit("status", env=OWN_STATE)
    assert shown.returncode == 0, shown.stderr
    row = next(line for line in shown.stdout.splitlines() if "tcp-kv" in line)
    assert "2 request-response" in row and "20/100" in row and recorded.graded_at[:10] in row
    assert ".labkit/" in (clone.root / ".gitignore").read_text(), "the state file must stay out of git"


def test_grading_another_folder_leaves_progress_alone(clone: ThrowawayKit) -> None:
    code, _ = clone.grade("tcp-kv", "--stage", "1", impl=KIT / "solutions" / "tcp-kv", env=OWN_STATE)
    assert code == 0
    assert load_progress(clone.root) == {}
    assert "never" in clone.labkit("status", env=OWN_STATE).stdout


def test_state_dir_setting_moves_progress_out_of_the_checkout(clone: ThrowawayKit, tmp_path: Path) -> None:
    elsewhere = tmp_path / "state"
    code, _ = clone.grade("tcp-kv", "--stage", "1", env={"LABKIT_STATE_DIR": str(elsewhere)})
    assert code == 1
    assert json.loads((elsewhere / "progress.json").read_text())["labs"]["tcp-kv"]["highest_stage"] == 0
    assert not (clone.root / ".labkit").exists()


def test_reset_keeps_the_work_and_restore_brings_it_back(clone: ThrowawayKit) -> None:
    lab = clone.root / "labs" / "tcp-kv"
    pristine = (lab / "server.py").read_text()
    (lab / "server.py").write_text("# my work\n")
    (lab / "notes.txt").write_text("untracked notes\n")

    refused = subprocess.run(
        [sys.executable, "-m", "labkit", "reset", "tcp-kv"],
        input="n\n", capture_output=True, text=True, env={**os.environ, **clone.env}, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 1 and (lab / "server.py").read_text() == "# my work\n"

    done = clone.labkit("reset", "tcp-kv", "--yes", env=OWN_STATE)
    assert done.returncode == 0, done.stderr
    assert (lab / "server.py").read_text() == pristine and not (lab / "notes.txt").exists()
    assert "labkit restore tcp-kv" in done.stdout

    back = clone.labkit("restore", "tcp-kv", "--yes", env=OWN_STATE)
    assert back.returncode == 0, back.stderr
    assert (lab / "server.py").read_text() == "# my work\n" and (lab / "notes.txt").is_file()

    again = clone.labkit("restore", "tcp-kv", "--yes", env=OWN_STATE)  # the starter was kept too: restore swaps
    assert again.returncode == 0 and (lab / "server.py").read_text() == pristine


def test_reset_outside_git_is_a_usage_error_that_changes_nothing(tmp_path: Path) -> None:
    kit = ThrowawayKit(tmp_path).copy_checkout("labs/tcp-kv", "graders/tcp-kv")
    (kit.root / "labs" / "tcp-kv" / "server.py").write_text("# my work\n")
    done = kit.labkit("reset", "tcp-kv", "--yes", env=OWN_STATE)
    assert done.returncode == 2 and "git" in done.stderr and "Traceback" not in done.stderr
    assert (kit.root / "labs" / "tcp-kv" / "server.py").read_text() == "# my work\n"
    nothing = kit.labkit("restore", "tcp-kv", "--yes", env=OWN_STATE)
    assert nothing.returncode == 2 and "no backup" in nothing.stderr


def test_progress_file_is_replaced_whole_and_unreadable_means_none(tmp_path: Path) -> None:
    entry = LabProgress(3, "framing", 35.0, 100, "2025-01-01T00:00:00+00:00", "stage 4 concurrency · x")
    save_progress(tmp_path, {"tcp-kv": entry})
    assert load_progress(tmp_path) == {"tcp-kv": entry}
    assert [p.name for p in (tmp_path / ".labkit").iterdir()] == ["progress.json"], "no temporary file left"
    assert json.loads((tmp_path / ".labkit" / "progress.json").read_text())["labs"]["tcp-kv"]["points"] == 35.0
    (tmp_path / ".labkit" / "progress.json").write_text("{half a fi")
    assert load_progress(tmp_path) == {}
