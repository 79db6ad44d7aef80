"""Prints how long grading takes, as numbers and as ratios measured in one run (no pass/fail thresholds).

- wall time of `labkit grade tcp-kv` on the reference solution (median of N runs)
- the same grader modules run by a bare pytest with only the plugin: the CLI's overhead is the ratio of the two
- time to first ready PostgreSQL and Redis for each usable service provider
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
sys.path.insert(0, str(KIT / "tests"))

from labkit.catalog import load_catalog  # noqa: E402
from labkit.engine import INI_PATH, grader_env  # noqa: E402
from labkit.run_config import RunChoices, RunConfig  # noqa: E402


def timed(command: list[str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(command, cwd=KIT, capture_output=True, text=True, env=grader_env(), check=False)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"benchmark command failed ({done.returncode}): {' '.join(command)}\n{done.stdout[-2000:]}")
    return elapsed


def bare_pytest(lab_id: str, impl: Path, run_dir: Path) -> list[str]:
    lab = load_catalog(KIT).get(lab_id)
    config = RunConfig(lab_id, impl, KIT, run_dir, "lkbench", RunChoices(seed=1))
    return [
        sys.executable, "-m", "pytest", "-q", "-c", str(INI_PATH), "--rootdir", str(KIT / "graders"),
        "-p", "labkit.plugin", f"--labkit-config={config.write()}",
        *[str(lab.grader_folder / stage.module_name) for stage in lab.stages],
    ]  # fmt: skip


def bench_grading(runs: int) -> None:
    impl = KIT / "solutions" / "tcp-kv"
    cli = [sys.executable, "-m", "labkit", "grade", "tcp-kv", "--impl", str(impl), "--format", "json", "--seed", "1"]
    cli_times, bare_times = [], []
    for _ in range(runs):
        cli_times.append(timed(cli))
        with tempfile.TemporaryDirectory() as run_dir:
            bare_times.append(timed(bare_pytest("tcp-kv", impl, Path(run_dir))))
    cli_s, bare_s = statistics.median(cli_times), statistics.median(bare_times)
    print(f"tcp-kv solution, labkit grade:      median {cli_s:.2f} s over {runs} runs (target < 3 s)")
    print(f"tcp-kv solution, bare pytest:       median {bare_s:.2f} s")
    print(f"CLI overhead ratio (labkit / bare): {cli_s / bare_s:.2f} (target < 1.30)")


def bench_services() -> None:
    from labkit.services import EmbeddedProvider, resolve_provider

    for provider_class in (EmbeddedProvider,):
        if not provider_class.availability().usable:
            print(f"services {provider_class.name}: not usable here, skipped")
            continue
        with tempfile.TemporaryDirectory() as workdir:
            provider = resolve_provider(provider_class.name, "lkbench", Path(workdir))
            try:
                began = time.perf_counter()
                provider.start_postgres()
                postgres_s = time.perf_counter() - began
                began = time.perf_counter()
                provider.start_redis()
                redis_s = time.perf_counter() - began
            finally:
                provider.close()
        print(f"services {provider_class.name}: first ready PostgreSQL {postgres_s:.2f} s, Redis {redis_s:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bench_grading(args.runs)
    bench_services()


if __name__ == "__main__":
    main()
