"""A Dockerfile read into instructions (with their lines), and .dockerignore patterns matched as the engine does."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from urllib.parse import urlsplit

SECRET_WORDS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "PRIVATE_KEY", "ACCESS_KEY", "CREDENTIAL")
DEPLOYMENT_CONFIG = ("DATABASE_URL", "REDIS_URL", "GREETING")  # the service's settings: set when it runs


@dataclass(frozen=True)
class Instruction:
    line: int  # where it starts
    keyword: str  # upper case
    text: str  # its arguments, continuation lines joined


def parse(text: str) -> list[Instruction]:
    """Instructions in order; comments and blank lines dropped, ``\\`` continuations joined."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        joined = " ".join(part for part in pending if part)
        pending = []
        keyword, _, rest = joined.partition(" ")
        instructions.append(Instruction(start, keyword.upper(), rest.strip()))
    if pending:
        joined = " ".join(part for part in pending if part)
        keyword, _, rest = joined.partition(" ")
        instructions.append(Instruction(start, keyword.upper(), rest.strip()))
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """The build stages, each starting with its FROM; what precedes the first FROM is not a stage."""
    found: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            found.append([instruction])
        elif found:
            found[-1].append(instruction)
    return found


def exec_form(text: str) -> list[str] | None:
    """The argument list of a JSON (exec) form, or None for the shell form."""
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return value
    return None


def split_options(text: str) -> tuple[dict[str, str], str]:
    """``--name=value`` options at the start of an instruction's arguments, and the rest."""
    options: dict[str, str] = {}
    rest = text
    while match := re.match(r"--([a-z-]+)=(\S+)\s*", rest):
        options[match.group(1)] = match.group(2)
        rest = rest[match.end() :]
    return options, rest


def duration_seconds(text: str) -> float | None:
    """A Docker duration (``2s``, ``500ms``, ``1m30s``) in seconds; None when it is not one."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6, "ns": 1e-9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)", text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    return sum(float(number) * units[unit] for number, unit in parts)


def assigned_names(instruction: Instruction) -> list[str]:
    """The variable names an ENV or ARG instruction sets (``ENV A=1 B=2``, ``ENV A 1``, ``ARG A``)."""
    try:
        words = shlex.split(instruction.text)
    except ValueError:
        words = instruction.text.split()
    if not words:
        return []
    if instruction.keyword == "ENV" and "=" not in words[0]:
        return [words[0]]
    return [word.split("=", 1)[0] for word in words]


def url_has_literal_password(value: str, reference: str) -> bool:
    """Whether a URL's password is written out, rather than one ``reference`` (a regex: ``${VAR}`` in Compose,
    ``$(VAR)`` in Kubernetes) to a value given elsewhere. References are masked first, as their ``?`` or ``/``
    would otherwise end the URL's authority early."""
    masked = re.sub(reference, "REFERENCE", value)
    try:
        password = urlsplit(masked).password
    except ValueError:
        return False
    return password is not None and password != "REFERENCE"


def sensitive_name(name: str) -> bool:
    upper = name.upper()
    return upper in DEPLOYMENT_CONFIG or any(word in upper for word in SECRET_WORDS)


def image_reference_pinned(reference: str) -> bool:
    """Whether an image reference names a fixed version: a digest, or a tag other than ``latest``."""
    if "@sha256:" in reference:
        return True
    name_part = reference.rsplit("/", 1)[-1]
    if ":" not in name_part:
        return False
    return name_part.rsplit(":", 1)[1] not in {"", "latest"}


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex over slash-separated paths (Go's filepath.Match, plus ``**``)."""
    out = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(out) + r"\Z")


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Whether the engine leaves ``path`` out of the build context: the last pattern that matches the path or
    one of its parent folders decides, ``!`` patterns putting it back."""
    prefixes = ["/".join(path.split("/")[: end + 1]) for end in range(path.count("/") + 1)]
    excluded = False
    for raw in patterns:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line[1:].strip() if negated else line
        pattern = re.sub(r"/+", "/", pattern).strip("/").removeprefix("./")
        if not pattern:
            continue
        regex = _pattern_regex(pattern)
        if any(regex.match(prefix) for prefix in prefixes):
            excluded = not negated
    return excluded
