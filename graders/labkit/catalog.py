"""The lab catalog: every ``labs/<lab>/lab.toml``, validated into frozen dataclasses.

lab.toml belongs to the kit (stages, points, timeouts, hints). The implementation folder may add a ``run.toml``
that overrides only how its program is started, so a network lab can be solved in any language while the
grading rules stay the kit's own.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.errors import CheckFailed, LabConfigError
from labkit.readiness import OPTION_KEYS, Readiness, TcpReady, parse_readiness
from labkit.requirements import Requirement, parse_requirement
from labkit.settings import HOME, settings

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KNOWN_SERVICES = frozenset({"postgres", "redis"})
RUN_KINDS = frozenset({"server", "client", "cluster", "driver", "none"})
COMMAND_KINDS = frozenset({"server", "client", "cluster"})  # the learner's program: run.toml may say how to start it
RUN_KEYS = frozenset({"kind", "command", "module", "ready", "ready_timeout"}) | OPTION_KEYS
MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass(frozen=True)
class Stage:
    slug: str
    title: str
    points: int
    timeout: float
    hints: tuple[str, ...]
    index: int
    hidden: bool = False  # every check of this stage is hidden from learners (name and verdict only)
    requires: tuple[Requirement, ...] = ()  # what the machine must have, or the stage is reported as not run

    @property
    def module_name(self) -> str:
        return f"stage_{self.slug.replace('-', '_')}.py"

    @property
    def hidden_module_name(self) -> str:
        """An instructor's private checks for this stage, in a folder passed with --extra-graders."""
        return f"hidden_{self.slug.replace('-', '_')}.py"


@dataclass(frozen=True)
class Limits:
    """Resource limits applied to every learner process (see ``labkit.supervisor``)."""

    memory_mb: int = 1024
    output_mb: int = 8
    open_files: int = 256
    processes: int = 128
    cpu_seconds: int = 120


@dataclass(frozen=True)
class RunSpec:
    kind: str
    command: tuple[str, ...]
    ready: Readiness = field(default_factory=TcpReady)  # `ready = "..."` and its `ready_*` options
    ready_timeout: float = 10.0
    module: str | None = None  # kind "driver": the learner module the driver imports


@dataclass(frozen=True)
class Lab:
    id: str
    title: str
    track: str
    summary: str
    competencies: tuple[str, ...]
    services: tuple[str, ...]
    run: RunSpec
    limits: Limits
    stages: tuple[Stage, ...]
    folder: Path
    grader_folder: Path
    solution_folder: Path
    # What `labkit mutate` changes: glob patterns relative to the solution folder; empty means its code (the
    # Python, SQL and Lua files but test_*.py). A lab whose learner writes tests names them here.
    mutate: tuple[str, ...] = ()

    @property
    def max_points(self) -> int:
        return sum(stage.points for stage in self.stages)

    def stage(self, selector: str) -> Stage:
        """Finds a stage by 1-based number or slug."""
        if selector.isdigit():
            number = int(selector)
            if 1 <= number <= len(self.stages):
                return self.stages[number - 1]
        for stage in self.stages:
            if stage.slug == selector:
                return stage
        choices = ", ".join(f"{s.index} {s.slug}" for s in self.stages)
        raise LabConfigError(f"lab {self.id!r} has no stage {selector!r}", hint=f"stages are: {choices}")


@dataclass(frozen=True)
class BrokenLab:
    """A lab whose lab.toml could not be loaded: named by its folder, with the reason."""

    id: str
    reason: str


@dataclass(frozen=True)
class Catalog:
    root: Path
    labs: tuple[Lab, ...] = field(default=())
    broken: tuple[BrokenLab, ...] = field(default=())  # with skip_broken: labs left out, and why

    def get(self, lab_id: str) -> Lab:
        for lab in self.labs:
            if lab.id == lab_id:
                return lab
        for broken in self.broken:
            if broken.id == lab_id:
                raise LabConfigError(f"lab {lab_id!r} is broken: {broken.reason}")
        known = ", ".join(lab.id for lab in self.labs) or "none"
        raise LabConfigError(f"unknown lab {lab_id!r}", hint=f"known labs: {known} (see `labkit list`)")


def find_kit_root(start: Path | None = None) -> Path:
    """Locates the kit checkout: $LABKIT_HOME, then the working directory and its parents, then the package."""
    candidates: list[Path] = []
    if (home := settings().home) is not None:
        candidates.append(home)
    here = (start or Path.cwd()).resolve()
    candidates.extend([here, *here.parents])
    candidates.append(Path(__file__).resolve().parents[2])
    for candidate in candidates:
        if (candidate / "labs").is_dir() and (candidate / "graders" / "labkit").is_dir():
            return candidate
    raise LabConfigError(
        "cannot find the labkit checkout (a folder with labs/ and graders/labkit/)",
        hint=f"run labkit from inside the repository, or set {HOME} to its path",
    )


def load_catalog(root: Path | None = None, *, skip_broken: bool = False) -> Catalog:
    """Every lab of the kit. A broken lab.toml raises, unless ``skip_broken``: then that lab is listed in
    ``broken`` and the others stay usable (one author's typo must not stop every command)."""
    root = root or find_kit_root()
    labs, broken = [], []
    for toml_path in sorted((root / "labs").glob("*/lab.toml")):
        try:
            labs.append(load_lab(toml_path, root))
        except LabConfigError as error:
            if not skip_broken:
                raise
            broken.append(BrokenLab(toml_path.parent.name, str(error)))
    return Catalog(root=root, labs=tuple(labs), broken=tuple(broken))


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as error:
        raise LabConfigError(f"{path} is missing") from error
    except tomllib.TOMLDecodeError as error:
        raise LabConfigError(f"{path} is not valid TOML: {error}") from error


def load_lab(toml_path: Path, root: Path) -> Lab:
    data = read_toml(toml_path)
    where = str(toml_path)
    lab_id = _require(data, "id", str, where)
    if lab_id != toml_path.parent.name or not SLUG.match(lab_id):
        raise LabConfigError(f"{where}: id {lab_id!r} must be a slug equal to its folder name")
    services = tuple(_optional(data, "services", list, where, []))
    unknown = set(services) - KNOWN_SERVICES
    if unknown:
        raise LabConfigError(f"{where}: unknown services {sorted(unknown)}; known: {sorted(KNOWN_SERVICES)}")
    stages_data = _optional(data, "stages", list, where, [])
    if not stages_data:
        raise LabConfigError(f"{where}: a lab needs at least one [[stages]] table")
    stages = tuple(_parse_stage(raw, index, where) for index, raw in enumerate(stages_data, start=1))
    slugs = [stage.slug for stage in stages]
    if len(set(slugs)) != len(slugs):
        raise LabConfigError(f"{where}: stage slugs must be unique, got {slugs}")
    return Lab(
        id=lab_id,
        title=_require(data, "title", str, where),
        track=_require(data, "track", str, where),
        summary=_optional(data, "summary", str, where, ""),
        competencies=tuple(_optional(data, "competencies", list, where, [])),
        services=services,
        run=parse_run(_optional(data, "run", dict, where, {}), where, folder=toml_path.parent),
        limits=_parse_limits(_optional(data, "limits", dict, where, {}), where),
        stages=stages,
        folder=toml_path.parent,
        grader_folder=root / "graders" / lab_id,
        solution_folder=root / "solutions" / lab_id,
        mutate=_mutate_patterns(data, where),
    )


def _mutate_patterns(data: dict[str, Any], where: str) -> tuple[str, ...]:
    patterns = _optional(data, "mutate", list, where, [])
    if not all(isinstance(pattern, str) and pattern and not pattern.startswith("/") for pattern in patterns):
        raise LabConfigError(f'{where}: mutate must list glob patterns relative to the solution, e.g. ["tests/*.py"]')
    return tuple(patterns)


def parse_run(raw: dict[str, Any], where: str, base: RunSpec | None = None, *, folder: Path | None = None) -> RunSpec:
    """``folder`` is where relative paths in the table (a CA file for ``ready = "tls"``) are found."""
    if unknown := sorted(set(raw) - RUN_KEYS):
        known = ", ".join(sorted(RUN_KEYS))
        raise LabConfigError(f"{where}: unknown key(s) {', '.join(unknown)} in [run]; known keys: {known}")
    kind = _optional(raw, "kind", str, where, base.kind if base else "server")
    if kind not in RUN_KINDS:
        raise LabConfigError(f"{where}: run.kind must be one of {sorted(RUN_KINDS)}, got {kind!r}")
    command = _optional(raw, "command", list, where, list(base.command) if base else [])
    if kind in COMMAND_KINDS and (not command or not all(isinstance(part, str) for part in command)):
        raise LabConfigError(f"{where}: run.command must be a non-empty array of strings")
    module = _optional(raw, "module", str, where, base.module if base else None)
    if kind == "driver" and (module is None or not MODULE.match(module)):
        raise LabConfigError(f'{where}: run.module must name the learner\'s Python module, e.g. module = "wallet"')
    ready_timeout = _optional(raw, "ready_timeout", (int, float), where, base.ready_timeout if base else 10.0)
    return RunSpec(
        kind=kind,
        command=tuple(command),
        ready=parse_readiness(raw, where, folder or Path(where).parent, base.ready if base else None),
        ready_timeout=float(ready_timeout),
        module=module,
    )


def resolve_run(lab: Lab, impl: Path) -> RunSpec:
    """The run spec for one implementation folder: the lab's default, overridden by ``impl/run.toml``.
    Only labs that run the learner's own program (server, client, cluster) read run.toml: a driver lab's
    interface is Python, and a lab of kind "none" runs nothing."""
    run_toml = impl / "run.toml"
    if lab.run.kind not in COMMAND_KINDS or not run_toml.is_file():
        return lab.run
    try:
        # run.toml says how to start the program, never what kind of lab this is.
        return parse_run({**read_toml(run_toml), "kind": lab.run.kind}, "run.toml", base=lab.run, folder=impl)
    except LabConfigError as error:  # the file is the learner's: its mistakes are theirs to fix, not the kit's
        raise invalid_run_toml(run_toml, error) from error


def invalid_run_toml(run_toml: Path, error: LabConfigError) -> CheckFailed:
    """The learner's failure for a run.toml that cannot be read, with the offending line when TOML names one."""
    message = error.message.replace(f"{run_toml} is not valid TOML: ", "run.toml is not valid TOML: ")
    line = TOML_POSITION.search(message)
    lines = run_toml.read_text(encoding="utf-8", errors="replace").splitlines()
    got = None
    if line is not None and 1 <= int(line.group(1)) <= len(lines):
        got = f"line {line.group(1)}: {lines[int(line.group(1)) - 1]}"
    return CheckFailed(
        f"your run.toml cannot be used: {message}",
        got=got,
        hint='run.toml only says how your program starts, e.g. command = ["go", "run", "."]; '
        "delete it to start your program with the lab's own command",
    )


def _parse_stage(raw: Any, index: int, where: str) -> Stage:
    if not isinstance(raw, dict):
        raise LabConfigError(f"{where}: stage {index} must be a table")
    here = f"{where} stage {index}"
    slug = _require(raw, "slug", str, here)
    if not SLUG.match(slug):
        raise LabConfigError(f"{here}: slug {slug!r} must be lowercase words joined by '-'")
    points = _require(raw, "points", int, here)
    timeout = _require(raw, "timeout", (int, float), here)
    if points < 0 or timeout <= 0:
        raise LabConfigError(f"{here}: points must be >= 0 and timeout > 0")
    hints = _optional(raw, "hints", list, here, [])
    requires = _optional(raw, "requires", list, here, [])
    return Stage(
        slug=slug,
        title=_require(raw, "title", str, here),
        points=points,
        timeout=float(timeout),
        hints=tuple(str(hint) for hint in hints),
        index=index,
        hidden=_optional(raw, "hidden", bool, here, False),
        requires=tuple(parse_requirement(item, f"{here} ({slug})") for item in requires),
    )


def _parse_limits(raw: dict[str, Any], where: str) -> Limits:
    defaults = Limits()
    values = {}
    for name in ("memory_mb", "output_mb", "open_files", "processes", "cpu_seconds"):
        value = _optional(raw, name, int, f"{where} [limits]", getattr(defaults, name))
        if value <= 0:
            raise LabConfigError(f"{where} [limits]: {name} must be positive")
        values[name] = value
    return Limits(**values)


def _require(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise LabConfigError(f"{where}: missing required key {key!r}")
    return _optional(data, key, kind, where, None)


def _optional(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any) -> Any:
    value = data.get(key, default)
    if key in data and (not isinstance(value, kind) or (isinstance(value, bool) and kind is int)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise LabConfigError(f"{where}: {key!r} must be {names}, got {type(value).__name__}")
    return value
