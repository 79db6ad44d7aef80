"""Stage 6's mutants and score: every cosmic-ray mutant of the given scheduler.py (labkit.tools.pymutants) but the
reviewed equivalent ones, each written as a variant the learner's suite runs against, and the share it kills."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from labkit.tools.pymutants import PyMutant, mutants

HERE = Path(__file__).parent
THRESHOLD_PERCENT = 90  # of the graded (non-equivalent) mutants, killed or timed out
SHOWN = 5  # surviving mutants named in one verdict


@dataclass(frozen=True)
class GradedMutant:
    unit: str  # the folder it is written to and the id of its round: mutant-NN, NN its rank among all mutants
    mutant: PyMutant


def equivalent() -> dict[str, str]:
    """The reviewed equivalent mutants' ids, each with the reason no test could tell it from the module."""
    data = tomllib.loads((HERE / "equivalent_mutants.toml").read_text())
    return {str(entry["id"]): str(entry["reason"]) for entry in data["equivalent"]}


def graded_mutants(original: str) -> list[GradedMutant]:
    """The mutants stage 6 grades, always the same ones in the same order for the same module."""
    left_out = equivalent()
    every = mutants(original)
    return [
        GradedMutant(f"mutant-{rank:02d}", mutant) for rank, mutant in enumerate(every) if mutant.id not in left_out
    ]


def write_mutants(folder: Path, unit_file: str, original: str) -> list[GradedMutant]:
    graded = graded_mutants(original)
    for each in graded:
        (folder / each.unit).mkdir(exist_ok=True)
        (folder / each.unit / unit_file).write_text(each.mutant.source)
    return graded


def passes(killed: int, total: int) -> bool:
    """At least THRESHOLD_PERCENT of ``total`` killed, in integers: no rounding can tip the verdict."""
    return killed * 100 >= THRESHOLD_PERCENT * total


def needed(total: int) -> int:
    """The fewest kills that pass."""
    return -(-THRESHOLD_PERCENT * total // 100)


@dataclass(frozen=True)
class Score:
    killed: int
    total: int
    timed_out: int  # of the killed: the suite did not finish within the round's limit
    survivors: list[PyMutant]

    @property
    def passes(self) -> bool:
        return passes(self.killed, self.total)

    @property
    def percent(self) -> int:
        """Rounded down, so that 79.9 % never reads as the threshold."""
        return 100 * self.killed // self.total if self.total else 100

    def survivor_lines(self, unit_file: str) -> list[str]:
        shown = [f"{unit_file} line {mutant.line}: {mutant.description}" for mutant in self.survivors[:SHOWN]]
        if len(self.survivors) > SHOWN:
            shown.append(f"… and {len(self.survivors) - SHOWN} more")
        return shown


def score(graded: list[GradedMutant], survived: Mapping[str, bool], timed_out: Mapping[str, bool]) -> Score:
    """The score from each round's outcome, by unit: survived (the whole suite passed) or killed."""
    survivors = [each.mutant for each in graded if survived[each.unit]]
    return Score(
        killed=len(graded) - len(survivors),
        total=len(graded),
        timed_out=sum(1 for each in graded if timed_out[each.unit]),
        survivors=survivors,
    )
