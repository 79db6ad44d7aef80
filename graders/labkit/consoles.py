"""The consoles labkit prints to.

Plain output (``NO_COLOR`` set, or ``--plain``) carries no escape code at all: no colour, no bold, no spinner.
Output that is not a terminal (a CI log, a pipe) is never wrapped, so a path or a message stays one line to copy.
"""

from __future__ import annotations

from rich.console import Console

from labkit.settings import settings

UNWRAPPED_WIDTH = 1000  # columns of a console that is not a terminal: its lines are only as long as their text


def make_console(*, stderr: bool = False, plain: bool = False) -> Console:
    if plain or settings().no_color is not None:
        console = Console(stderr=stderr, color_system=None, no_color=True, highlight=False, force_terminal=False)
    else:
        console = Console(stderr=stderr)
    console.soft_wrap = stderr or not console.is_terminal
    if not console.is_terminal:
        console.width = UNWRAPPED_WIDTH  # a table too keeps each row on one line
    return console


def is_plain(console: Console) -> bool:
    """A console that must show no live display (a spinner redraws the line with escape codes)."""
    return console.color_system is None or not console.is_terminal
