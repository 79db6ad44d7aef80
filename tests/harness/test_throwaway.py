"""The throwaway-kit builder the harness tests grade with: what it writes is what labkit's catalog reads."""

from __future__ import annotations

from pathlib import Path

from labkit.catalog import load_catalog, resolve_run
from labkit.readiness import UdpReady
from throwaway import Stage, ThrowawayKit


def test_a_built_lab_loads_in_the_catalog_as_declared(tmp_path: Path) -> None:
    kit = ThrowawayKit(tmp_path).lab(
        "demo",
        "server",
        run={"command": ["{python}", "server.py"], "ready": "udp", "ready_probe": "hello", "ready_timeout": 2.5},
        services=("postgres", "redis"),
        stages={"first-steps": Stage("def check_a(): pass", points=3, timeout=7), "more": "def check_b(): pass"},
        helpers={"conftest": "    import pytest\n"},
        files={"server.py": "print('starter')\n"},
    )
    (lab,) = load_catalog(kit.root).labs
    assert (lab.id, lab.run.kind, lab.run.ready_timeout, lab.services) == ("demo", "server", 2.5, ("postgres", "redis"))
    assert lab.run.command[1:] == ("server.py",)
    assert lab.run.ready == UdpReady(probe_datagram=b"hello")
    numbers = [(stage.slug, stage.points, stage.timeout) for stage in lab.stages]
    assert numbers == [("first-steps", 3, 7), ("more", 1, 30)]
    graders = kit.root / "graders" / "demo"
    assert sorted(path.name for path in graders.iterdir()) == ["conftest.py", "stage_first_steps.py", "stage_more.py"]
    assert (graders / "conftest.py").read_text() == "import pytest\n", "sources are dedented"
    assert (kit.root / "labs" / "demo" / "server.py").read_text() == "print('starter')\n"


def test_run_toml_strings_reach_the_run_spec_unchanged(tmp_path: Path) -> None:
    kit = ThrowawayKit(tmp_path).lab("demo", "client", run={"command": ["{python}", "client.py"]}, stages={"one": ""})
    awkward = ("sh", 'say "hi"', "back\\slash", "tab\there", "naïve →")
    impl = kit.impl({"client.sh": "echo hi\n"}, run_toml={"command": list(awkward)})
    assert resolve_run(load_catalog(kit.root).get("demo"), impl).command == awkward
    assert impl == tmp_path / "impl" and (impl / "client.sh").read_text() == "echo hi\n"
