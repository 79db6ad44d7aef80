"""Starting, watching and cleaning up a learner's program.

The program runs in its own session with resource limits and file-backed, size-capped output. Readiness is
polled with a deadline, never slept for. Teardown kills the process group, then sweeps escaped processes by
their run marker, so a crashing, hanging, flooding or daemonising program leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import signal
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psutil

from labkit import context
from labkit.catalog import Limits
from labkit.errors import CheckFailed, HarnessError
from labkit.readiness import TcpReady
from labkit.sweep import MARKER_VARIABLE, descendants, kill_marked, kill_processes

ENV_ALLOW = (
    "PATH",
    "LANG",
    "LC_ALL",
    "TZ",
    "GOPATH",
    "GOCACHE",
    "GOROOT",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "JAVA_HOME",
)
STDERR_TAIL_BYTES = 2000
EARLIER_OUTPUT = "(nothing written during this check; written before it:)"


@dataclass(frozen=True)
class LaunchSpec:
    command: tuple[str, ...]
    cwd: Path
    logs: Path
    marker: str
    limits: Limits
    port: int | None = None
    extra_env: Mapping[str, str] | None = None
    pipes: bool = False  # stdin/stdout are pipes to the grader (a driver's protocol) instead of /dev/null and a file
    stdin: Path | None = None  # a file the program reads as its standard input (a client run), else /dev/null
    writable: tuple[Path, ...] = ()  # folders the program keeps state in (a cluster node's data); see sandbox.py


def learner_env(spec: LaunchSpec, scratch: Path) -> dict[str, str]:
    """An allow-listed environment: nothing of the grader's secrets or configuration leaks in."""
    env = {name: os.environ[name] for name in ENV_ALLOW if name in os.environ}
    env.update(
        HOME=str(scratch),
        TMPDIR=str(scratch),
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        **{MARKER_VARIABLE: spec.marker},
    )
    if spec.port is not None:
        env["PORT"] = str(spec.port)
    env.update(spec.extra_env or {})
    return env


def limit_resources(limits: Limits) -> Callable[[], None]:
    """Builds the pre-exec hook. RLIMIT_NPROC binds only non-root users; the marker sweep covers the rest."""

    def apply() -> None:
        mib = 1024 * 1024
        for kind, value in (
            (resource.RLIMIT_AS, limits.memory_mb * mib),
            (resource.RLIMIT_FSIZE, limits.output_mb * mib),
            (resource.RLIMIT_NOFILE, limits.open_files),
            (resource.RLIMIT_NPROC, limits.processes),
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_CORE, 0),
        ):
            resource.setrlimit(kind, (value, value))

    return apply


class LearnerProcess:
    """One running learner program. Create with :meth:`start`; always :meth:`stop` (fixtures do)."""

    def __init__(self, spec: LaunchSpec, popen: subprocess.Popen[bytes], stdout: Path, stderr: Path) -> None:
        self.spec = spec
        self.popen = popen
        self.stdout_path = stdout
        self.stderr_path = stderr
        self.port = spec.port
        context.track_stderr(stderr)

    @classmethod
    def start(cls, spec: LaunchSpec) -> LearnerProcess:
        spec.logs.mkdir(parents=True, exist_ok=True)
        scratch = spec.logs / "scratch"
        scratch.mkdir(exist_ok=True)
        stdout, stderr = spec.logs / "stdout.log", spec.logs / "stderr.log"
        command = list(spec.command)
        try:
            with stdout.open("wb") as out, stderr.open("wb") as err, _stdin_of(spec) as stdin:
                popen = subprocess.Popen(
                    command,
                    cwd=spec.cwd,
                    env=learner_env(spec, scratch),
                    stdin=stdin,
                    stdout=subprocess.PIPE if spec.pipes else out,
                    stderr=err,
                    start_new_session=True,
                    preexec_fn=limit_resources(spec.limits),
                )
        except FileNotFoundError as error:
            raise CheckFailed(
                f"could not start your program: {command[0]!r} was not found",
                got=" ".join(command),
                hint="check the command in run.toml (or the lab's default) and that the file exists",
            ) from error
        except PermissionError as error:
            raise CheckFailed(
                f"could not start your program: {command[0]!r} is not executable",
                got=" ".join(command),
                hint="make the file executable (chmod +x) or start it through its interpreter",
            ) from error
        return cls(spec, popen, stdout, stderr)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def exit_code(self) -> int | None:
        return self.popen.poll()

    def wait_ready_tcp(self, timeout: float) -> None:
        """Polls until the program accepts on its port; explains precisely when it does not."""
        TcpReady().wait(self, timeout)

    def _exited_early(self, code: int) -> CheckFailed:
        if code == -signal.SIGXFSZ or self._output_size() >= self.spec.limits.output_mb * 1024 * 1024:
            return CheckFailed(
                f"your program was stopped for writing more than {self.spec.limits.output_mb} MiB of output",
                hint="do not print per byte or in a tight loop; log less, or only on errors",
            )
        how = f"was killed by signal {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
        hint = "see the stderr shown below"
        if code == 0:
            hint = "a server must keep running in the foreground: do not fork into the background or daemonise"
        return CheckFailed(
            f"your program {how} before it was ready on port {self.port}",
            hint=hint,
        )

    def _output_size(self) -> int:
        return sum(path.stat().st_size for path in (self.stdout_path, self.stderr_path) if path.exists())

    def listening_ports(self) -> set[int]:
        """TCP ports on which the program (or any process carrying its marker) listens."""
        ports: set[int] = set()
        try:
            processes = [psutil.Process(self.pid), *psutil.Process(self.pid).children(recursive=True)]
        except psutil.Error:
            processes = []
        for process in processes:
            try:
                connections = process.net_connections(kind="inet")
            except psutil.Error:
                continue
            ports.update(c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN and c.laddr)
        return ports

    def stderr_tail(self) -> str:
        """What the program wrote on stderr during the current check (its last lines). When it wrote nothing then
        but ended during the check, its older output may explain why: it is shown under a line that says so."""
        start = context.stderr_start(self.stderr_path)
        recent = _tail(self.stderr_path, STDERR_TAIL_BYTES, start=start)
        if recent or start == 0 or self.exit_code() is None:
            return recent
        older = _tail(self.stderr_path, STDERR_TAIL_BYTES, end=start)
        return f"{EARLIER_OUTPUT}\n{older}" if older else ""

    def stdout_tail(self) -> str:
        return _tail(self.stdout_path, STDERR_TAIL_BYTES)

    def send_signal(self, sig: signal.Signals) -> None:
        try:
            self.popen.send_signal(sig)
        except ProcessLookupError:
            return

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """Kills the whole process group, reaps the child, then sweeps escaped processes by marker.

        Descendants still attached to the program are killed too, even those that left its process group and
        dropped the marker; one whose parent already exited was adopted by the grader (``adopt_orphans``) and
        dies with the run's final sweep (``kill_descendants``)."""
        self.stopped_by_grader = True  # its exit from here on is the grader's doing, not a crash of the program
        attached = descendants(self.popen.pid)
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        except PermissionError as error:
            if error.errno != errno.EPERM:
                raise
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired as error:
            raise HarnessError(f"learner process {self.popen.pid} did not die after SIGKILL") from error
        for pipe in (self.popen.stdin, self.popen.stdout):
            if pipe is not None:
                pipe.close()
        kill_processes(attached)
        kill_marked(self.spec.marker)


def _stdin_of(spec: LaunchSpec) -> IO[bytes] | contextlib.nullcontext[int]:
    if spec.pipes:
        return contextlib.nullcontext(subprocess.PIPE)
    if spec.stdin is not None:
        return spec.stdin.open("rb")
    return contextlib.nullcontext(subprocess.DEVNULL)


def _tail(path: Path, limit: int, *, start: int = 0, end: int | None = None) -> str:
    """The last ``limit`` bytes of the file's part from ``start`` to ``end`` (default: its end)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END) if end is None else end
            first = max(start, size - limit)
            handle.seek(first)
            data = handle.read(max(0, size - first))
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return ("…" + text) if first > start else text
