"""An instructor's private checks (--extra-graders): they run inside their stage with the lab's fixtures, count
towards its points, and learners see only their name and verdict unless the instructor asks for details."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support import KIT, grade_json
from throwaway import ThrowawayKit

HIDDEN_CHECK = '''
from kvwire import GET, NOT_FOUND


def check_secret_key_is_not_found(kv):
    """A key from the private test set is NOT_FOUND"""
    kv().call(GET, b"private-key-4711", status=NOT_FOUND)
'''


@pytest.fixture
def kit(tmp_path: Path) -> ThrowawayKit:
    """Private checks for the checkout's tcp-kv, kept in the test's own folder."""
    kit = ThrowawayKit(tmp_path)
    kit.extra_graders("tcp-kv", {"hidden_request_response": HIDDEN_CHECK})
    return kit


def stage_checks(result: dict, slug: str) -> dict[str, dict]:  # type: ignore[type-arg]
    stage = next(stage for stage in result["labs"][0]["stages"] if stage["slug"] == slug)
    return {check["name"]: check for check in stage["checks"]}


def test_hidden_checks_run_in_their_stage_and_share_its_points(kit: ThrowawayKit, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache), "PYTHONDONTWRITEBYTECODE": "1"}  # the grader's cache, here empty
    code, result = grade_json("tcp-kv", KIT / "solutions" / "tcp-kv", "--extra-graders", str(kit.private), env=env)
    assert code == 0
    assert not list(cache.rglob("*.pyc")), "with hidden checks the grader compiles nothing to disk"
    checks = stage_checks(result, "request-response")
    secret = checks["A key from the private test set is NOT_FOUND"]
    assert (secret["visibility"], secret["status"]) == ("hidden", "passed")
    assert secret["transcript"] == [], "even a passed hidden check does not show what it sent"
    assert result["labs"][0]["points"] == 100


def test_a_failed_hidden_check_shows_only_its_verdict_unless_details_are_asked(kit: ThrowawayKit) -> None:
    broken = KIT / "tests" / "scenarios" / "tcp-kv" / "not-found-as-error"
    _, learner_view = grade_json("tcp-kv", broken, "--extra-graders", str(kit.private))
    secret = stage_checks(learner_view, "request-response")["A key from the private test set is NOT_FOUND"]
    assert secret["status"] == "failed"
    assert secret["message"] == "failed (a hidden check: its details are not shown)"
    assert "4711" not in json.dumps(learner_view)

    _, instructor_view = grade_json("tcp-kv", broken, "--extra-graders", str(kit.private), "--hidden-details")
    secret = stage_checks(instructor_view, "request-response")["A key from the private test set is NOT_FOUND"]
    assert "private-key-4711" in secret["message"]


def test_without_hidden_checks_the_grader_keeps_its_bytecode_in_the_cache_only(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache), "PYTHONDONTWRITEBYTECODE": "1"}  # the grader's choice, not the caller's
    code, _ = grade_json("tcp-kv", KIT / "labs" / "tcp-kv", "--stage", "1", env=env)
    assert code == 1
    compiled = {path.name.split(".")[0] for path in cache.rglob("*.pyc")}
    assert {"plugin", "conftest", "stage_connect"} <= compiled, sorted(compiled)
    assert not (KIT / "graders" / "tcp-kv" / "__pycache__").exists(), "nothing is written into the checkout"


def test_a_hidden_module_that_names_no_stage_is_a_harness_error(kit: ThrowawayKit) -> None:
    kit.extra_graders("tcp-kv", {"hidden_no_such_stage": "def check_x():\n    pass\n"})
    code, result = grade_json("tcp-kv", KIT / "solutions" / "tcp-kv", "--extra-graders", str(kit.private))
    assert code == 2
    error = result["labs"][0]["error"]
    assert "names no stage of tcp-kv" in error
    kept = Path(error.rsplit("logs kept in ", 1)[1].rstrip(")"))
    assert kept.is_dir(), "the run's logs are kept for the instructor"
    assert not list(kept.rglob("hidden_*.py")), "no copy of a hidden check is left behind"
