"""Single-change mutants of one Python source, made with cosmic-ray's operators, for a grader that measures a
learner's test suite by the mutants it kills (a mutation score).

The operators are the subset ``labkit mutate`` uses: comparison boundaries and negations, arithmetic slips, ``and``
and ``or``, loop and exception control, numbers one off. The set is fixed for a given source (no sampling), in a
stable order, and each mutant's id stays the same while the line it changes does, so a list of reviewed
equivalent mutants holds across edits elsewhere in the file::

    for mutant in mutants(Path("scheduler.py").read_text()):
        mutant.id           # "core/ReplaceComparisonOperator_Lt_LtE:b29bc7c0a9"
        mutant.line         # 109
        mutant.description  # "if cursor < end: → if cursor <= end:"
        mutant.source       # the whole file with that one change
"""

from __future__ import annotations

from dataclasses import dataclass

from labkit.mutants import python_mutants

__all__ = ["CONTEXT_WORDS", "PyMutant", "mutants"]

CONTEXT_WORDS = 2  # unchanged words shown on each side of a change in its description


@dataclass(frozen=True)
class PyMutant:
    id: str  # operator:digest of the change (``~N`` for the Nth identical change): stable while the line is
    operator: str  # cosmic-ray's name, e.g. "core/NumberReplacer"
    line: int  # the first line changed, from 1
    before: str  # the changed line(s) as written
    after: str  # the same line(s) mutated
    source: str  # the whole mutated source

    @property
    def description(self) -> str:
        """The change in one line, as mutation tools report it: the words that differ with CONTEXT_WORDS words of
        context each side, ``if b.start < end and → if b.start <= end and``."""
        before, after = self.before.split(), self.after.split()
        same_start = 0
        while same_start < min(len(before), len(after)) and before[same_start] == after[same_start]:
            same_start += 1
        same_end = 0
        while (
            same_end < min(len(before), len(after)) - same_start
            and before[len(before) - 1 - same_end] == after[len(after) - 1 - same_end]
        ):
            same_end += 1
        first = max(0, same_start - CONTEXT_WORDS)
        old = before[first : len(before) - max(0, same_end - CONTEXT_WORDS)]
        new = after[first : len(after) - max(0, same_end - CONTEXT_WORDS)]
        return f"{' '.join(old)} → {' '.join(new)}"


def mutants(source: str) -> list[PyMutant]:
    """Every mutant of ``source``, in cosmic-ray's order (operator, then position); two operators that produce
    the same file count once. Raises ``labkit.errors.HarnessError`` when cosmic-ray is not installed."""
    return [
        PyMutant(mutant.change_id, mutant.operator, mutant.line, mutant.before, mutant.after, mutant.source)
        for mutant in python_mutants("", source)
    ]
