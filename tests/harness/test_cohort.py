"""Cohort grading: every submission in isolation and in parallel, verdicts identical to grading each alone,
hostile submission folders contained, and the merged report readable as CSV and in a real browser."""

from __future__ import annotations

import csv
import io
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from labkit.catalog import load_catalog
from labkit.scenarios import comparable
from labkit.wait import until
from support import KIT, labkit_env, run_labkit, scenarios, verdict_summary

LAB = "tcp-kv"
# Two labs' solutions, starters and scenarios: 19 submissions. Grading every lab's scenarios again here would
# repeat tests/test_scenarios.py at the cost of many CI minutes without testing anything more of the cohort path:
# every second of tcp-kv's 18 scenarios (9) and every eighth of websocket-chat's 47 (6) are graded.
COHORT_LABS = {"tcp-kv": 2, "websocket-chat": 8}  # lab: one scenario of every N, in name order


def make_cohort(root: Path, lab: str) -> dict[str, str | None]:
    """Submissions for one lab: the solution, the starter and its broken scenarios (every one, or a sample: see
    COHORT_LABS), one as a student repository (labs/<lab>/ inside). Returns each one's known verdict when graded
    alone: the recorded fixture for scenarios, None where only the score is known (full marks for the solution,
    zero for the starter)."""
    expected: dict[str, str | None] = {}
    shutil.copytree(KIT / "solutions" / lab, root / "repo-solution" / "labs" / lab)
    shutil.copytree(KIT / "labs" / lab, root / "starter")
    expected |= {"repo-solution": None, "starter": None}
    for scenario in [s for s in scenarios() if s.lab == lab][:: COHORT_LABS[lab]]:
        shutil.copytree(scenario.folder, root / scenario.name)
        recorded = scenario.fixture.read_text(encoding="utf-8")
        expected[scenario.name] = comparable(recorded, scenario) if scenario.timing_dependent else recorded
    return expected


@pytest.mark.slow
@pytest.mark.parametrize("lab", COHORT_LABS)
def test_cohort_verdicts_match_grading_each_submission_alone(tmp_path: Path, lab: str) -> None:
    """Two submissions at a time give exactly the verdicts each gets alone (the scenarios' recorded fixtures)."""
    submissions = tmp_path / "submissions"
    expected = make_cohort(submissions, lab)
    done = run_labkit("cohort", "grade", str(submissions), "--lab", lab, "--out", str(tmp_path / "out"),
                      "--jobs", "2", "--seed", "1")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    max_points = load_catalog(KIT).get(lab).max_points
    for name, fixture in expected.items():
        result = json.loads((tmp_path / "out" / f"{name}.json").read_text())
        if fixture is not None:
            summary = verdict_summary(result)
            scenario = next((s for s in scenarios() if s.lab == lab and s.name == name), None)
            assert (summary if scenario is None else comparable(summary, scenario)) == fixture, name
        else:
            wanted = max_points if name == "repo-solution" else 0
            assert result["labs"][0]["points"] == wanted, name


def test_symlinks_out_of_a_submission_are_dropped_and_reported(tmp_path: Path) -> None:
    submission = tmp_path / "submissions" / "mallory"
    shutil.copytree(KIT / "labs" / LAB, submission)
    secret = tmp_path / "grader-secret.txt"
    secret.write_text("TOKEN-123")
    (submission / "notes.txt").symlink_to(secret)
    (submission / "escape").symlink_to(tmp_path)
    (submission / "inside.py").symlink_to("server.py")
    done = run_labkit("cohort", "grade", str(tmp_path / "submissions"), "--lab", LAB, "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "out" / "mallory.json").read_text())
    notes = result["cohort"]["notes"]
    assert sorted(note.split(":")[0] for note in notes) == ["left out escape", "left out notes.txt"]
    assert result["labs"][0]["stages"][0]["status"] == "failed"


def test_a_submission_over_its_time_budget_is_a_harness_error_row(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    shutil.copytree(KIT / "solutions" / LAB, submissions / "slow")
    done = run_labkit("cohort", "grade", str(submissions), "--lab", LAB, "--out", str(tmp_path / "out"),
                      "--timeout", "1")  # fmt: skip
    assert done.returncode == 2
    lab = json.loads((tmp_path / "out" / "slow.json").read_text())["labs"][0]
    assert lab["error"] == "harness error: grading took longer than 1 s"
    assert (lab["points"], lab["max_points"]) == (0, 100)


def sample_results(folder: Path) -> Path:
    """Hand-written result files: two students, one of whom fails framing with a message carrying numbers."""
    folder.mkdir()
    for student, framing in (("ann", "passed"), ("ben", "failed")):
        check = {"name": "split frames", "status": framing, "message": "" if framing == "passed" else "got 3 of 7"}
        stages = [
            {"slug": "connect", "status": "passed", "points": 5, "checks": []},
            {"slug": "framing", "status": framing, "points": 5 if framing == "passed" else 0, "checks": [check]},
        ]
        lab = {"id": LAB, "title": "KV", "points": 5 + stages[1]["points"], "max_points": 10,
               "passed": framing == "passed", "error": None, "stages": stages}  # fmt: skip
        (folder / f"{student}.json").write_text(json.dumps({"labs": [lab]}))
    return folder


def test_csv_report_has_a_row_per_student_with_stage_points(tmp_path: Path) -> None:
    done = run_labkit("cohort", "report", str(sample_results(tmp_path / "r")), "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["student"], r["points"], r["verdict"], r["first_failed_stage"], r["framing"]) for r in rows] == [
        ("ann", "10", "passed", "", "5"),
        ("ben", "5", "failed", "framing", "0"),
    ]


def test_report_of_nothing_is_a_usage_error(tmp_path: Path) -> None:
    done = run_labkit("cohort", "report", str(tmp_path))
    assert done.returncode == 2
    assert "no result files found" in done.stderr


def test_html_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no chromium binary on PATH (apt-get install chromium)")
    report = tmp_path / "report.html"
    done = run_labkit("cohort", "report", str(sample_results(tmp_path / "r")), "--out", str(report))
    assert done.returncode == 0, done.stderr
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        page = browser.new_page()
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(report.as_uri())
        charts = page.locator("svg.chart")
        assert charts.count() == 2
        assert page.locator("svg.chart rect.bar").count() > 0
        assert charts.first.bounding_box()["height"] > 100  # type: ignore[index]
        assert page.locator("text=got N of N").count() == 1, "messages are grouped with their numbers masked"
        browser.close()
    assert problems == []


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_cohort_stops_its_gradings_and_says_so(tmp_path: Path, stop: signal.Signals) -> None:
    """Interrupted while two gradings run and four wait: the running ones are stopped, no other starts, nothing of
    them is left, and the instructor reads one line, not a traceback."""
    submissions = tmp_path / "submissions"
    never_ready = KIT / "tests" / "scenarios" / "tcp-kv" / "hangs-on-start"  # each grading takes seconds
    for number in range(6):
        shutil.copytree(never_ready, submissions / f"{stop.name}-{number}")
    cohort = subprocess.Popen(
        [sys.executable, "-m", "labkit", "cohort", "grade", str(submissions), "--lab", LAB, "--out",
         str(tmp_path / "out"), "--jobs", "2", "--seed", "1"],
        cwd=KIT, env=labkit_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert until(lambda: len(gradings_of(stop.name)) >= 2, 60), "two gradings never started"
    cohort.send_signal(stop)
    stdout, stderr = cohort.communicate(timeout=60)
    assert cohort.returncode == (130 if stop == signal.SIGINT else 143), stdout + stderr
    assert "interrupted; the gradings in progress were stopped" in stderr and "Traceback" not in stderr, stderr
    assert not gradings_of(stop.name), "a grading outlived the interrupted cohort"
    assert len(list((tmp_path / "out").glob("*.json"))) < 6, "the waiting submissions were not graded"


def gradings_of(students: str) -> list[psutil.Process]:
    """The `labkit grade` processes of a cohort whose students are named ``students``-N (their staging folders
    are named after them)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        words = process.info["cmdline"] or []
        if "grade" in words and any(f"labkit-cohort-{students}-" in word for word in words):
            found.append(process)
    return found
