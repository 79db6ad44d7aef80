"""Malformed lab metadata is a harness error with a precise message, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from labkit.catalog import load_catalog, resolve_run
from labkit.errors import CheckFailed, LabConfigError
from labkit.requirements import Requirement
from support import KIT
from throwaway import ThrowawayKit

GOOD = (KIT / "labs" / "tcp-kv" / "lab.toml").read_text()


def mutated(old: str, new: str) -> str:
    """GOOD with one edit; refuses an edit that matches nothing, which would make its case vacuous."""
    assert re.search(old, GOOD, flags=re.MULTILINE), f"{old!r} no longer occurs in tcp-kv/lab.toml"
    return re.sub(old, new, GOOD, count=1, flags=re.MULTILINE)


def kit_with(tmp_path: Path, lab_toml: str) -> ThrowawayKit:
    return ThrowawayKit(tmp_path).lab("tcp-kv", toml=lab_toml)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("id = ", "not valid TOML"),
        (mutated(r'^id = "tcp-kv"', 'id = "other"'), "must be a slug equal to its folder name"),
        (mutated(r"^title = .*\n", ""), "missing required key 'title'"),
        (mutated(r"^points = \d+", 'points = "five"'), "'points' must be int"),
        (mutated(r"^services = \[\]", 'services = ["mongodb"]'), "unknown services"),
        (mutated(r'^slug = "framing"', 'slug = "connect"'), "stage slugs must be unique"),
        (mutated(r'^slug = "framing"', 'slug = "Bad Slug"'), "must be lowercase words"),
        (mutated(r"^command = .*", "command = []"), "non-empty array"),
        (mutated(r"^memory_mb = \d+", "memory_mb = 0"), "memory_mb must be positive"),
        (GOOD.split("[[stages]]")[0], "at least one [[stages]]"),
        (
            mutated(r'^slug = "framing"', 'slug = "framing"\nrequires = ["gpu"]'),
            "stage 3 (framing): unknown requirement 'gpu' in requires",
        ),
        (
            mutated(r'^slug = "framing"', 'slug = "framing"\nrequires = ["command:"]'),
            "stage 3 (framing): requires 'command:' must name an executable",
        ),
        (
            mutated(r'^slug = "framing"', 'slug = "framing"\nrequires = ["cores:0"]'),
            "stage 3 (framing): requires 'cores:0' must give a number of cores",
        ),
        (mutated(r'^slug = "framing"', 'slug = "framing"\nrequires = "docker"'), "'requires' must be list"),
    ],
    ids=lambda value: value if len(value) < 60 else None,
)
def test_malformed_lab_toml_is_explained(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(LabConfigError, match=re.escape(message)):
        load_catalog(kit_with(tmp_path, toml).root)


def test_cli_reports_a_broken_lab_as_exit_2_where_it_is_used(tmp_path: Path) -> None:
    kit = kit_with(tmp_path, "id = ").copy_checkout("graders/labkit")
    listed = kit.labkit("list")
    assert listed.returncode == 0 and "not valid TOML" in listed.stderr, "the catalog still lists what it can"
    done = kit.labkit("grade", "tcp-kv")
    assert done.returncode == 2
    assert "not valid TOML" in done.stderr and "Traceback" not in done.stderr


def test_run_toml_overrides_only_the_command(tmp_path: Path) -> None:
    lab = load_catalog(KIT).get("tcp-kv")
    (tmp_path / "run.toml").write_text('command = ["./server"]\n')
    run = resolve_run(lab, tmp_path)
    assert run.command == ("./server",) and run.ready_timeout == lab.run.ready_timeout
    (tmp_path / "run.toml").write_text("command = 5\n")
    with pytest.raises(CheckFailed, match=r"run\.toml"):  # the file is the learner's: their failure
        resolve_run(lab, tmp_path)


def test_stage_requirements_are_parsed(tmp_path: Path) -> None:
    toml = mutated(r'^slug = "framing"', 'slug = "framing"\nrequires = ["docker", "command:gcc", "cores:2"]')
    lab = load_catalog(kit_with(tmp_path, toml).root).get("tcp-kv")
    assert lab.stage("framing").requires == (
        Requirement("docker"),
        Requirement("command", "gcc"),
        Requirement("cores", "2"),
    )
    assert all(stage.requires == () for stage in lab.stages if stage.slug != "framing")
