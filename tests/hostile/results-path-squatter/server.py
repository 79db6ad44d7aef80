"""Hostile: blocks the path of the grader's results file, to turn its own failure into a harness error."""

import os
import sys

run_folder = os.path.abspath(os.path.join(os.environ.get("TMPDIR", "/tmp"), "..", "..", ".."))
results = os.path.join(run_folder, "tcp-kv.results.json")
try:
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, "keep"), "w", encoding="ascii") as keep:
        keep.write("a non-empty directory cannot simply be written over\n")
except OSError as error:
    print(f"could not squat the results path: {error.strerror}", file=sys.stderr)
sys.exit(1)
