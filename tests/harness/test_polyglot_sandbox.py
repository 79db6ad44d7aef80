"""`--sandbox polyglot`: network labs solved in other languages are graded in a container too.

Each toolchain of the polyglot image builds and runs a program under the sandbox's restrictions (read-only root,
the build in /tmp, the lab's rlimits) and passes tcp-kv's first stage; a full tcp-kv in Node.js, written from the
lab's README, earns full marks there as in process mode; and under the default, Python-only image the verdict for
such a program names the polyglot image.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from test_sandbox_support import sandbox_unavailable, skip_unless_ready

from labkit.run_config import SandboxChoice
from labkit.sandbox import missing_program_hint, sandbox_image
from labkit.settings import Settings
from support import KIT, grade_json

POLYGLOT = KIT / "tests" / "polyglot"
LISTENERS = ["listen-c", "listen-cpp", "listen-go", "listen-rust", "listen-java"]
NODE_KV = POLYGLOT / "tcp-kv-node"


def _checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [check for stage in result["labs"][0]["stages"] for check in stage["checks"]]


def _assert_full_marks(code: int, result: dict[str, Any]) -> None:
    failures = [(c["title"], c["message"]) for c in _checks(result) if c["status"] != "passed"]
    assert (code, result["labs"][0]["error"], failures) == (0, None, [])


def test_a_toolchain_missing_from_the_default_image_names_the_polyglot_one() -> None:
    for program in ("node", "go", "cargo", "java", "gcc", "/usr/bin/g++"):
        hint = missing_program_hint(program, SandboxChoice.DOCKER)
        assert "--sandbox polyglot" in hint and Path(program).name in hint, hint
    # A typo or a missing file is not a toolchain: the hint says to check the command, and what each image has.
    assert "check the command" in missing_program_hint("./serverr", SandboxChoice.DOCKER)
    assert "--sandbox polyglot adds" in missing_program_hint("ruby", SandboxChoice.DOCKER)
    in_polyglot = missing_program_hint("node", SandboxChoice.POLYGLOT)
    assert "check the command" in in_polyglot and "--sandbox polyglot" not in in_polyglot


def test_each_sandbox_choice_has_its_own_image(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings()
    assert (defaults.sandbox_image, defaults.polyglot_image) == (
        "labkit-sandbox:latest", "labkit-sandbox-polyglot:latest")  # fmt: skip
    assert sandbox_image(SandboxChoice.DOCKER) != sandbox_image(SandboxChoice.POLYGLOT)
    assert [choice.in_container for choice in SandboxChoice] == [False, True, True]


@pytest.mark.docker
@pytest.mark.parametrize("folder", LISTENERS)
def test_each_toolchain_builds_and_serves_in_the_polyglot_sandbox(folder: str) -> None:
    skip_unless_ready(sandbox_unavailable(SandboxChoice.POLYGLOT), "--sandbox polyglot")
    code, result = grade_json("tcp-kv", POLYGLOT / folder, "--sandbox", "polyglot", "--stage", "connect")
    _assert_full_marks(code, result)
    assert result["sandbox"] == "polyglot"


@pytest.mark.docker
@pytest.mark.slow
def test_a_node_implementation_earns_full_marks_in_the_polyglot_sandbox() -> None:
    skip_unless_ready(sandbox_unavailable(SandboxChoice.POLYGLOT), "--sandbox polyglot")
    _assert_full_marks(*grade_json("tcp-kv", NODE_KV, "--sandbox", "polyglot"))


@pytest.mark.slow
def test_the_node_implementation_earns_full_marks_in_process_mode() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not on this machine's PATH (the polyglot sandbox test covers the implementation)")
    _assert_full_marks(*grade_json("tcp-kv", NODE_KV))


@pytest.mark.docker
def test_the_default_image_refuses_node_with_a_verdict_that_names_polyglot() -> None:
    skip_unless_ready(sandbox_unavailable(), "--sandbox docker")
    code, result = grade_json("tcp-kv", NODE_KV, "--sandbox", "docker", "--stage", "connect")
    first = _checks(result)[0]
    assert (code, result["labs"][0]["error"], first["status"]) == (1, None, "failed")
    assert "'node' was not found" in first["message"]
    assert "--sandbox polyglot" in first["hint"], first
