"""Hostile: turns its own failure into a harness error by killing the grader."""

import os
import signal
import sys

try:
    os.kill(os.getppid(), signal.SIGKILL)
except OSError as error:
    print(f"could not kill my parent: {error.strerror}", file=sys.stderr)
sys.exit(1)
