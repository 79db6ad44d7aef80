"""The lab's own Dockerfile rules (CZ1xx): what hadolint does not check, each finding with its line and its fix."""

from __future__ import annotations

import re

from dockerfile import (
    Instruction,
    assigned_names,
    dockerignore_excludes,
    duration_seconds,
    exec_form,
    image_reference_pinned,
    sensitive_name,
    split_options,
    stages,
)
from findings import Finding

FILE = "Dockerfile"
MAX_HEALTH_INTERVAL_S = 5.0
ROOT_USERS = {"root", "0"}
# What .dockerignore must keep out of the build context, and what it must let in (the kit's service).
MUST_EXCLUDE = (
    ".git/config",
    ".env",
    ".env.production",
    "app/__pycache__/server.cpython-311.pyc",
    "terraform/terraform.tfstate",
    "k8s/deployment.yaml",
)
MUST_INCLUDE = ("app/__init__.py", "app/__main__.py", "app/server.py", "app/healthcheck.py")
BASE_ARG = "BASE_IMAGE"
SERVICE_PORT = "8080"


def base_image_rule(instructions: list[Instruction]) -> list[Finding]:
    """CZ101: every FROM builds on ${BASE_IMAGE} (or an earlier stage), declared before the first FROM with a
    pinned default."""
    found = []
    first_from = next(i for i, ins in enumerate(instructions) if ins.keyword == "FROM")
    declared = [ins for ins in instructions[:first_from] if ins.keyword == "ARG" and BASE_ARG in assigned_names(ins)]
    if not declared:
        found.append(
            Finding(
                "CZ101",
                FILE,
                instructions[first_from].line,
                "no ARG BASE_IMAGE before the first FROM",
                "start with ARG BASE_IMAGE=python:3.12.8-slim-bookworm, then FROM ${BASE_IMAGE}",
            )
        )
    else:
        default = declared[-1].text.partition("=")[2].strip().strip("\"'")
        if not default or not image_reference_pinned(default):
            found.append(
                Finding(
                    "CZ101",
                    FILE,
                    declared[-1].line,
                    f"BASE_IMAGE's default {default or '(none)'!r} is not a pinned version",
                    "give it a version tag other than latest (python:3.12.8-slim-bookworm) or a digest",
                )
            )
    aliases: set[str] = set()
    for stage in stages(instructions):
        words = stage[0].text.split()
        words = [word for word in words if not word.startswith("--")]
        image = words[0] if words else ""
        if image not in {"${BASE_IMAGE}", "$BASE_IMAGE"} and image.lower() not in aliases:
            found.append(
                Finding(
                    "CZ101",
                    FILE,
                    stage[0].line,
                    f"FROM {image} does not build on ${{BASE_IMAGE}}",
                    "write FROM ${BASE_IMAGE} (AS a name for a multi-stage build): the grader "
                    "builds on a local base, as no registry can be reached",
                )
            )
        if len(words) >= 3 and words[1].upper() == "AS":
            aliases.add(words[2].lower())
    return found


def user_rule(final_stage: list[Instruction]) -> list[Finding]:
    """CZ102: the image's last USER is not root."""
    users = [ins for ins in final_stage if ins.keyword == "USER"]
    if not users:
        return [
            Finding(
                "CZ102",
                FILE,
                final_stage[0].line,
                "the image runs as root: its stage has no USER",
                "add USER 10001:10001 after the last RUN or COPY that needs root",
            )
        ]
    user = users[-1].text.split(":", 1)[0].strip()
    if user in ROOT_USERS:
        return [
            Finding(
                "CZ102",
                FILE,
                users[-1].line,
                f"USER {users[-1].text} runs the service as root",
                "end with a non-root user: USER 10001:10001",
            )
        ]
    return []


def healthcheck_rule(final_stage: list[Instruction]) -> list[Finding]:
    """CZ103: a HEALTHCHECK in exec form, probing at least every 5 s."""
    checks = [ins for ins in final_stage if ins.keyword == "HEALTHCHECK"]
    if not checks:
        return [
            Finding(
                "CZ103",
                FILE,
                final_stage[0].line,
                "the image has no HEALTHCHECK",
                'add HEALTHCHECK --interval=2s CMD ["python", "-m", "app.healthcheck"]',
            )
        ]
    last = checks[-1]
    options, rest = split_options(last.text)
    if rest.upper().startswith("NONE"):
        return [
            Finding(
                "CZ103",
                FILE,
                last.line,
                "HEALTHCHECK NONE turns the health check off",
                'probe the service: HEALTHCHECK --interval=2s CMD ["python", "-m", "app.healthcheck"]',
            )
        ]
    found = []
    command = rest[len("CMD") :].strip() if rest.upper().startswith("CMD") else rest
    if exec_form(command) is None:
        found.append(
            Finding(
                "CZ103",
                FILE,
                last.line,
                "HEALTHCHECK's command is in shell form",
                'write it as JSON: CMD ["python", "-m", "app.healthcheck"] (the image may have no shell)',
            )
        )
    interval = duration_seconds(options.get("interval", "30s"))
    if interval is None or interval > MAX_HEALTH_INTERVAL_S:
        found.append(
            Finding(
                "CZ103",
                FILE,
                last.line,
                f"the health check runs every {options.get('interval', '30s (the default)')}",
                "set --interval=5s or less, so that the container is reported healthy soon after it starts",
            )
        )
    return found


def exec_form_rule(final_stage: list[Instruction]) -> list[Finding]:
    """CZ104: the image says what to run (CMD or ENTRYPOINT), in exec form."""
    commands = [ins for ins in final_stage if ins.keyword in {"CMD", "ENTRYPOINT"}]
    if not commands:
        return [Finding("CZ104", FILE, final_stage[0].line, "the image has no CMD", 'add CMD ["python", "-m", "app"]')]
    return [
        Finding(
            "CZ104",
            FILE,
            ins.line,
            f"{ins.keyword} {ins.text} is in shell form",
            f'write {ins.keyword} as a JSON list, e.g. CMD ["python", "-m", "app"]: in shell form /bin/sh is '
            "PID 1, SIGTERM never reaches the service and docker stop kills it (exit 137)",
        )
        for ins in commands
        if exec_form(ins.text) is None
    ]


def exposed_port_rule(final_stage: list[Instruction]) -> list[Finding]:
    """CZ107: EXPOSE, where present, names the port the service listens on and no other."""
    return [
        Finding(
            "CZ107",
            FILE,
            ins.line,
            f"EXPOSE {port} announces a port the service does not listen on",
            f"the service listens on {SERVICE_PORT} (its PORT default): EXPOSE {SERVICE_PORT}, or no EXPOSE at all",
        )
        for ins in final_stage
        if ins.keyword == "EXPOSE"
        for port in ins.text.split()
        if port.lower() not in {SERVICE_PORT, f"{SERVICE_PORT}/tcp"}
    ]


def baked_config_rule(instructions: list[Instruction]) -> list[Finding]:
    """CZ105: no secret and none of the service's deployment settings in ENV or ARG."""
    found = []
    for ins in instructions:
        if ins.keyword not in {"ENV", "ARG"}:
            continue
        for name in assigned_names(ins):
            if name != BASE_ARG and sensitive_name(name):
                found.append(
                    Finding(
                        "CZ105",
                        FILE,
                        ins.line,
                        f"{ins.keyword} {name} bakes it into the image",
                        f"remove it: {name} is given when the container runs (docker run -e, Compose "
                        "environment, a Kubernetes Secret or ConfigMap), and every layer keeps it",
                    )
                )
    return found


def dockerignore_rule(text: str | None) -> list[Finding]:
    """CZ106: .dockerignore keeps history, local secrets, caches and deployment files out of the context."""
    if text is None:
        return [
            Finding(
                "CZ106",
                ".dockerignore",
                0,
                "there is no .dockerignore: every file goes to the build",
                "create .dockerignore excluding .git, .env*, __pycache__, k8s and terraform",
            )
        ]
    patterns = text.splitlines()
    found = [
        Finding(
            "CZ106",
            ".dockerignore",
            0,
            f"{path} would be sent to the build",
            f"exclude it (a line such as {_suggestion(path)})",
        )
        for path in MUST_EXCLUDE
        if not dockerignore_excludes(patterns, path)
    ]
    found += [
        Finding(
            "CZ106",
            ".dockerignore",
            0,
            f"{path} would be left out, and the image needs it",
            "let app/ into the context (a later !app line puts it back)",
        )
        for path in MUST_INCLUDE
        if dockerignore_excludes(patterns, path)
    ]
    return found


def _suggestion(path: str) -> str:
    first = path.split("/", 1)[0]
    if "__pycache__" in path:
        return "**/__pycache__"
    if re.match(r"\.env", first):
        return ".env*"
    return first
