"""`labkit verify`: a checkout whose graders, harness or lab metadata differ from the pinned kit is reported."""

from __future__ import annotations

from pathlib import Path

from support import run_labkit
from throwaway import ThrowawayKit


def pristine_copy(tmp_path: Path) -> Path:
    return ThrowawayKit(tmp_path).copy_checkout("graders", "labs", "pyproject.toml").root


def test_an_untouched_checkout_is_identical(tmp_path: Path) -> None:
    done = run_labkit("verify", str(pristine_copy(tmp_path)))
    assert done.returncode == 0, done.stdout
    assert "identical to" in done.stdout


def test_tampering_is_listed_file_by_file(tmp_path: Path) -> None:
    student = pristine_copy(tmp_path)
    (student / "graders" / "labkit" / "classify.py").write_text("# always pass\n")
    (student / "graders" / "tcp-kv" / "conftest.py").unlink()
    (student / "graders" / "conftest.py").write_text("collect_ignore_glob = ['*']\n")
    lab_toml = student / "labs" / "tcp-kv" / "lab.toml"
    lab_toml.write_text(lab_toml.read_text().replace("timeout = 5", "timeout = 500", 1))
    (student / "labs" / "tcp-kv" / "conftest.py").write_text("")
    (student / "labs" / "tcp-kv" / "server.py").write_text("# the learner's own work is not tampering\n")
    done = run_labkit("verify", str(student))
    assert done.returncode == 1
    lines = [" ".join(line.split()) for line in done.stdout.splitlines()]
    for expected in (
        "modified graders/labkit/classify.py",
        "modified labs/tcp-kv/lab.toml",
        "missing graders/tcp-kv/conftest.py",
        "added graders/conftest.py",
    ):
        assert expected in lines, (expected, done.stdout)
    assert not any("server.py" in line for line in lines)
    assert any("labs/tcp-kv/conftest.py is present" in line for line in lines)


def test_a_written_manifest_pins_a_release(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    assert run_labkit("verify", "--write-manifest", str(manifest)).returncode == 0
    student = pristine_copy(tmp_path)
    assert run_labkit("verify", str(student), "--manifest", str(manifest)).returncode == 0
    (student / "graders" / "labkit" / "plugin.py").write_text("")
    assert run_labkit("verify", str(student), "--manifest", str(manifest)).returncode == 1
