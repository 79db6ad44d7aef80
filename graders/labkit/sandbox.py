"""`--sandbox docker`: the learner's program runs in a container, while the grader observes it exactly as before.

The network is the delicate part. Each lab run gets one network namespace, held by a small container with no
network but its loopback (the "pod", as Kubernetes calls the same arrangement). Learner containers and service
containers join it (``--network container:<pod>``), and the grader's pytest process enters it too (``setns``, at
start-up). Everybody shares that one loopback: the grader reaches the learner on ``127.0.0.1:$PORT`` exactly as in
process mode, with no proxy and no port publishing that could change what a TCP peer observes (segment
boundaries, resets, half-closes), and the learner reaches nothing but its grader and its services: there is no
route off the loopback. Publishing the learner's port on the host instead would need the learner to listen on
every address and would put docker-proxy, a TCP relay, between the grader and the program.

Everything else mirrors process mode: the program starts under ``labkit-init`` (PID 1 in the container, see
docker/sandbox/), which applies the lab's rlimits, writes the program's output to size-capped files in a mounted
log folder, forwards signals, and reports how the program ended. cgroups add what rlimits cannot: memory, number
of processes and threads, CPU share. Joining a network namespace needs root on a Linux host, which is what CI
runners and the grader image have.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from docker.errors import DockerException, NotFound

from labkit import driver_main
from labkit.containers import (
    EngineRefused,
    engine,
    image_present,
    remove_labelled,
    remove_quietly,
    run_labels,
    start_with_retries,
    sweep_orphans,
)
from labkit.errors import CheckFailed, HarnessError
from labkit.run_config import SandboxChoice
from labkit.settings import POLYGLOT_IMAGE, SANDBOX_IMAGE, SANDBOX_POD, settings
from labkit.supervisor import ENV_ALLOW, LaunchSpec, LearnerProcess, learner_env
from labkit.sweep import kill_marked
from labkit.wait import until

SUBMISSION, LOGS, DRIVER_MAIN = "/submission", "/labkit/logs", "/labkit/driver_main.py"
SANDBOX_UID = SANDBOX_GID = 10001  # the image's `learner` user (docker/sandbox/Dockerfile)
SANDBOX_USER = f"{SANDBOX_UID}:{SANDBOX_GID}"
TMPFS_MB = 64
MEMORY_SLACK_MB = 64  # the rlimit on address space binds first, as in process mode; the cgroup is the backstop
START_TIMEOUT_S = 30.0
REPORT_WAIT_S = 1.0
DOCKER_RUN_FAILED = 125  # `docker run`'s own exit code when the engine did not run the container
MONITOR_INTERVAL_S = 0.2
CLONE_NEWNET = 0x40000000
HOST_PATHS = frozenset(ENV_ALLOW) - {"LANG", "LC_ALL", "TZ"}  # toolchain paths of the host mean nothing inside
REPORT = re.compile(rb"^labkit-init: (started|exit|not-found|not-executable) ?(.*)$", re.MULTILINE)


# What the polyglot image adds to the default one (docker/sandbox-polyglot/Dockerfile): a program started by one of
# these names is a toolchain the default image lacks, not a typo.
POLYGLOT_TOOLCHAINS = frozenset(
    {"gcc", "g++", "cc", "c++", "make", "go", "gofmt", "rustc", "cargo", "node", "nodejs", "java", "javac", "jshell"}
)
POLYGLOT_LANGUAGES = "C, C++, Go, Rust, Node.js and Java"


def sandbox_image(choice: SandboxChoice = SandboxChoice.DOCKER) -> str:
    return settings().polyglot_image if choice is SandboxChoice.POLYGLOT else settings().sandbox_image


def pod_name(run_id: str) -> str:
    return f"labkit-{run_id}-net"


def _build_hint(image: str, choice: SandboxChoice) -> str:
    targets, variable = ("base sandbox sandbox-polyglot", POLYGLOT_IMAGE) if choice is SandboxChoice.POLYGLOT else (
        "base sandbox", SANDBOX_IMAGE)  # fmt: skip
    return (
        f"build it without a registry: docker/build-images.sh {targets} (or set {variable}); "
        f"image {image} is never pulled"
    )


def missing_program_hint(program: str, choice: SandboxChoice) -> str:
    """What to do when the sandbox has no ``program``: the other image where it is a toolchain the default lacks."""
    name = Path(program).name
    if choice is not SandboxChoice.POLYGLOT and name in POLYGLOT_TOOLCHAINS:
        return (
            f"the default sandbox image has Python only; {name} is in the polyglot image: grade with "
            f"--sandbox polyglot ({POLYGLOT_LANGUAGES}; build it with docker/build-images.sh sandbox-polyglot)"
        )
    has = f"python3, {POLYGLOT_LANGUAGES}" if choice is SandboxChoice.POLYGLOT else (
        f"python3 (--sandbox polyglot adds {POLYGLOT_LANGUAGES})")  # fmt: skip
    return (
        "check the command in run.toml (or the lab's default) and that the file exists; the sandbox image has "
        f"{has} and the files of your folder, nothing of your machine"
    )


class SandboxNetwork:
    """The run's network namespace: a holder container, and the ``setns`` that moves the grader into it."""

    def __init__(self, client: Any, run_id: str, netns_fd: int) -> None:
        self._client = client
        self._run_id = run_id
        self._fd = netns_fd
        self._setns = ctypes.CDLL(None, use_errno=True).setns

    @classmethod
    def open(cls, run_id: str, choice: SandboxChoice = SandboxChoice.DOCKER) -> SandboxNetwork:
        if not sys.platform.startswith("linux"):
            raise HarnessError(
                "--sandbox docker needs a Linux host: the grader joins the sandbox's network namespace",
                hint="run labkit inside the grader image (see the README's Containers section)",
            )
        if os.geteuid() != 0:
            raise HarnessError(
                "--sandbox docker needs root: the grader joins the sandbox's network namespace (setns)",
                hint="run it as root (CI runners are), or inside the grader image; --sandbox process needs neither",
            )
        if shutil.which("docker") is None:
            raise HarnessError("--sandbox docker needs the docker command-line client on PATH")
        client = engine()
        image = sandbox_image(choice)
        if not image_present(client, image):
            client.close()
            raise HarnessError(
                f"the sandbox image {image} is not on this Docker engine", hint=_build_hint(image, choice)
            )
        sweep_orphans(client)
        name = pod_name(run_id)

        def start_holder() -> int:
            # sleep, not labkit-init: PID 1 of its namespace that installs no handler at all, so the kernel drops
            # every signal sent to it, from the host too, but SIGKILL and SIGSTOP, from its first instruction on.
            # A stray SIGTERM or SIGINT (a reused pid, a process group on a busy host) cannot end the run's network.
            holder = client.containers.run(
                image, ["infinity"], entrypoint=["sleep"], name=name, detach=True, network_mode="none", read_only=True,
                cap_drop=["ALL"], security_opt=["no-new-privileges"], pids_limit=4, mem_limit="32m",
                labels=run_labels(run_id), user=SANDBOX_USER,
            )  # fmt: skip
            holder.reload()
            state = holder.attrs["State"]
            if not state.get("Running") or not state.get("Pid"):
                raise EngineRefused(
                    f"the holder container exited at once ({state.get('Status')}, {state.get('Error')})"
                )
            return os.open(f"/proc/{state['Pid']}/ns/net", os.O_RDONLY | os.O_CLOEXEC)

        try:
            fd = start_with_retries(start_holder, lambda: remove_quietly(client, name), "the sandbox's network holder")
        except HarnessError as exc:
            remove_labelled(client, f"labkit.run={run_id}")
            client.close()
            raise HarnessError(f"could not create the sandbox's network namespace: {exc}") from exc
        return cls(client, run_id, fd)

    def grader_env(self) -> dict[str, str]:
        """Tells the grader's docker service provider to start its containers in this namespace."""
        return {SANDBOX_POD: pod_name(self._run_id)}

    def enter(self) -> None:
        """``preexec_fn`` of the grader's pytest process: from here on its sockets live in the sandbox."""
        if self._setns(self._fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns into the sandbox network namespace failed")

    def lost(self) -> str | None:
        """The holder and how it ended, if it did before :meth:`close` (see :func:`holder_stopped`)."""
        return holder_stopped(pod_name(self._run_id))

    def close(self) -> None:
        """Removes the holder and anything else still labelled with this run (learners, services)."""
        os.close(self._fd)
        try:
            remove_labelled(self._client, f"labkit.run={self._run_id}")
        finally:
            self._client.close()


def holder_stopped(pod: str) -> str | None:
    """The run's network holder and how it ended, in words ("labkit-<run>-net stopped (killed by SIGKILL, at ...)");
    None while it runs, or when the engine cannot say."""
    try:
        state = _shared_engine().containers.get(pod).attrs["State"]
    except NotFound:
        return f"{pod} was removed"
    except (DockerException, HarnessError, KeyError, OSError):  # OSError: requests' own, an engine out of reach
        return None
    if state.get("Running"):
        return None
    how = _ending(int(state.get("ExitCode") or 0))
    if state.get("OOMKilled"):
        how += ", out of memory"
    if state.get("Error"):
        how += f", engine error: {state['Error']}"
    return f"{pod} stopped ({how}, at {state.get('FinishedAt', 'an unknown time')})"


def _ending(code: int) -> str:
    """A container's exit code in words: above 128, the signal that killed its first process."""
    if code > 128:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(code - 128).name}"
    return f"exit code {code}"


_engine: Any = None


def _shared_engine() -> Any:
    global _engine
    if _engine is None:
        _engine = engine()
    return _engine


def container_command(command: tuple[str, ...], impl: Path) -> list[str]:
    """The host command as seen inside: the image's python3, the mounted submission and driver."""
    mapping = {sys.executable: "python3", str(Path(driver_main.__file__)): DRIVER_MAIN, str(impl): SUBMISSION}
    translated = []
    for part in command:
        if part in mapping:
            translated.append(mapping[part])
        elif part.startswith(f"{impl}/"):
            translated.append(SUBMISSION + part[len(str(impl)) :])
        else:
            translated.append(part)
    return translated


def container_env(spec: LaunchSpec) -> dict[str, str]:
    """The allow-listed learner environment of process mode, minus the host's toolchain paths."""
    env = {name: value for name, value in learner_env(spec, Path("/tmp")).items() if name not in HOST_PATHS}
    env.setdefault("LANG", "C.UTF-8")
    return env


def rlimit_args(spec: LaunchSpec) -> list[str]:
    """The rlimits of process mode, applied by labkit-init to the program only. RLIMIT_NPROC counts a uid's
    processes across the whole host, so inside a container the pids cgroup takes its place."""
    limits, mib = spec.limits, 1024 * 1024
    values = {"as": limits.memory_mb * mib, "fsize": limits.output_mb * mib, "nofile": limits.open_files,
              "cpu": limits.cpu_seconds, "core": 0}  # fmt: skip
    return [arg for name, value in values.items() for arg in ("--rlimit", f"{name}={value}")]


def docker_run_argv(
    spec: LaunchSpec, name: str, pod: str, env_file: Path, labels: dict[str, str], run_dir: Path, image: str
) -> list[str]:
    """``run_dir`` is mounted read-only at its own path: files a grader prepares there for the program (a
    document root, a dataset) and hands over by path in the environment are where the path says."""
    limits = spec.limits
    memory = f"{limits.memory_mb + TMPFS_MB + MEMORY_SLACK_MB}m"
    init = ["--pipes", "--stderr", f"{LOGS}/stderr.log"] if spec.pipes else [
        "--stdout", f"{LOGS}/stdout.log", "--stderr", f"{LOGS}/stderr.log"]  # fmt: skip
    if spec.stdin is not None and not spec.pipes:
        init += ["--stdin", _inside(spec.stdin, spec.logs)]
    return [
        "docker", "run", "--name", name, "--pull", "never", "--sig-proxy=false", *(["-i"] if spec.pipes else []),
        "--network", f"container:{pod}", "--user", SANDBOX_USER,
        # exec: a compiled program (C, Go, Rust, ...) is built in /tmp and run from there; nosuid keeps it harmless.
        "--read-only", "--tmpfs", f"/tmp:rw,exec,nosuid,nodev,size={TMPFS_MB}m,mode=1777",
        "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        "--memory", memory, "--memory-swap", memory, "--pids-limit", str(limits.processes),
        "--cpus", settings().sandbox_cpus,
        "-v", f"{spec.cwd}:{SUBMISSION}:ro", "-v", f"{spec.logs}:{LOGS}",
        "-v", f"{Path(driver_main.__file__)}:{DRIVER_MAIN}:ro", "-v", f"{run_dir}:{run_dir}:ro",
        *(arg for folder in spec.writable for arg in ("-v", f"{folder}:{folder}")),
        "-w", SUBMISSION, "--env-file", str(env_file),
        *(arg for key, value in labels.items() for arg in ("--label", f"{key}={value}")),
        image, *init, *rlimit_args(spec), "--", *container_command(spec.command, spec.cwd),
    ]  # fmt: skip


def _inside(path: Path, logs: Path) -> str:
    """Where a file of the host is seen in the container: the log folder is mounted at LOGS, the run folder (and
    a writable folder) at its own path."""
    return f"{LOGS}/{path.relative_to(logs)}" if path.is_relative_to(logs) else str(path)


def _share_with_sandbox(path: Path, mode: int) -> None:
    os.chown(path, -1, SANDBOX_GID)
    path.chmod(mode)


def _write_env_file(path: Path, env: dict[str, str]) -> None:
    bad = [name for name, value in env.items() if "\n" in value or "\n" in name]
    if bad:
        raise HarnessError(f"environment variables {bad} hold a newline, which --sandbox docker cannot pass")
    path.write_text("".join(f"{name}={value}\n" for name, value in env.items()), encoding="utf-8")
    path.chmod(0o600)  # may hold a database password; the container user never sees this file


class _LimitWatch:
    """Samples the container's cgroup counters while it runs: a limit hit is gone with the cgroup otherwise."""

    def __init__(self, init_pid: int, alive: Any) -> None:
        self.pids_refused = 0
        self.oom_kills = 0
        self._files = _cgroup_counter_files(init_pid)
        self._alive = alive
        self._thread = threading.Thread(target=self._run, daemon=True)
        if self._files:
            self._thread.start()

    def _run(self) -> None:
        while self._alive():
            self.sample()
            time.sleep(MONITOR_INTERVAL_S)

    def sample(self) -> None:
        for kind, path in self._files.items():
            try:
                counters = dict(line.split()[:2] for line in path.read_text().splitlines() if " " in line)
            except (OSError, ValueError):
                continue
            if kind == "pids":
                self.pids_refused = max(self.pids_refused, int(counters.get("max", 0)))
            else:
                self.oom_kills = max(self.oom_kills, int(counters.get("oom_kill", 0)))


def _cgroup_counter_files(pid: int) -> dict[str, Path]:
    """pids.events and the memory controller's OOM counter of ``pid``'s cgroup, for cgroup v1 and v2."""
    files: dict[str, Path] = {}
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return files
    root = Path("/sys/fs/cgroup")
    for line in lines:
        _, controllers, path = line.split(":", 2)
        relative = path.lstrip("/")
        candidates = {"pids": [root / "pids" / relative / "pids.events"],
                      "memory": [root / "memory" / relative / "memory.oom_control"]}  # fmt: skip
        if controllers == "":
            for base in (root, root / "unified"):
                candidates["pids"].append(base / relative / "pids.events")
                candidates["memory"].append(base / relative / "memory.events")
        for kind, paths in candidates.items():
            found = next((p for p in paths if p.is_file()), None)
            if found is not None and kind not in files:
                files[kind] = found
    return files


class SandboxedProcess(LearnerProcess):
    """A learner program in a sandbox container; same interface as :class:`LearnerProcess`.

    ``popen`` is the attached ``docker run`` client: its pipes are the program's (a driver's protocol), its exit
    is the container's. ``pid`` is the program's pid on the host, for signals and memory readings.
    """

    def __init__(
        self,
        spec: LaunchSpec,
        popen: subprocess.Popen[bytes],
        names: tuple[str, str],
        report: Path,
        choice: SandboxChoice,
    ) -> None:
        name, pod = names  # the program's container, and the holder of the network it joins
        super().__init__(spec, popen, spec.logs / "stdout.log", spec.logs / "stderr.log")
        self.choice = choice
        self.container = name
        self._pod = pod
        self._report = report
        self._program: psutil.Process | None = None  # on the host; psutil tells it from a later owner of its pid
        self._code: int | None = None
        self._oom_killed = False
        self._watch: _LimitWatch | None = None

    @classmethod
    def launch(
        cls, spec: LaunchSpec, run_id: str, run_dir: Path, choice: SandboxChoice = SandboxChoice.DOCKER
    ) -> SandboxedProcess:
        spec.logs.mkdir(parents=True, exist_ok=True)
        # The container's user reaches the run folder through its group only: it may read what the grader
        # prepared there and write its two output files, and create nothing. Other users may only traverse it
        # (o+x, no listing), which the embedded PostgreSQL's account needs to reach its data folder inside.
        _share_with_sandbox(run_dir, 0o751)
        _share_with_sandbox(spec.logs, 0o750)
        if spec.stdin is not None:
            _share_with_sandbox(spec.stdin, 0o640)
        for folder in spec.writable:  # a cluster node's data: it lives on across the node's containers
            _share_with_sandbox(folder, 0o770)
        env_file, report = spec.logs / "sandbox.env", spec.logs / "sandbox.log"
        _write_env_file(env_file, container_env(spec))
        name, pod = "labkit-" + spec.marker.replace(".", "-"), pod_name(run_id)
        argv = docker_run_argv(spec, name, pod, env_file, run_labels(run_id), run_dir, sandbox_image(choice))

        def start() -> SandboxedProcess:
            for output in ("stdout.log", "stderr.log"):
                (spec.logs / output).write_bytes(b"")
                _share_with_sandbox(spec.logs / output, 0o660)
            with report.open("wb") as sink:
                popen = subprocess.Popen(
                    argv, stdin=subprocess.PIPE if spec.pipes else subprocess.DEVNULL,
                    stdout=subprocess.PIPE if spec.pipes else subprocess.DEVNULL, stderr=sink,
                    start_new_session=True,
                )  # fmt: skip
            process = cls(spec, popen, (name, pod), report, choice)
            try:
                process._await_start()
            except BaseException:
                process.stop()  # removes whatever the attempt left on the engine
                raise
            return process

        return start_with_retries(start, lambda: None, "the sandbox container of your program")

    def _reports(self) -> list[tuple[str, str]]:
        try:
            text = self._report.read_bytes()
        except OSError:
            return []
        return [(kind.decode(), detail.decode(errors="replace")) for kind, detail in REPORT.findall(text)]

    def _await_start(self) -> None:
        if not until(self._started, START_TIMEOUT_S):
            raise HarnessError(f"the sandbox container did not start within {START_TIMEOUT_S:g} s")
        self._attach()

    def _started(self) -> bool:
        """Whether labkit-init reported the program started; raises when it, or docker run, reported a failure."""
        reports = dict(self._reports())
        if "started" in reports:
            return True
        command = list(self.spec.command)
        if "not-found" in reports:
            raise CheckFailed(
                f"could not start your program: {command[0]!r} was not found",
                got=" ".join(command),
                hint=missing_program_hint(command[0], self.choice),
            )
        if "not-executable" in reports:
            raise CheckFailed(
                f"could not start your program: {command[0]!r} is not executable",
                got=" ".join(command),
                hint="make the file executable (chmod +x) or start it through its interpreter",
            )
        code = self.popen.poll()
        if code == DOCKER_RUN_FAILED:
            if (stopped := holder_stopped(self._pod)) is not None:
                raise HarnessError(
                    f"the sandbox's network holder {stopped}, so no program of this run can join its "
                    "network any more (labkit grades the lab again once)",
                    hint="nothing in labkit stops it before the run ends: look at the engine's log (journalctl -u "
                    "docker, or dockerd's output) and at what else on this machine may kill processes",
                )
            raise EngineRefused(f"docker run failed:\n{self._report_text()}")
        if code is not None:
            raise HarnessError(f"the sandbox container did not start:\n{self._report_text()}")
        return False

    def _report_text(self) -> str:
        try:
            return self._report.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no output from docker run)"

    def _attach(self) -> None:
        """Finds the program's host pid (labkit-init's only child) and starts watching the cgroup's limits."""
        try:
            state = _shared_engine().containers.get(self.container).attrs["State"]
            init = psutil.Process(state["Pid"])
            children = init.children()
        except (DockerException, psutil.Error, KeyError):
            return  # already gone: exit_code() tells the story
        self._program = children[0] if children else init
        self._watch = _LimitWatch(init.pid, lambda: self.popen.poll() is None)

    @property
    def pid(self) -> int:
        return self._program.pid if self._program is not None else self.popen.pid

    def exit_code(self) -> int | None:
        """The program's exit code (negative: the signal that killed it), as soon as labkit-init reports it.

        Waiting for the container and its client to wind down too would answer late: a check that fails because
        the program crashed must see, as in process mode, that the program is gone."""
        if self._code is not None:
            return self._code
        code = self._reported_exit()
        if code is None and self.popen.poll() is None:
            if not self._program_gone():
                return None
            code = self._reported_exit(wait_s=REPORT_WAIT_S)  # reaped just now: its report is a moment away
            if code is None:
                return None
        if code is None:  # labkit-init itself was killed: docker's 128 + signal convention is all there is
            client_code = self.popen.wait()
            code = -(client_code - 128) if client_code > 128 else client_code
        self._code = code
        self._read_oom_flag()
        return code

    def _reported_exit(self, wait_s: float = 0.0) -> int | None:
        detail = until(self._exit_report, wait_s, interval=0.005)  # the text, not the int: exit code 0 counts
        return None if detail is None else int(detail)

    def _exit_report(self) -> str | None:
        exits = [detail for kind, detail in self._reports() if kind == "exit"]
        return exits[-1] if exits and exits[-1].lstrip("-").isdigit() else None

    def _program_gone(self) -> bool:
        if self._program is None:
            return False
        try:
            return not self._program.is_running() or self._program.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    def _read_oom_flag(self) -> None:
        try:
            self._oom_killed = bool(_shared_engine().containers.get(self.container).attrs["State"]["OOMKilled"])
        except (DockerException, KeyError, HarnessError):
            return

    def wait_exit(self, timeout: float) -> int | None:
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.exit_code()

    def send_signal(self, sig: signal.Signals) -> None:
        if self._program is not None:
            with contextlib.suppress(psutil.NoSuchProcess):  # gone: its pid may be another process's by now
                self._program.send_signal(sig)
            return
        try:
            _shared_engine().containers.get(self.container).kill(signal=int(sig))
        except DockerException:
            return

    def memory_limit_hit(self) -> bool:
        return self._oom_killed or (self._watch is not None and self._watch.oom_kills > 0)

    def limit_notes(self) -> list[str]:
        """Sandbox limits this program ran into, in words; empty when it stayed within them."""
        if self._watch is not None and self.popen.poll() is None:
            self._watch.sample()
        notes = []
        if self.memory_limit_hit():
            notes.append(f"[sandbox] memory limit reached: the kernel stopped your program ({self._memory_mb()})")
        if self._watch is not None and self._watch.pids_refused:
            notes.append(
                f"[sandbox] process limit reached: {self._watch.pids_refused} attempt(s) to start a process or "
                f"thread were refused (at most {self.spec.limits.processes} at once)"
            )
        return notes

    def _memory_mb(self) -> str:
        return f"more than {self.spec.limits.memory_mb} MiB"

    def stderr_tail(self) -> str:
        tail = super().stderr_tail()
        notes = self.limit_notes()
        return "\n".join([tail.rstrip("\n"), *notes]) if notes and tail else "\n".join(notes) or tail

    def _exited_early(self, code: int) -> CheckFailed:
        if self.memory_limit_hit():
            return CheckFailed(
                f"your program was stopped for using {self._memory_mb()} of memory before it was ready",
                hint="do not allocate in proportion to what a client announces; read and store incrementally",
            )
        return super()._exited_early(code)

    def stop(self) -> None:
        """Removes the container (everything in it dies with it), then reaps the docker client."""
        self.stopped_by_grader = True  # as in process mode: its exit from here on is the grader's doing
        self.exit_code()  # reads the OOM flag while the container still exists
        try:
            _shared_engine().containers.get(self.container).remove(force=True, v=True)
        except (NotFound, HarnessError):
            pass
        except DockerException:
            subprocess.run(["docker", "rm", "-f", "-v", self.container], capture_output=True, check=False)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        for pipe in (self.popen.stdin, self.popen.stdout):
            if pipe is not None:
                pipe.close()
        kill_marked(self.spec.marker)  # as in process mode: nothing carrying the marker survives on the host
