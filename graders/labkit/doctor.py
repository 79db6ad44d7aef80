"""`labkit doctor`: what this machine can run, and why not, before a learner hits it mid-grade."""

from __future__ import annotations

import platform
import socket
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from labkit.catalog import Lab
from labkit.ports import LOOPBACK
from labkit.requirements import Requirement, presence
from labkit.run_config import SandboxChoice


def run_doctor(console: Console, labs: Sequence[Lab] = ()) -> int:
    """Prints a report and returns 0 when grading can work here (at least one provider and loopback ports).
    Stages of ``labs`` whose requirements are missing are listed too; they are reported as not run, not failed,
    so they do not change the exit code."""
    from labkit.services import DockerProvider, EmbeddedProvider, ExternalProvider

    table = Table(title="labkit doctor", title_justify="left")
    table.add_column("check")
    table.add_column("status")
    table.add_column("details", overflow="fold")
    python_ok = sys.version_info >= (3, 11)
    table.add_row("python", _mark(python_ok), f"{platform.python_version()} at {sys.executable} (needs 3.11+)")
    ports_ok, ports_detail = _loopback_ports()
    table.add_row("loopback ports", _mark(ports_ok), ports_detail)
    usable: dict[str, bool] = {}
    for provider in (DockerProvider, EmbeddedProvider, ExternalProvider):
        availability = provider.availability()
        usable[provider.name] = availability.usable
        table.add_row(f"services: {provider.name}", _mark(availability.usable), availability.reason)
    docker_auto = DockerProvider.auto_choice() if usable.get("docker") else None
    auto = "docker" if docker_auto and docker_auto.usable else "embedded" if usable.get("embedded") else None
    table.add_row(
        "services: auto",
        _mark(auto is not None),
        f"--services auto would use {auto}" + (f" ({docker_auto.reason})" if docker_auto and auto != "docker" else "")
        if auto
        else "no provider usable: labs with services cannot run",
    )
    for choice in (SandboxChoice.DOCKER, SandboxChoice.POLYGLOT):
        sandbox_ok, sandbox_detail = _sandbox(usable.get("docker", False), choice)
        table.add_row(f"sandbox: {choice}", _mark(sandbox_ok), sandbox_detail)
    for tool, installed, detail in field_tools():
        table.add_row(f"tool: {tool}", _mark(installed), detail)
    console.print(table)
    if (requirements := requirements_table(labs)) is not None:
        console.print(requirements)
    return 0 if python_ok and ports_ok and any(usable.values()) else 1


def field_tools() -> list[tuple[str, bool, str]]:
    """Each field tool labkit pins, whether it is installed, and where (or the command that installs it). Optional:
    only the stages that require one need it, so a missing tool does not change the exit code."""
    from labkit import fieldtools

    rows = []
    for tool in fieldtools.TOOLS.values():
        python = fieldtools.python_of(tool)
        detail = (
            f"{tool.version} in {fieldtools.home(tool)}" if python else f"{tool.version} {fieldtools.why_missing(tool)}"
        )
        rows.append((tool.name, python is not None, f"{detail} ({tool.purpose})"))
    return rows


def requirements_table(labs: Sequence[Lab]) -> Table | None:
    """For every lab whose stages declare requirements: each requirement, whether it is here, and which stages
    would not run without it. None when no lab declares any."""
    rows = []
    for lab in labs:
        needed: dict[Requirement, list[str]] = {}
        for stage in lab.stages:
            for requirement in stage.requires:
                needed.setdefault(requirement, []).append(f"{stage.index} {stage.slug}")
        for requirement, stages in needed.items():
            found = presence(requirement)
            detail = found.detail if found.met else f"{requirement.needs}: {found.detail}"
            if not found.met:
                detail += f"; would not run: stage {', '.join(stages)}"
            rows.append((lab.id, str(requirement), _mark(found.met), Text(detail)))
    if not rows:
        return None
    table = Table(title="lab requirements", title_justify="left")
    for column in ("lab", "requires", "status", "details"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _sandbox(engine_ok: bool, choice: SandboxChoice) -> tuple[bool, str]:
    """Whether `--sandbox docker` or `polyglot` can run here (optional: process mode always can)."""
    import os
    import shutil

    if not engine_ok:
        return False, "needs a Docker engine (see services: docker)"
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return False, "needs root on Linux (the grader joins the sandbox's network namespace)"
    if shutil.which("docker") is None:
        return False, "needs the docker command-line client on PATH"
    from labkit.containers import engine, image_present
    from labkit.sandbox import sandbox_image

    image = sandbox_image(choice)
    client = engine()
    try:
        present = image_present(client, image)
    finally:
        client.close()
    if not present:
        target = "base sandbox sandbox-polyglot" if choice is SandboxChoice.POLYGLOT else "base sandbox"
        return False, f"image {image} missing: docker/build-images.sh {target}"
    return True, f"--sandbox {choice} runs learner programs in {image}"


def _loopback_ports() -> tuple[bool, str]:
    try:
        with socket.socket() as probe:
            probe.bind((LOOPBACK, 0))
            probe.listen()
            port = probe.getsockname()[1]
            with socket.create_connection((LOOPBACK, port), timeout=1):
                pass
    except OSError as error:
        return False, f"cannot listen and connect on {LOOPBACK}: {error}"
    return True, f"can listen and connect on {LOOPBACK} (tried port {port})"


def _mark(ok: bool) -> str:
    return "[green]ok[/]" if ok else "[red]no[/]"
