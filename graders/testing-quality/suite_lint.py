"""What the grader reads in the learner's test files without running them: swallowed assertions and error
expectations too broad to tell one error from another. Each finding names the file and the line."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

BROAD = frozenset({"Exception", "BaseException"})
SWALLOWING = frozenset({"AssertionError", "BaseException"})


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


def test_files(folder: Path) -> list[Path]:
    tests = folder / "tests"
    return sorted(p for p in tests.rglob("*.py") if "__pycache__" not in p.parts) if tests.is_dir() else []


def _names(node: ast.expr | None) -> set[str]:
    if node is None:
        return set()
    if isinstance(node, ast.Tuple):
        return {name for element in node.elts for name in _names(element)}
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Attribute):
        return {node.attr}
    return set()


def _asserts_inside(statements: list[ast.stmt]) -> bool:
    return any(isinstance(node, ast.Assert) for statement in statements for node in ast.walk(statement))


def swallowed_assertions(folder: Path) -> list[Finding]:
    """``except AssertionError``, ``except BaseException``, a bare ``except:``, or ``except Exception`` around an
    ``assert``: a failed assertion would pass unseen."""
    findings = []
    for path in test_files(folder):
        tree = _parse(path)
        for node in ast.walk(tree) if tree else ():
            if not isinstance(node, ast.Try):
                continue
            for handler in node.handlers:
                caught = _names(handler.type)
                if (
                    handler.type is None
                    or caught & SWALLOWING
                    or ("Exception" in caught and _asserts_inside(node.body))
                ):
                    shown = "except:" if handler.type is None else f"except {ast.unparse(handler.type)}:"
                    findings.append(Finding(str(path.relative_to(folder)), handler.lineno, shown))
    return findings


def broad_raises(folder: Path) -> list[Finding]:
    """``pytest.raises(Exception)`` (or BaseException): a wrong error passes it as well as the right one."""
    findings = []
    for path in test_files(folder):
        tree = _parse(path)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.Call) and "raises" in _names(node.func) and _names(_expected(node)) & BROAD:
                findings.append(Finding(str(path.relative_to(folder)), node.lineno, ast.unparse(node)))
    return findings


def _expected(call: ast.Call) -> ast.expr | None:
    """The exception class a ``raises(...)`` call expects: its first argument or ``expected_exception=``."""
    if call.args:
        return call.args[0]
    return next((kw.value for kw in call.keywords if kw.arg == "expected_exception"), None)


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=str(path))
    except SyntaxError:
        return None  # pytest reports it, with its own words, when it collects the suite
