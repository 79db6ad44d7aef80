"""The static half of the layering stage: the grader's import-linter contracts and its own syntax-tree pass.

Neither runs the learner's code: grimp (under import-linter) and ``ast`` only read the files. import-linter runs
in a child of the grader's interpreter with ``-I``, so nothing in the learner's folder is imported at start-up."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CONTRACTS = Path(__file__).parent / "layers.ini"
LINT_TIMEOUT_S = 60.0
LAYOUT = (
    "shop/__init__.py",
    "shop/domain/__init__.py",
    "shop/domain/model.py",
    "shop/domain/errors.py",
    "shop/service_layer/__init__.py",
    "shop/service_layer/unit_of_work.py",
    "shop/service_layer/services.py",
    "shop/adapters/__init__.py",
    "shop/adapters/postgres.py",
    "shop/entrypoints/__init__.py",
    "shop/entrypoints/http.py",
)
INNER_LAYERS = ("domain", "service_layer")
DYNAMIC_CALLS = frozenset({"__import__", "exec", "eval", "compile"})
DYNAMIC_MODULES = ("importlib", "builtins", "pkgutil", "runpy", "zipimport")
DATABASE_CALLS = frozenset({"execute", "executemany", "executescript", "cursor", "fetchone", "fetchall", "fetchmany"})
LINT = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); from importlinter.cli import lint_imports_command as main; main()"
)
# A table name may be schema-qualified or quoted: UPDATE public.products SET, UPDATE "products" SET.
SQL = re.compile(
    r"\bSELECT\s.+\sFROM\s|\bINSERT\s+INTO\s|\bUPDATE\s+(ONLY\s+)?[\w.\x22]+\s+SET\s|\bDELETE\s+FROM\s"
    r"|\b(CREATE|ALTER|DROP)\s+(TABLE|INDEX|SCHEMA)\s|^\s*(BEGIN|COMMIT|ROLLBACK)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class Finding:
    path: str  # relative to the implementation folder
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


def missing_files(impl: Path) -> list[str]:
    return [name for name in LAYOUT if not (impl / name).is_file()]


def lint_imports(impl: Path, scratch: Path) -> tuple[bool, str]:
    """Runs the grader's contracts; returns whether every one was kept, and import-linter's report of the rest."""
    scratch.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-I", "-c", LINT, str(impl), str(CONTRACTS), "--no-cache"],
        cwd=scratch,
        capture_output=True,
        text=True,
        timeout=LINT_TIMEOUT_S,
        check=False,
    )
    report = result.stdout + result.stderr
    broken = report.find("Broken contracts")
    return result.returncode == 0, (report[broken:] if broken >= 0 else report[-3000:]).strip()


def layer_of(impl: Path, path: Path) -> str:
    parts = path.relative_to(impl).parts
    return parts[1] if len(parts) > 2 else ""


def modules(impl: Path) -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted((impl / "shop").rglob("*.py")):
        try:
            yield path, ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=str(path))
        except SyntaxError:
            continue  # the import stages report it when they import the module


def hidden_imports(impl: Path) -> list[Finding]:
    """Imports the static contracts cannot follow, in the domain and the service layer."""
    findings = []
    for path, tree in modules(impl):
        if layer_of(impl, path) not in INNER_LAYERS:
            continue
        where = str(path.relative_to(impl))
        for node in ast.walk(tree):
            line = getattr(node, "lineno", 0)
            for name in _imported(node):
                if name.split(".")[0] in DYNAMIC_MODULES:
                    findings.append(Finding(where, line, f"imports {name}"))
            if isinstance(node, ast.Call) and _called(node.func) in DYNAMIC_CALLS:
                findings.append(Finding(where, line, f"calls {_called(node.func)}()"))
            if isinstance(node, ast.Name) and node.id == "__builtins__":
                findings.append(Finding(where, line, "uses __builtins__"))
            if _reads_sys_modules(node):
                findings.append(Finding(where, line, "reads sys.modules"))
    return findings


def sql_outside_adapters(impl: Path) -> list[Finding]:
    findings = []
    for path, tree in modules(impl):
        if layer_of(impl, path) == "adapters":
            continue
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            call = node.func.attr if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) else ""
            if call in DATABASE_CALLS:  # SQL kept in an adapter's constant still runs here
                where = str(path.relative_to(impl))
                findings.append(Finding(where, getattr(node, "lineno", 0), f"calls .{call}()"))
            text = _literal_text(node)
            if text is not None and id(node) not in docstrings and SQL.search(text):
                shown = " ".join(text.split())[:80]
                finding = Finding(str(path.relative_to(impl)), getattr(node, "lineno", 0), f"SQL: {shown!r}")
                if finding not in findings:  # an f-string's parts are literals of their own too
                    findings.append(finding)
    return sorted(findings, key=lambda finding: (finding.path, finding.line))


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def _reads_sys_modules(node: ast.AST) -> bool:
    """``sys.modules[...]`` hands out any module already loaded, with no import to see."""
    if isinstance(node, ast.Attribute) and node.attr == "modules":
        return isinstance(node.value, ast.Name) and node.value.id == "sys"
    if isinstance(node, ast.ImportFrom) and node.module == "sys":
        return any(alias.name == "modules" for alias in node.names)
    return False


def _called(func: ast.expr) -> str:
    """The builtin a call names: ``eval(...)`` or ``builtins.eval(...)``, not ``re.compile(...)``."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "builtins":
        return func.attr
    return ""


def _literal_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):  # an f-string: its constant parts, with a placeholder between them
        parts = [part.value for part in node.values if isinstance(part, ast.Constant)]
        return " x ".join(part for part in parts if isinstance(part, str))
    return None


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found
