"""What the structure stage measures in the learner's code, read as text and parsed (never run): complexity with
radon, lengths, string literals and function bodies with ast."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from radon.complexity import cc_visit

SKIPPED_FOLDERS = {"tests", ".venv", "venv", "__pycache__", ".git", "node_modules"}
SMALL_BODY_NODES = 12  # a body smaller than this (one-line delegation) may repeat


@dataclass(frozen=True)
class Measured:
    where: str  # file:line name()
    value: int


def code_files(impl: Path) -> list[Path]:
    """The learner's own Python files, as the README counts them: models.py and tests aside."""
    found = []
    for path in sorted(impl.rglob("*.py")):
        relative = path.relative_to(impl)
        if SKIPPED_FOLDERS & set(relative.parts[:-1]) or relative == Path("models.py"):
            continue
        if path.name.startswith("test_") or path.name.endswith("_test.py"):
            continue
        found.append(path)
    return found


def source(impl: Path, path: Path) -> tuple[str, str]:
    return str(path.relative_to(impl)), path.read_text(encoding="utf-8", errors="replace")


def _flatten(blocks: list[object]) -> Iterator[object]:
    for block in blocks:
        if hasattr(block, "closures"):  # a function or method; classes list their methods separately
            yield block
            yield from _flatten(list(block.closures))


def complexities(impl: Path) -> list[Measured]:
    """Every function's and method's cyclomatic complexity, as radon measures it."""
    found = []
    for path in code_files(impl):
        name, text = source(impl, path)
        for block in _flatten(list(cc_visit(text))):
            label = f"{block.classname}.{block.name}" if getattr(block, "classname", None) else block.name  # type: ignore[attr-defined]
            found.append(Measured(f"{name}:{block.lineno} {label}()", int(block.complexity)))  # type: ignore[attr-defined]
    return found


def functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def parse_all(impl: Path) -> Iterator[tuple[str, ast.Module]]:
    for path in code_files(impl):
        name, text = source(impl, path)
        yield name, ast.parse(text, filename=name)


def lengths(impl: Path) -> list[Measured]:
    """Every function's span in lines, from its def line to its last line."""
    return [
        Measured(f"{name}:{node.lineno} {node.name}()", (node.end_lineno or node.lineno) - node.lineno + 1)
        for name, tree in parse_all(impl)
        for node in functions(tree)
    ]


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def string_literals(impl: Path, wanted: set[str]) -> dict[str, list[str]]:
    """Where each string of ``wanted`` is written as a literal (docstrings and f-string parts aside)."""
    found: dict[str, list[str]] = {}
    for name, tree in parse_all(impl):
        skipped = _docstrings(tree) | {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
                                       for part in node.values}  # fmt: skip
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in wanted and id(node) not in skipped:
                found.setdefault(str(node.value), []).append(f"{name}:{node.lineno}")
    return found


def _body_key(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, int]:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    size = sum(len(list(ast.walk(statement))) for statement in body)
    return "\n".join(ast.dump(statement) for statement in body), size


def copied_bodies(impl: Path) -> list[list[str]]:
    """Groups of functions with the same body (compared as syntax trees), small bodies aside."""
    groups: dict[str, list[str]] = {}
    for name, tree in parse_all(impl):
        for node in functions(tree):
            key, size = _body_key(node)
            if size >= SMALL_BODY_NODES:
                groups.setdefault(key, []).append(f"{name}:{node.lineno} {node.name}()")
    return [places for places in groups.values() if len(places) > 1]


def parse_errors(impl: Path) -> list[str]:
    """Files of the learner's code that do not parse: the structure stage reads every one."""
    errors = []
    for path in code_files(impl):
        name, text = source(impl, path)
        try:
            ast.parse(text, filename=name)
        except (SyntaxError, ValueError) as error:
            errors.append(f"{name}: {error}")
    return errors
