"""A failed check shows the stderr its program wrote during that check, not what earlier checks provoked."""

from __future__ import annotations

import sys
from pathlib import Path

from labkit import context
from labkit.catalog import Limits
from labkit.ports import free_port
from labkit.supervisor import EARLIER_OUTPUT, LaunchSpec, LearnerProcess
from labkit.wait import until
from support import RUN_PREFIX

# One program shared by three checks, as a stage's server is: each file the grader creates lets it go on.
PROGRAM = """
import os, sys, time
def after(name):
    while not os.path.exists(name):
        time.sleep(0.02)
print("MemoryError: provoked by check one", file=sys.stderr, flush=True)
after("two")
print("ValueError: provoked by check two", file=sys.stderr, flush=True)
after("three")
sys.exit(3)
"""


def test_each_check_sees_only_its_own_stderr(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(PROGRAM)
    spec = LaunchSpec(command=(sys.executable, "prog.py"), cwd=tmp_path, logs=tmp_path / "logs",
                      marker=f"{RUN_PREFIX}stderr", limits=Limits(), port=free_port())  # fmt: skip
    context.reset()
    program = LearnerProcess.start(spec)
    try:
        assert until(lambda: "check one" in program.stderr_tail(), 30), "check one's output never came"

        context.reset()  # check two begins
        assert program.stderr_tail() == "", "nothing written yet during check two"
        (tmp_path / "two").touch()
        assert until(lambda: "check two" in program.stderr_tail(), 30)
        assert "check one" not in program.stderr_tail()

        context.reset()  # check three: the program ends without a word, so older output is shown, marked so
        (tmp_path / "three").touch()
        assert until(lambda: program.exit_code() is not None, 30)
        shown = program.stderr_tail()
        assert shown.startswith(EARLIER_OUTPUT) and "check two" in shown
    finally:
        program.stop()
        context.reset()
