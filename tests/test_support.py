"""The kit's test helpers themselves: what they hand to the kit's tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support import pristine_starter


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_pristine_starter_is_the_committed_one_whatever_the_learner_changed(tmp_path: Path) -> None:
    repo = tmp_path / "clone"
    starter = repo / "labs" / "demo" / "server.py"
    starter.parent.mkdir(parents=True)
    starter.write_text("# TODO: the starter\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "labs")
    _git(repo, "-c", "user.name=kit", "-c", "user.email=kit@example.invalid", "commit", "-qm", "starter")
    starter.write_text("# the learner's work in progress\n")
    (starter.parent / "notes.txt").write_text("a file of the learner's\n")
    copy = pristine_starter("demo", tmp_path / "copy", root=repo)
    assert copy == tmp_path / "copy" / "labs" / "demo"
    assert (copy / "server.py").read_text() == "# TODO: the starter\n"
    assert sorted(path.name for path in copy.iterdir()) == ["server.py"]
    assert starter.read_text() == "# the learner's work in progress\n", "the learner's folder is left alone"
