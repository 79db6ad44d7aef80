"""The container path, measured in one run (numbers and ratios, no pass/fail thresholds):

- time to first ready PostgreSQL and Redis (a real round trip) for each provider, embedded and docker, side by side
- `labkit grade tcp-kv` on the solution with `--sandbox docker` as a ratio to `--sandbox process` (medians)

Prints why a part is skipped: no engine, no images, not root.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(KIT / "tests" / "harness"))

from test_sandbox_support import sandbox_unavailable, services_unavailable  # noqa: E402

from labkit.services import DockerProvider, EmbeddedProvider  # noqa: E402


def first_ready(provider_class: type[EmbeddedProvider] | type[DockerProvider]) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as workdir:
        provider = provider_class("lkbench", Path(workdir))
        try:
            began = time.perf_counter()
            provider.start_postgres()
            postgres_s = time.perf_counter() - began
            began = time.perf_counter()
            provider.start_redis()
            return postgres_s, time.perf_counter() - began
        finally:
            provider.close()


def bench_providers() -> None:
    unusable = {EmbeddedProvider: None if EmbeddedProvider.availability().usable else "not installed",
                DockerProvider: services_unavailable()}  # fmt: skip
    for provider_class, reason in unusable.items():
        if reason:
            print(f"services {provider_class.name:<8}: skipped ({reason})")
            continue
        postgres_s, redis_s = first_ready(provider_class)
        print(f"services {provider_class.name:<8}: first ready PostgreSQL {postgres_s:.2f} s, Redis {redis_s:.2f} s")


def grade_seconds(sandbox: str) -> float:
    command = [sys.executable, "-m", "labkit", "grade", "tcp-kv", "--impl", str(KIT / "solutions" / "tcp-kv"),
               "--format", "json", "--seed", "1", "--sandbox", sandbox]  # fmt: skip
    began = time.perf_counter()
    done = subprocess.run(command, cwd=KIT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"grading with --sandbox {sandbox} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def bench_sandbox(runs: int) -> None:
    if reason := sandbox_unavailable():
        print(f"sandbox overhead: skipped ({reason})")
        return
    process, docker = [], []
    for _ in range(runs):  # interleaved, so a busy moment of the machine weighs on both
        process.append(grade_seconds("process"))
        docker.append(grade_seconds("docker"))
    process_s, docker_s = statistics.median(process), statistics.median(docker)
    print(f"tcp-kv solution, --sandbox process: median {process_s:.2f} s over {runs} runs")
    print(f"tcp-kv solution, --sandbox docker:  median {docker_s:.2f} s over {runs} runs")
    print(f"sandbox overhead ratio (docker / process): {docker_s / process_s:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bench_providers()
    bench_sandbox(args.runs)


if __name__ == "__main__":
    main()
