"""The reference solution: one asyncio event loop for the IO (README.md is the spec).

Requests run as tasks behind a semaphore of LIMIT, each attempt under a timeout, on plain asyncio streams with one
connection per attempt; digests go to a process pool of WORKERS processes, so the loop keeps serving the heartbeat.
SIGINT cancels the main task, which cancels every job and still prints every line.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

RETRYABLE = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Config:
    host: str
    port: int
    limit: int
    timeout_s: float
    retries: int
    backoff_s: float
    rounds: int
    workers: int

    @classmethod
    def from_env(cls) -> Config:
        upstream = urlsplit(os.environ["UPSTREAM"])
        return cls(
            host=upstream.hostname or "127.0.0.1",
            port=upstream.port or 80,
            limit=int(os.environ["LIMIT"]),
            timeout_s=int(os.environ["TIMEOUT_MS"]) / 1000,
            retries=int(os.environ["RETRIES"]),
            backoff_s=int(os.environ["BACKOFF_MS"]) / 1000,
            rounds=int(os.environ["ROUNDS"]),
            workers=int(os.environ["WORKERS"]),
        )


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def digest(body: bytes, rounds: int) -> str:
    value = body
    for _ in range(rounds):
        value = hashlib.sha256(value).digest()
    return value.hex()


async def request(config: Config, method: str, path: str) -> Answer:
    """One HTTP/1.1 exchange on its own connection, closed whatever happens (a timeout cancels us midway)."""
    reader, writer = await asyncio.open_connection(config.host, config.port)
    try:
        head = f"{method} {path} HTTP/1.1\r\nHost: {config.host}:{config.port}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode())
        await writer.drain()
        status_line = await reader.readline()
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return Answer(status, headers, body)
    finally:
        writer.close()


class Runner:
    def __init__(self, config: Config, pool: ProcessPoolExecutor) -> None:
        self.config = config
        self.pool = pool
        self.slots = asyncio.Semaphore(config.limit)
        # The tally: every task updates it, but only between two awaits, so no update can be lost.
        self.attempts = 0
        self.bytes = 0

    async def attempt(self, method: str, path: str) -> Answer | str:
        """An answer, or the final outcome of an attempt that got none."""
        async with self.slots:
            self.attempts += 1
            try:
                async with asyncio.timeout(self.config.timeout_s):
                    answer = await request(self.config, method, path)
                self.bytes += len(answer.body)
                return answer
            except TimeoutError:
                return "TIMEOUT"
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                return "FAILED 0"

    async def job(self, method: str, path: str) -> str:
        retry = 0
        while True:
            answer = await self.attempt(method, path)
            if isinstance(answer, str):
                return answer
            if answer.status == 200:
                loop = asyncio.get_running_loop()
                hexdigest = await loop.run_in_executor(self.pool, digest, answer.body, self.config.rounds)
                return f"OK {answer.body.decode()} {hexdigest}"
            if method != "GET" or answer.status not in RETRYABLE or retry == self.config.retries:
                return f"FAILED {answer.status}"
            retry += 1
            await asyncio.sleep(self.wait_before(retry, answer))

    def wait_before(self, retry: int, answer: Answer) -> float:
        retry_after = answer.headers.get("retry-after", "")
        if retry_after.isdigit():
            return float(retry_after)
        ceiling = self.config.backoff_s * 2 ** (retry - 1)
        return random.uniform(ceiling / 2, ceiling)


async def heartbeat(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while line := await reader.readline():
            if line.strip() == b"ping":
                writer.write(b"pong\n")
                await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def fetch_jobs(config: Config) -> list[tuple[str, str]]:
    answer = await request(config, "GET", "/jobs")
    return [(method, path) for method, path in (line.split(" ", 1) for line in answer.body.decode().splitlines())]


async def run(config: Config) -> int:
    main = asyncio.current_task()
    assert main is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, main.cancel)
    if port := os.environ.get("PORT"):
        await asyncio.start_server(heartbeat, "127.0.0.1", int(port))
    jobs: list[tuple[str, str]] = []
    outcomes: dict[int, str] = {}
    pool = ProcessPoolExecutor(max_workers=config.workers)
    runner = Runner(config, pool)
    tasks: list[asyncio.Task[None]] = []
    try:
        jobs = await fetch_jobs(config)

        async def settle(index: int, method: str, path: str) -> None:
            outcomes[index] = await runner.job(method, path)

        tasks = [asyncio.create_task(settle(i, method, path)) for i, (method, path) in enumerate(jobs)]
        await asyncio.gather(*tasks)
        code = 0
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        code = 130
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    lines = [f"{method} {path} {outcomes.get(i, 'CANCELLED')}\n" for i, (method, path) in enumerate(jobs)]
    if os.environ.get("TALLY") == "1":
        lines.append(f"TALLY {runner.attempts} {runner.bytes}\n")
    sys.stdout.write("".join(lines))
    sys.stdout.flush()
    return code


def main() -> int:
    if interval := os.environ.get("SWITCH_INTERVAL_US"):
        sys.setswitchinterval(int(interval) / 1_000_000)
    return asyncio.run(run(Config.from_env()))


if __name__ == "__main__":
    sys.exit(main())
