"""Single-change mutants of a lab's reference solution: what `labkit mutate` grades to measure a grader.

Python code is mutated with cosmic-ray's operators (a chosen subset: each one a bug a learner could write; the
full set repeats itself, e.g. ten replacements of every ``+``). Logic that lives inside strings (SQL in the data
labs, Lua in redis-patterns) is beyond any Python mutation tool, so the kit's own operators change it: a
comparison's boundary, a lock clause, an isolation level, a constraint. Each mutant has an id that stays the same
while the line it changes does, so a reviewed verdict (an equivalent mutant) is recorded once.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import io
import re
import tokenize
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from labkit.errors import HarnessError

# cosmic-ray operators: boundaries, negations, arithmetic slips, loop and exception control, constants.
PYTHON_OPERATORS = (
    "core/ReplaceComparisonOperator_Lt_LtE", "core/ReplaceComparisonOperator_LtE_Lt",
    "core/ReplaceComparisonOperator_Gt_GtE", "core/ReplaceComparisonOperator_GtE_Gt",
    "core/ReplaceComparisonOperator_Eq_NotEq", "core/ReplaceComparisonOperator_NotEq_Eq",
    "core/ReplaceComparisonOperator_Is_IsNot", "core/ReplaceComparisonOperator_IsNot_Is",
    "core/ReplaceBinaryOperator_Add_Sub", "core/ReplaceBinaryOperator_Sub_Add",
    "core/ReplaceBinaryOperator_Mul_Add", "core/ReplaceBinaryOperator_FloorDiv_Mul",
    "core/ReplaceBinaryOperator_Mod_FloorDiv", "core/ReplaceBinaryOperator_LShift_RShift",
    "core/ReplaceBinaryOperator_RShift_LShift", "core/ReplaceBinaryOperator_BitAnd_BitOr",
    "core/ReplaceBinaryOperator_BitOr_BitAnd",
    "core/ReplaceUnaryOperator_Delete_Not", "core/AddNot",
    "core/ReplaceTrueWithFalse", "core/ReplaceFalseWithTrue",
    "core/ReplaceAndWithOr", "core/ReplaceOrWithAnd",
    "core/ReplaceBreakWithContinue", "core/ReplaceContinueWithBreak",
    "core/NumberReplacer", "core/ZeroIterationForLoop", "core/ExceptionReplacer",
)  # fmt: skip

NEVER_RAISED_NAME = "CosmicRayTestingException"
NEVER_RAISED = "type('NeverRaised', (Exception,), {})"

# The kit's operators on SQL and Lua, in .sql files and in Python string literals that hold a query or a script.
EMBEDDED_CODE = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|redis\.call)\b", re.IGNORECASE)
# SQL's and Lua's comments: a line from --, or (SQL) a /* ... */ block.
COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
TextSwap = tuple[str, re.Pattern[str], str]
TEXT_OPERATORS: tuple[TextSwap, ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE), replacement)
    for name, pattern, replacement in (
        ("text/lt-to-le", r"(?<![<>=~!])<(?![=>])", "<="),
        ("text/le-to-lt", r"<=", "<"),
        ("text/gt-to-ge", r"(?<![<>=~!-])>(?![=])", ">="),
        ("text/ge-to-gt", r">=", ">"),
        ("text/drop-for-update", r"\s+FOR\s+(NO\s+KEY\s+)?UPDATE(\s+SKIP\s+LOCKED)?", ""),
        ("text/drop-skip-locked", r"\s+SKIP\s+LOCKED", ""),
        ("text/serializable-to-read-committed", r"\bSERIALIZABLE\b", "READ COMMITTED"),
        ("text/repeatable-read-to-read-committed", r"\bREPEATABLE\s+READ\b", "READ COMMITTED"),
        ("text/drop-not-null", r"\s+NOT\s+NULL\b", ""),
        ("text/drop-unique", r"\bUNIQUE\s*", ""),
        ("text/drop-on-conflict", r"\s+ON\s+CONFLICT\b[^;]*?DO\s+NOTHING", ""),
        ("text/asc-to-desc", r"\bASC\b", "DESC"),
        ("text/desc-to-asc", r"\bDESC\b", "ASC"),
        ("text/and-to-or", r"\bAND\b", "OR"),
        ("text/lua-eq-to-ne", r"==", "~="),
        ("text/lua-ne-to-eq", r"~=", "=="),
        ("text/nx-to-xx", r"(['\"])NX\1", r"\1XX\1"),
        ("text/drop-expiry", r",\s*(['\"])P?X\1\s*,\s*[^,)]+", ""),
    )
)


@dataclass(frozen=True)
class Mutant:
    path: str  # relative to the implementation folder
    operator: str
    line: int
    before: str  # the line as written
    after: str  # the line as mutated
    source: str  # the whole mutated file
    repeat: int = 1  # the same change to an identical line elsewhere in the file: its rank among them

    @property
    def id(self) -> str:
        """path:operator:digest of the changed line, before and after (``~N`` for the Nth identical change):
        stable while that line is."""
        return f"{self.path}:{self.change_id}"

    @property
    def change_id(self) -> str:
        """The id within its file: operator:digest (``~N``)."""
        digest = hashlib.sha256(f"{self.before.strip()}\n{self.after.strip()}".encode()).hexdigest()[:10]
        return f"{self.operator}:{digest}" + (f"~{self.repeat}" if self.repeat > 1 else "")

    def diff(self) -> str:
        return f"{self.path}:{self.line}\n- {self.before.strip()}\n+ {self.after.strip()}"


def mutants_of(folder: Path, patterns: Sequence[str] = ()) -> list[Mutant]:
    """Every mutant of the Python, SQL and Lua files of ``folder`` (caches and tests aside), or of the files the
    glob ``patterns`` name (tests included: a lab whose learner writes tests), in a stable order; two operators
    that produce the same file count once."""
    found: dict[str, Mutant] = {}
    chosen = {path for pattern in patterns for path in folder.glob(pattern)} if patterns else set(folder.rglob("*"))
    for path in sorted(chosen):
        relative = path.relative_to(folder)
        if not path.is_file() or "__pycache__" in relative.parts:
            continue
        if not patterns and relative.name.startswith("test_"):
            continue
        configuration = bool(patterns) and path.suffix not in (".py", ".sql", ".lua")
        if not configuration and path.suffix not in (".py", ".sql", ".lua"):
            continue  # data the solution serves or reads (a PNG, say) is not code, and may not be text
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            generated = [*_python_mutants(text), *_string_mutants(text)]
        elif configuration:  # a file lab.toml names that is none of those: a Dockerfile, YAML, HCL
            generated = list(_configuration_mutants(text))
        else:
            generated = list(_text_mutants(text, [(0, len(text))]))
        for operator, source in generated:
            mutant = _described(str(relative), operator, text, source)
            if mutant is not None:
                found.setdefault(f"{mutant.path}\0{source}", mutant)
    return _ranked(found.values())


def python_mutants(path: str, text: str) -> list[Mutant]:
    """The cosmic-ray mutants of one Python source named ``path``, in the order ``mutants_of`` gives them."""
    found: dict[str, Mutant] = {}
    for operator, source in _python_mutants(text):
        mutant = _described(path, operator, text, source)
        if mutant is not None:
            found.setdefault(source, mutant)
    return _ranked(found.values())


def _ranked(mutants: Iterable[Mutant]) -> list[Mutant]:
    """Numbers the same change to identical lines (``repeat``), so that each id is unique."""
    ranked: list[Mutant] = []
    seen: dict[str, int] = {}
    for mutant in mutants:
        seen[mutant.id] = seen.get(mutant.id, 0) + 1
        ranked.append(replace(mutant, repeat=seen[mutant.id]) if seen[mutant.id] > 1 else mutant)
    return ranked


def _described(path: str, operator: str, original: str, source: str) -> Mutant | None:
    before, after = original.splitlines(), source.splitlines()
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, first, last, other_first, other_last in matcher.get_opcodes():
        if tag != "equal":
            old = "\n".join(before[first:last]) or "(nothing)"
            new = "\n".join(after[other_first:other_last]) or "(removed)"
            return Mutant(path, operator, first + 1, old, new, source)
    return None  # the operator rewrote the file without changing it


def _python_mutants(text: str) -> Iterator[tuple[str, str]]:
    """cosmic-ray's mutations, in its order (operator, then the tree's nodes in pre-order), from one parse: its own
    ``mutate_code`` parses and walks the whole file once per mutant, minutes for a lab's solution."""
    try:
        from cosmic_ray.ast import ast_nodes, get_ast
        from cosmic_ray.plugins import get_operator
    except ImportError as missing:
        raise HarnessError(
            "Python mutants need cosmic-ray, one of labkit's dependencies", hint="pip install -e . installs it"
        ) from missing
    nodes = list(ast_nodes(get_ast(text)))
    line_starts = _line_starts(text)
    for name in PYTHON_OPERATORS:
        operator = get_operator(name)()
        for node in nodes:
            for index in range(_positions(operator, node)):
                mutated = _mutated(text, line_starts, operator, node, index)
                if mutated is not None:
                    # cosmic-ray's runner defines this name; a mutant graded on its own gets a class nothing raises.
                    yield name, mutated.replace(NEVER_RAISED_NAME, NEVER_RAISED)


def _positions(operator: Any, node: Any) -> int:
    try:
        return sum(1 for _ in operator.mutation_positions(node))
    except (AttributeError, AssertionError, IndexError):
        return 0  # a construct the operator's author did not foresee (``except`` with a tuple, say): no mutant


def _mutated(text: str, line_starts: list[int], operator: Any, node: Any, index: int) -> str | None:
    """The file with ``node`` mutated: the operator changes a copy of the node (operators edit in place), whose
    code replaces the node's text, prefix included, so the parse tree serves every mutant."""
    parent, node.parent = node.parent, None  # copy the subtree, not the whole tree through the parent link
    try:
        clone = copy.deepcopy(node)
    finally:
        node.parent = parent
    clone.parent = parent  # operators may look up at the context; they never change it
    try:
        changed = operator.mutate(clone, index)
    except (AttributeError, AssertionError, IndexError):
        return None
    start = _offset(line_starts, node.get_start_pos_of_prefix())
    end = _offset(line_starts, node.end_pos)
    code: str = changed.get_code()
    return text[:start] + code + text[end:]


def _line_starts(text: str) -> list[int]:
    from parso.utils import split_lines  # parso's own line splitting, so its positions map back exactly

    starts = [0]
    for line in split_lines(text, keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _offset(line_starts: list[int], position: tuple[int, int]) -> int:
    line, column = position
    return line_starts[line - 1] + column


def _string_mutants(text: str) -> Iterator[tuple[str, str]]:
    """The kit's text operators, inside the string literals of a Python file that hold SQL or Lua."""
    spans = []
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.STRING and EMBEDDED_CODE.search(token.string):
            begin = starts[token.start[0] - 1] + token.start[1]
            end = starts[token.end[0] - 1] + token.end[1]
            spans.append((begin, end))
    yield from _text_mutants(text, spans)


CONFIGURATION_COMMENT = re.compile(r"^\s*(#|//)")
NUMBER = re.compile(r"(?<![\w.:/-])\d+(?![\w.:/])")  # a whole number on its own: not in a version, an address or a tag
BOOLEAN = re.compile(r"\b(true|false)\b")


def _configuration_mutants(text: str) -> Iterator[tuple[str, str]]:
    """Mutants of a configuration file (Dockerfile, YAML, HCL): each line that is not blank or a comment left out,
    each whole number on such a line one more, each true or false the other."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if not line.strip() or CONFIGURATION_COMMENT.match(line):
            continue
        yield "config/drop-line", "".join(lines[:index] + lines[index + 1 :])
    swaps: tuple[tuple[str, re.Pattern[str], Callable[[str], str]], ...] = (
        ("config/number-plus-one", NUMBER, lambda found: str(int(found) + 1)),
        ("config/flip-boolean", BOOLEAN, lambda found: "false" if found == "true" else "true"),
    )
    for name, pattern, change in swaps:
        for index, line in enumerate(lines):
            if CONFIGURATION_COMMENT.match(line):
                continue
            code = line.split(" #", 1)[0]  # a comment after the value is not configuration either
            for match in pattern.finditer(code):
                changed = line[: match.start()] + change(match.group()) + line[match.end() :]
                yield name, "".join([*lines[:index], changed, *lines[index + 1 :]])


def _text_mutants(text: str, spans: list[tuple[int, int]]) -> Iterator[tuple[str, str]]:
    comments = [(match.start(), match.end()) for match in COMMENT.finditer(text)]
    for name, pattern, replacement in TEXT_OPERATORS:
        for begin, end in spans:
            for match in pattern.finditer(text, begin, end):
                if any(first <= match.start() < last for first, last in comments):
                    continue  # a change to a comment is no bug: every one would be an equivalent mutant to review
                replaced = match.expand(replacement) if "\\" in replacement else replacement
                yield name, text[: match.start()] + replaced + text[match.end() :]
