"""YAML read safely, with the line of every mapping and key kept, so that a finding can say where it is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class Mapping(dict[str, Any]):
    """A YAML mapping that remembers the line it starts on and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Mapping:
    result = Mapping()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if str(key) in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (the second one would silently win)", key_node.start_mark
            )
        result[str(key)] = loader.construct_object(value_node, deep=True)
        result.key_lines[str(key)] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


@dataclass(frozen=True)
class Document:
    file: str  # relative to the implementation folder
    index: int  # 0-based position in a multi-document file
    body: Any  # usually a Mapping

    @property
    def line(self) -> int:
        return self.body.line if isinstance(self.body, Mapping) else 1


class YamlError(Exception):
    def __init__(self, file: str, line: int, problem: str) -> None:
        super().__init__(f"{file}:{line}: {problem}")
        self.file, self.line, self.problem = file, line, problem


def load_documents(path: Path, name: str) -> list[Document]:
    """Every non-empty document of a YAML file; a syntax error is raised as YamlError with its line."""
    try:
        text = path.read_text(encoding="utf-8")
        bodies = list(yaml.load_all(text, Loader=_Loader))
    except UnicodeDecodeError as error:
        raise YamlError(name, 0, "is not UTF-8 text") from error
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        raise YamlError(name, line, f"{error.problem or error.context}") from error
    return [Document(name, index, body) for index, body in enumerate(bodies) if body is not None]
