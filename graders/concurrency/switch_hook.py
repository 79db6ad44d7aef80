"""Forces thread switches inside a Python program's own code. The grader copies this file, as sitecustomize.py, into
a folder of the run that it puts on PYTHONPATH for the tally runs, so Python imports it at start-up, before the
program (labs/concurrency/README.md, The tally).

Left alone, CPython switches threads only at some instructions, and a read-modify-write of a shared total spans a
few instructions: an unguarded update loses another thread's update once in many runs. Here every frame whose file
lies in the program's folder (its working directory at start-up, installed packages aside) is traced instruction by
instruction, and before each instruction a thread lets go of the interpreter and of its CPU
(``os.sched_yield()``) whenever another thread is also inside the program's code, so that the other one runs
first. A program with one thread in its code (asyncio) never yields. Library code is not traced instruction by
instruction: it would cost much and prove nothing about the program.
"""

from __future__ import annotations

import os
import sys
import threading
from types import FrameType
from typing import Any

Tracer = Any  # what sys.settrace takes: (frame, event, arg) -> the frame's tracer, or None

PROGRAM_FOLDER = os.path.join(os.path.realpath(os.getcwd()), "")
INSTALLED = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")

_own: dict[str, bool] = {}
_inside = threading.local()  # .depth: how many of the program's frames this thread is running
_threads_inside: set[int] = set()  # the threads with a frame of the program running (set operations are atomic)


def is_programs(filename: str) -> bool:
    """Whether code from ``filename`` is the program's own (cached: realpath costs system calls)."""
    own = _own.get(filename)
    if own is None:
        path = os.path.realpath(filename)
        own = _own[filename] = path.startswith(PROGRAM_FOLDER) and not any(part in path for part in INSTALLED)
    return own


def trace_instructions(frame: FrameType, event: str, arg: object) -> Tracer:
    if event == "opcode":
        if len(_threads_inside) > 1:
            os.sched_yield()  # releases the interpreter: another thread in the program's code takes it
    elif event == "return":  # also when the frame ends by an exception, or a generator suspends
        _inside.depth -= 1
        if _inside.depth == 0:
            _threads_inside.discard(threading.get_ident())
    return trace_instructions


def on_call(frame: FrameType, event: str, arg: object) -> Tracer:
    """The global tracer, called as each frame starts or resumes: traces the program's frames only."""
    if not is_programs(frame.f_code.co_filename):
        return None
    depth = getattr(_inside, "depth", 0)
    _inside.depth = depth + 1
    if depth == 0:
        _threads_inside.add(threading.get_ident())
    frame.f_trace_lines = False
    frame.f_trace_opcodes = True
    return trace_instructions


def forget_other_threads() -> None:
    """In a forked child only the forking thread lives on."""
    _threads_inside.intersection_update({threading.get_ident()})


def install() -> None:
    os.register_at_fork(after_in_child=forget_other_threads)
    threading.settrace(on_call)
    sys.settrace(on_call)


if __name__ == "sitecustomize":  # Python's start-up imports it under that name; the grader's tests import it too
    install()
