"""Text templates with placeholders and conditional lines, for the files `labkit new` writes.

- ``{{name}}`` is replaced by the value of ``name``; a name without a value is an error;
- a line ending in ``# [if C]`` (or ``<!-- [if C] -->``) is kept, without that mark, only when C holds;
- lines between ``# [if C]`` and ``# [end]`` (or their ``<!-- -->`` forms), each on a line of its own, are kept
  only when C holds; such blocks nest.

C names a flag the caller sets, optionally preceded by ``not``. Python, TOML, SQL and Markdown templates mark
their lines alike, and what a template renders to reads as if written by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

_BLOCK = re.compile(r"^\s*(?:#|<!--)\s*\[(?:if (?P<negated>not )?(?P<condition>\w+)|(?P<end>end))\]\s*(?:-->)?\s*$")
_INLINE = re.compile(r"\s+(?:#|<!--)\s*\[if (?P<negated>not )?(?P<condition>\w+)\]\s*(?:-->)?$")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def render(text: str, flags: Mapping[str, bool], values: Mapping[str, str], *, where: Path | str = "") -> str:
    """``text`` with its conditional lines resolved and its placeholders filled (see the module's doc)."""
    kept: list[str] = []
    open_blocks: list[bool] = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if block := _BLOCK.match(line):
            if block["end"]:
                if not open_blocks:
                    raise ValueError(f"{where}:{number}: [end] without [if]")
                open_blocks.pop()
            else:
                open_blocks.append(holds(flags, block["condition"], bool(block["negated"])))
            continue
        if not all(open_blocks):
            continue
        if inline := _INLINE.search(line.rstrip("\n")):
            if not holds(flags, inline["condition"], bool(inline["negated"])):
                continue
            line = line[: inline.start()] + "\n"
        kept.append(line)
    if open_blocks:
        raise ValueError(f"{where}: an [if] is never closed with [end]")

    def value(match: re.Match[str]) -> str:
        if match[1] not in values:
            raise ValueError(f"{where}: unknown placeholder {match[0]}")
        return values[match[1]]

    return _PLACEHOLDER.sub(value, "".join(kept))


def holds(flags: Mapping[str, bool], condition: str, negated: bool = False) -> bool:
    """Whether ``condition`` (or, ``negated``, its opposite) holds; an unknown condition is a template's error."""
    if condition not in flags:
        raise ValueError(f"unknown template condition {condition!r}; known: {', '.join(flags)}")
    return flags[condition] != negated
