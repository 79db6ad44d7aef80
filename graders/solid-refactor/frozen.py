"""The frozen interface, compared as syntax trees: formatting and comments may change, nothing else."""

from __future__ import annotations

import ast
from pathlib import Path

PUBLIC_FUNCTIONS = ("price", "quote", "quote_many")
LEGACY = Path(__file__).parent / "legacy"


def parsed(path: Path) -> ast.Module | str:
    """The module's syntax tree, or why there is none."""
    if not path.is_file():
        return f"{path.name} is missing"
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=path.name)
    except (SyntaxError, UnicodeDecodeError, ValueError) as error:
        return f"{path.name} does not parse: {error}"


def pristine(name: str) -> ast.Module:
    """The kit's own legacy module: the reference of the frozen interface."""
    tree = parsed(LEGACY / name)
    assert isinstance(tree, ast.Module), tree  # a broken kit, never the learner's fault
    return tree


def top_level_classes(module: ast.Module) -> dict[str, str]:
    return {node.name: ast.dump(node) for node in module.body if isinstance(node, ast.ClassDef)}


def signature(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The parameters and return annotation, as they are written (positions aside)."""
    kind = "async def" if isinstance(function, ast.AsyncFunctionDef) else "def"
    returns = ast.unparse(function.returns) if function.returns else ""
    return f"{kind} {function.name}({ast.unparse(function.args)})" + (f" -> {returns}" if returns else "")


def public_signatures(module: ast.Module) -> dict[str, str]:
    found = {}
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in PUBLIC_FUNCTIONS:
            found[node.name] = signature(node)
    return found
