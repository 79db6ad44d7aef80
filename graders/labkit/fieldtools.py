"""Heavy field tools (checkov, docker-compose), each pinned by version in a virtual environment of its own, outside
the checkout.

Such a tool is too large, or pins too many packages of its own, to be one of labkit's dependencies. It is installed
once per machine by `labkit tools install NAME`, never while grading: a stage that needs it says
``requires = ["tool:NAME"]`` and is reported as not run, with the command that installs it, where it is missing.

An installation is built in a temporary folder beside its final place and renamed into it when it works, under a
lock, so that two installs started at once do the work once and a grading never sees half an environment. The
environment is reached through its own ``bin/python`` (never through a script's ``#!`` line, which would name the
temporary folder), which is why the rename is safe.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from labkit.errors import HarnessError
from labkit.settings import TOOLS_DIR, cache_folder, settings

MARKER = "labkit-tool.json"  # written last, before the rename: an environment without it is not an installation
INSTALL_TIMEOUT_S = 1800.0
VERSION_TIMEOUT_S = 120.0
OUTPUT_TAIL = 2000


@dataclass(frozen=True)
class FieldTool:
    name: str
    version: str
    module: str  # run as `python -m module`
    purpose: str
    pins: tuple[str, ...] = ()  # the versions of its dependencies it works with, where its own ranges allow others
    # Dependencies with no wheel for this Python, built from source first without pip's build isolation, with
    # ``build_with`` installed: their sources need build tools older than the ones pip would pick.
    from_source: tuple[str, ...] = ()
    build_with: tuple[str, ...] = ()

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def install_command(self) -> str:
        return f"labkit tools install {self.name}"


TOOLS = {
    "checkov": FieldTool(
        "checkov", "3.3.30", "checkov.main", "policy checks of Dockerfiles, Kubernetes manifests and Terraform"
    ),
    # Compose v1, the Python one: the v2 plugin is a Go binary no grading machine can download. 1.29.2 reads the
    # Compose Specification (depends_on conditions, ${VAR:?message}) but needs docker-py 6 (7 dropped an argument
    # it passes), the requests and urllib3 of that time, and PyYAML 5, which has no wheel for Python 3.11 and
    # builds only with Cython 0.29.
    "docker-compose": FieldTool(
        "docker-compose",
        "1.29.2",
        "compose",
        "runs a Compose file on the Docker engine",
        pins=("docker==6.1.3", "requests==2.31.0", "urllib3==1.26.20"),
        from_source=("pyyaml==5.4.1",),
        build_with=("cython==0.29.37", "wheel", "setuptools"),
    ),
}


def known(name: str) -> FieldTool:
    """The tool labkit pins under ``name``; an unknown name is a harness error that lists the known ones."""
    try:
        return TOOLS[name]
    except KeyError:
        raise HarnessError(f"labkit knows no field tool {name!r}", hint=f"known: {', '.join(sorted(TOOLS))}") from None


def tools_dir() -> Path:
    """Where tools are installed: ``LABKIT_TOOLS_DIR``, else ``$XDG_CACHE_HOME/labkit/tools`` (``~/.cache``)."""
    chosen = settings()
    if chosen.tools_dir is not None:
        return chosen.tools_dir
    return cache_folder() / "tools"


def home(tool: FieldTool) -> Path:
    return tools_dir() / f"{tool.name}-{tool.version}"


def python_of(tool: FieldTool) -> Path | None:
    """The Python of the tool's environment when the tool is installed, else None."""
    folder = home(tool)
    python = folder / "bin" / "python"
    return python if (folder / MARKER).is_file() and python.exists() else None


def why_missing(tool: FieldTool) -> str:
    return f"not installed in {home(tool)}: install it with `{tool.install_command}`"


@dataclass(frozen=True)
class Installed:
    tool: FieldTool
    folder: Path
    already: bool  # it was there before this call


def install(tool: FieldTool, python: str = sys.executable) -> Installed:
    """Installs ``tool`` unless it is installed; a failure is a HarnessError with the tail of pip's output."""
    if python_of(tool) is not None:
        return Installed(tool, home(tool), already=True)
    root = tools_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise HarnessError(f"cannot create {root}: {error}", hint=f"set {TOOLS_DIR} to a writable folder") from None
    with _locked(root / f".{tool.name}-{tool.version}.lock"):
        if python_of(tool) is not None:  # another install finished while this one waited for the lock
            return Installed(tool, home(tool), already=True)
        building = Path(tempfile.mkdtemp(prefix=f".{tool.name}-{tool.version}.", dir=root))
        try:
            _build(tool, building, python)
            building.chmod(0o755)  # mkdtemp's 0700 would hide it from other users who grade
            shutil.rmtree(home(tool), ignore_errors=True)  # an unfinished install by hand, without its marker
            building.rename(home(tool))
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return Installed(tool, home(tool), already=False)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build(tool: FieldTool, folder: Path, python: str) -> None:
    _step([python, "-m", "venv", str(folder)], f"creating a virtual environment for {tool.name}")
    env_python = str(folder / "bin" / "python")
    pip = [env_python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q"]
    if tool.from_source:
        _step([*pip, *tool.build_with], f"pip install {' '.join(tool.build_with)}")
        _step([*pip, "--no-build-isolation", *tool.from_source], f"pip install {' '.join(tool.from_source)}")
    _step([*pip, tool.requirement, *tool.pins], f"pip install {tool.requirement}")
    version = _step([env_python, "-m", tool.module, "--version"], f"{tool.name} --version", VERSION_TIMEOUT_S)
    if tool.version not in version:
        raise HarnessError(f"{tool.name} installed, but it says it is version {version.strip()!r}, not {tool.version}")
    (folder / MARKER).write_text(json.dumps({"name": tool.name, "version": tool.version}) + "\n", encoding="utf-8")


def _step(command: Sequence[str], what: str, timeout: float = INSTALL_TIMEOUT_S) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise HarnessError(f"{what} did not finish within {timeout:g} s") from None
    except OSError as error:
        raise HarnessError(f"{what} could not start: {error}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout)[-OUTPUT_TAIL:].strip()
        raise HarnessError(f"{what} failed with exit code {done.returncode}:\n{tail}")
    return done.stdout


@dataclass(frozen=True)
class ToolRun:
    exit_code: int
    stdout: str
    stderr: str


def run(
    tool: FieldTool, args: Sequence[str], *, cwd: Path, timeout: float, env: Mapping[str, str] | None = None
) -> ToolRun:
    """Runs an installed ``tool`` with ``args`` in ``cwd``, which is also its HOME: it reads no configuration of the
    user's. Its environment is PATH, the locale and ``env``. Not installed, not started or past ``timeout``: a
    HarnessError (the grading machine's state, never the learner's fault)."""
    python = python_of(tool)
    if python is None:
        raise HarnessError(f"{tool.name} {tool.version} is {why_missing(tool)}")
    try:
        done = subprocess.run(
            [str(python), "-m", tool.module, *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8", **_engine_settings(), **(env or {})},
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise HarnessError(f"{tool.name} did not finish within {timeout:g} s") from None
    except OSError as error:
        raise HarnessError(f"{tool.name} could not start: {error}") from None
    return ToolRun(done.returncode, done.stdout, done.stderr)


ENGINE_SETTINGS = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")


def _engine_settings() -> dict[str, str]:
    """Where the Docker engine is, for a tool that talks to it, as the user's environment says."""
    return {name: value for name in ENGINE_SETTINGS if (value := os.environ.get(name))}
