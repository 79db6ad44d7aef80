"""Type-checks every lab's grader modules with mypy, the way pytest imports them: one run per lab folder.

Lab grader folders (graders/<lab>/) are not packages: pytest puts each folder on sys.path and its modules import
their siblings as top-level names (``from kvwire import KvClient``). So each folder is checked on its own, with
itself and graders/ (for labkit) as the search path; one run over every lab would clash on the module names they
share (conftest, verdicts). The project's mypy settings in pyproject.toml (strict, the third-party overrides) apply
to helper modules; stage modules, instructors' hidden stages and conftests take their checks' fixtures as
parameters, which read best unannotated, so there unannotated functions are allowed and their bodies still checked.
labkit's own errors are the project's `mypy` run's to report, not each lab's. Each lab keeps its own mypy cache.

    python tests/contracts/typecheck_graders.py [--kit KIT_ROOT] [LAB ...]     exit 0 when every lab checks clean
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# Modules whose functions are pytest's to call with fixtures: relaxed from --strict, bodies still checked.
FIXTURE_TAKERS = ("stage_", "hidden_")
FIXTURE_TAKER_FLAGS = {
    "disallow_untyped_defs": False,
    "disallow_incomplete_defs": False,
    "disallow_untyped_calls": False,
    "check_untyped_defs": True,
}
HARNESS = "labkit"


@dataclass(frozen=True)
class LabResult:
    lab: str
    exit_code: int
    output: str

    @property
    def clean(self) -> bool:
        return self.exit_code == 0


def lab_folders(kit: Path, only: Iterable[str] = ()) -> list[Path]:
    """Every graders/<lab>/ folder holding Python modules (all of them unless ``only`` names some)."""
    wanted = set(only)
    folders = [p for p in sorted((kit / "graders").iterdir()) if p.is_dir() and p.name != HARNESS]
    folders = [p for p in folders if any(p.glob("*.py")) and (not wanted or p.name in wanted)]
    unknown = wanted - {p.name for p in folders}
    if unknown:
        raise SystemExit(f"no grader folder for: {', '.join(sorted(unknown))}")
    return folders


def takes_fixtures(module: str) -> bool:
    return module == "conftest" or module.startswith(FIXTURE_TAKERS)


def ini_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def ini_section(name: str, settings: Mapping[str, object]) -> str:
    lines = [f"[{name}]", *(f"{key} = {ini_value(value)}" for key, value in settings.items())]
    return "\n".join(lines) + "\n"


def lab_config(kit: Path, folder: Path, cache: Path) -> str:
    """mypy's configuration for one lab: the project's settings, this lab's search path, cache and relaxations."""
    project = tomllib.loads((kit / "pyproject.toml").read_text())["tool"]["mypy"]
    overrides = project.get("overrides", [])
    settings = {key: value for key, value in project.items() if key not in {"files", "overrides", "mypy_path"}}
    search_path = ",".join(str(path) for path in (folder, kit / "graders"))  # "," separates on every platform
    settings |= {"mypy_path": search_path, "cache_dir": str(cache)}
    sections = [ini_section("mypy", settings), ini_section(f"mypy-{HARNESS},{HARNESS}.*", {"follow_imports": "silent"})]
    for override in overrides:
        modules = override["module"] if isinstance(override["module"], list) else [override["module"]]
        rest = {key: value for key, value in override.items() if key != "module"}
        sections.append(ini_section("mypy-" + ",".join(modules), rest))
    takers = [p.stem for p in sorted(folder.glob("*.py")) if takes_fixtures(p.stem)]
    if takers:
        sections.append(ini_section("mypy-" + ",".join(takers), FIXTURE_TAKER_FLAGS))
    return "\n".join(sections)


def check_lab(kit: Path, folder: Path, cache_root: Path) -> LabResult:
    with tempfile.TemporaryDirectory(prefix="lktypes-") as scratch:
        config = Path(scratch) / "mypy.ini"
        config.write_text(lab_config(kit, folder, cache_root / folder.name))
        modules = [str(p.relative_to(kit)) for p in sorted(folder.glob("*.py"))]
        done = subprocess.run(
            [sys.executable, "-m", "mypy", "--config-file", str(config), *modules],
            cwd=kit, capture_output=True, text=True, check=False,
        )  # fmt: skip
    return LabResult(folder.name, done.returncode, (done.stdout + done.stderr).rstrip())


def check(kit: Path, labs: Iterable[str] = (), cache_root: Path | None = None) -> list[LabResult]:
    cache_root = cache_root or kit / ".mypy_cache" / "graders"
    return [check_lab(kit, folder, cache_root) for folder in lab_folders(kit, labs)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("labs", nargs="*", metavar="LAB", help="lab folders to check (default: all)")
    parser.add_argument("--kit", type=Path, default=Path(__file__).resolve().parents[2], help="the kit's root")
    args = parser.parse_args(argv)
    results = check(args.kit.resolve(), args.labs)
    for result in results:
        *errors, summary = result.output.splitlines() or ["no output"]
        print(f"== {result.lab}: {summary}", *errors, sep="\n")
    return max((result.exit_code for result in results), default=0)


if __name__ == "__main__":
    sys.exit(main())
