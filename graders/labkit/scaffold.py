"""`labkit new`: every part of a new lab, generated so that the kit's own tests pass before its author edits it.

A lab is written from the templates in ``labkit/templates``: ``common/`` for every lab, ``program/`` for the
kinds that run the learner's program, and one folder per run kind. Inside each, ``starter/`` goes to
``labs/<lab>/``, ``solution/`` to ``solutions/<lab>/``, ``graders/`` to ``graders/<lab>/`` (``stage.py`` becoming
the stage's module), and ``lab.toml`` and ``README.md`` to ``labs/<lab>/``. The kind's broken scenario is its
solution with one bug patched in (:class:`Bug`); its verdict is recorded by grading it (``labkit.record``).

A template is text with placeholders and conditional lines (``labkit.templating``), so that one file serves
every choice of services; its conditions are ``postgres``, ``redis`` and ``services`` (either of them). A file
named ``name@C.tmpl`` is written only when condition C holds.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from labkit.catalog import MODULE, SLUG
from labkit.templating import holds, render

TEMPLATES = Path(__file__).parent / "templates"
# Names a driver lab's module must not take: the modules generated next to it, and the standard library's.
RESERVED_MODULES = frozenset({"store", "records", "conftest"}) | frozenset(sys.stdlib_module_names)


class Refused(ValueError):
    """The lab cannot be created as asked; the message says why in one line."""


@dataclass(frozen=True)
class Bug:
    """The kind's broken scenario: its solution with ``old`` replaced by ``new`` in ``file``."""

    name: str
    description: str
    file: str
    old: str
    new: str


@dataclass(frozen=True)
class Kind:
    name: str
    stage: str  # the slug of the lab's one stage
    title: str  # the lab's title unless --title says otherwise
    recorded_what: str  # with services: what the learner's program records, as the README says it
    bug: Bug

    @property
    def runs_a_program(self) -> bool:
        return self.name != "none"


_KINDS = (
    Kind(
        name="server",
        stage="echo",
        title="A line echo server over TCP",
        recorded_what="each line it echoes (without its newline)",
        bug=Bug("replies-upper-case", "Answers every line in upper case.", "server.py",
                old="self.wfile.write(line)", new="self.wfile.write(line.upper())"),
    ),
    Kind(
        name="driver",
        stage="echo",
        title="An echo function called from many processes",
        recorded_what="each text it returns",
        bug=Bug("returns-upper-case", "echo() returns its text in upper case.", "{{module}}.py",
                old="return text", new="return text.upper()"),
    ),
    Kind(
        name="client",
        stage="round-trip",
        title="A client of a line server",
        recorded_what="the reply it prints (without its newline)",
        bug=Bug("drops-the-newline", "Prints the server's reply without its newline.", "client.py",
                old="sys.stdout.write(reply)", new='sys.stdout.write(reply.rstrip("\\n"))'),
    ),
    Kind(
        name="cluster",
        stage="node-ids",
        title="A cluster of nodes that know who they are",
        recorded_what="its NODE_ID, each time it answers",
        bug=Bug("answers-zero", "Every node answers 0, whatever its NODE_ID.", "node.py",
                old='NODE_ID = os.environ["NODE_ID"]', new='NODE_ID = "0"'),
    ),
    Kind(
        name="none",
        stage="answer",
        title="An answer the grader reads from a file",
        recorded_what="",  # nothing runs: a lab of kind none with PostgreSQL has the learner write SQL instead
        bug=Bug("answers-in-bits", "Gives the size of an IPv4 address in bits, not bytes.", "answer.txt",
                old="4\n", new="32\n"),
    ),
)  # fmt: skip
KINDS = {kind.name: kind for kind in _KINDS}


@dataclass(frozen=True)
class Service:
    """How the generated files name one service."""

    words: str  # in prose
    variable: str  # the learner's program finds its URL in this environment variable
    learner_fixture: str  # the fixture giving the learner's URL
    grader_fixture: str  # the fixture giving the grader's own access
    records_where: str  # where the learner's program records messages


SERVICES = {
    "postgres": Service(
        "PostgreSQL", "DATABASE_URL", "postgres_learner", "postgres", "the table ``messages`` of $DATABASE_URL"
    ),
    "redis": Service(
        "Redis", "REDIS_URL", "redis_learner_url", "redis_url", "the Redis list ``messages`` at $REDIS_URL"
    ),
}
SERVICE_ORDER = tuple(SERVICES)


@dataclass(frozen=True)
class LabSpec:
    """What `labkit new` was asked for."""

    lab: str
    kind: str
    services: tuple[str, ...] = ()
    track: str | None = None
    title: str | None = None

    @property
    def module(self) -> str:
        """A driver lab's module: the lab id as a Python name."""
        name = self.lab.replace("-", "_")
        name = name if MODULE.match(name) else f"lab_{name}"
        return f"{name}_lab" if name in RESERVED_MODULES else name


@dataclass(frozen=True)
class LabFiles:
    """A new lab's files, relative to the kit's root, and its broken scenario (whose verdict is still to be
    recorded)."""

    files: dict[Path, str]
    scenario: Path
    readme_row: str

    @property
    def scenario_id(self) -> str:
        """``LAB/BUG``, as `labkit record` takes it."""
        return f"{self.scenario.parent.name}/{self.scenario.name}"


def check_request(root: Path, spec: LabSpec) -> None:
    """Raises :class:`Refused` when the lab cannot be created: a bad id, an existing lab, an unknown kind."""
    if not SLUG.match(spec.lab):
        raise Refused(f"{spec.lab!r} is not a lab id: use lowercase letters and digits in words joined by '-'")
    if spec.title is not None and (not spec.title.strip() or any(c in spec.title for c in "|\n\r")):
        raise Refused("--title must be one line of text without '|' (it goes into the README's lab table)")
    if spec.kind not in KINDS:
        raise Refused(f"unknown kind {spec.kind!r}; choose from {', '.join(KINDS)}")
    if unknown := sorted(set(spec.services) - set(SERVICES)):
        raise Refused(f"unknown service(s) {', '.join(unknown)}; choose from {', '.join(SERVICE_ORDER)}")
    if spec.kind == "none" and "redis" in spec.services:
        raise Refused("a lab of kind none runs no program that could use redis; choose another kind")
    for folder in lab_folders(root, spec.lab):
        if folder.exists():
            raise Refused(f"lab {spec.lab!r} already exists: {folder.relative_to(root)} is there")


def lab_folders(root: Path, lab: str) -> list[Path]:
    """Every folder a lab owns in the kit."""
    places = ("labs", "solutions", "graders", "tests/scenarios", "tests/alternatives")
    return [root / place / lab for place in places]


def plan_lab(spec: LabSpec) -> LabFiles:
    """Renders every file of the lab described by ``spec`` (which :func:`check_request` accepted)."""
    kind = KINDS[spec.kind]
    flags = _flags(spec.services)
    sources = [TEMPLATES / "common", *([TEMPLATES / "program"] if kind.runs_a_program else []), TEMPLATES / kind.name]
    templates = [
        (source, path)
        for source in sources
        for path in sorted(source.rglob("*.tmpl"))
        if "@" not in path.stem or holds(flags, path.stem.split("@", 1)[1])
    ]
    values = template_values(spec, kind, starter=[_output_name(p) for s, p in templates if _area(s, p) == "starter"])
    files: dict[Path, str] = {}
    for source, path in templates:
        destination = _destination(spec, kind, _area(source, path), path.relative_to(source))
        if destination is not None:
            files[destination] = render(path.read_text(encoding="utf-8"), flags, values, where=path)
    scenario = Path("tests", "scenarios", spec.lab, kind.bug.name)
    files |= _broken_copy(spec, kind, files, scenario)
    return LabFiles(files, scenario, readme_row(spec, kind))


def write_lab(root: Path, spec: LabSpec) -> LabFiles:
    """Checks the request, then writes the lab's files and its row of the kit's README lab table."""
    check_request(root, spec)
    planned = plan_lab(spec)
    readme = root / "README.md"
    table = with_lab_row(readme.read_text(encoding="utf-8"), planned.readme_row)
    for relative, text in planned.files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    readme.write_text(table, encoding="utf-8")
    return planned


def template_values(spec: LabSpec, kind: Kind, *, starter: list[str]) -> dict[str, str]:
    """The placeholders' values for one lab; ``starter`` names the starter's files."""
    services = [service for service in SERVICE_ORDER if service in spec.services]
    tree = [f"├── {name}" for name in starter[:-1]] + [f"└── {name}" for name in starter[-1:]]
    values = {
        "lab": spec.lab,
        "title": spec.title or kind.title,
        "title_toml": _toml_string(spec.title or kind.title),
        "track_toml": _toml_string(track_of(spec)),
        "services_toml": json.dumps(services),
        "services_words": " and ".join(SERVICES[service].words for service in services),
        "module": spec.module,
        "stage": kind.stage,
        "recorded_what": kind.recorded_what,
        "service_fixtures": ", ".join(SERVICES[service].learner_fixture for service in services),
        "grader_service_fixtures": ", ".join(SERVICES[service].grader_fixture for service in services),
        "records_imports": ", ".join(f"messages_in_{service}" for service in services),
        "records_where": " and ".join(SERVICES[service].records_where for service in services),
        "env_vars_row": "".join(f", `{SERVICES[s].variable}`" for s in services) + (" (see below)" if services else ""),
        "starter_tree": "\n".join(tree),
    }
    section = TEMPLATES / "program" / "records.md.tmpl"
    values["records_section"] = (
        render(section.read_text(encoding="utf-8"), _flags(services), values, where=section)
        if services and kind.runs_a_program
        else ""
    )
    return values


def track_of(spec: LabSpec) -> str:
    return spec.track or ("data" if spec.services else "networking")


def readme_row(spec: LabSpec, kind: Kind) -> str:
    services = ", ".join(service for service in SERVICE_ORDER if service in spec.services) or "none"
    cells = [f"[{spec.lab}](labs/{spec.lab}/README.md)", track_of(spec), spec.title or kind.title, "1", services]
    return "| " + " | ".join(cells) + " |"


def with_lab_row(readme: str, row: str) -> str:
    """The kit's README with ``row`` added at the end of the table under "## Labs"."""
    lines = readme.splitlines(keepends=True)
    try:
        start = lines.index("## Labs\n")
    except ValueError:
        raise Refused("README.md has no '## Labs' section whose table could list the new lab") from None
    rows = [index for index in range(start, len(lines)) if lines[index].startswith("| [")]
    end = next((index for index in range(start + 1, len(lines)) if lines[index].startswith("## ")), len(lines))
    rows = [index for index in rows if index < end]
    if not rows:
        raise Refused("README.md's '## Labs' section has no lab table to add the new lab to")
    lines.insert(rows[-1] + 1, row + "\n")
    return "".join(lines)


def _broken_copy(spec: LabSpec, kind: Kind, files: Mapping[Path, str], scenario: Path) -> dict[Path, str]:
    """The scenario folder: the solution with the kind's bug, and its scenario.toml."""
    solution = Path("solutions", spec.lab)
    broken = {scenario / path.relative_to(solution): text for path, text in files.items() if solution in path.parents}
    target = scenario / kind.bug.file.replace("{{module}}", spec.module)
    if broken.get(target, "").count(kind.bug.old) != 1:
        raise ValueError(f"the {kind.name} template's {target.name} must contain {kind.bug.old!r} exactly once")
    broken[target] = broken[target].replace(kind.bug.old, kind.bug.new)
    broken[scenario / "scenario.toml"] = (
        f"description = {_toml_string(kind.bug.description)}\nstage = {_toml_string(kind.stage)}\n"
    )
    return broken


def _area(source: Path, path: Path) -> str:
    """Where a template goes: starter, solution, graders, or the lab folder itself (top)."""
    parts = path.relative_to(source).parts
    return parts[0] if len(parts) > 1 else "top"


def _destination(spec: LabSpec, kind: Kind, area: str, relative: Path) -> Path | None:
    name = _output_name(relative).replace("{{module}}", spec.module)
    inner = Path(*relative.parts[1:-1], name)
    if area == "starter":
        return Path("labs", spec.lab, inner)
    if area == "solution":
        return Path("solutions", spec.lab, inner)
    if area == "graders":
        stage_module = f"stage_{kind.stage.replace('-', '_')}.py"
        return Path("graders", spec.lab, stage_module if inner == Path("stage.py") else inner)
    if name in ("lab.toml", "README.md"):
        return Path("labs", spec.lab, name)
    return None  # a fragment of another template (records.md)


def _output_name(path: Path) -> str:
    """``server.py.tmpl`` -> ``server.py``; ``store.py@services.tmpl`` -> ``store.py``."""
    return path.name.removesuffix(".tmpl").split("@")[0]


def _flags(services: tuple[str, ...] | list[str]) -> dict[str, bool]:
    return {"postgres": "postgres" in services, "redis": "redis" in services, "services": bool(services)}


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's."""
    return json.dumps(text, ensure_ascii=False)
