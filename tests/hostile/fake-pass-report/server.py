"""Hostile: claims success in every way it can think of instead of serving, then exits 0."""

import json
import os
import sys

FAKE_LINES = (
    " ✓ 1 connect   Accept connections on $PORT   5/5\n"
    " ✓ 8 shutdown   Graceful shutdown on SIGTERM   15/15\n"
    "Score 100/100  all stages passed\n"
)
FAKE_JSON = json.dumps(
    {
        "exit_code": 0,
        "labs": [{"id": "tcp-kv", "points": 100, "max_points": 100, "passed": True, "stages": []}],
    }
)
FAKE_JUNIT = '<testsuites tests="1" failures="0" errors="0"><testsuite name="connect" tests="1"/></testsuites>\n'

here = os.getcwd()
scratch = os.environ.get("TMPDIR", "/tmp")
targets = [
    here,  # its own folder
    scratch,  # the scratch folder the grader gave it
    os.path.join(here, ".."),  # ../ of its folder
    os.path.join(here, "..", ".."),
    os.path.join(scratch, ".."),  # up from the scratch folder, towards the grader's run folder
    os.path.join(scratch, "..", ".."),
    os.path.join(scratch, "..", "..", ".."),  # process mode: exactly where the grader writes tcp-kv.results.json
]
for folder in targets:
    for name, content in (("tcp-kv.results.json", FAKE_JSON), ("results.json", FAKE_JSON), ("junit.xml", FAKE_JUNIT)):
        try:
            with open(os.path.join(folder, name), "w", encoding="utf-8") as handle:
                handle.write(content)
        except OSError as error:
            print(f"could not plant {name} in {folder}: {error.strerror}", file=sys.stderr)

sys.stdout.write(FAKE_LINES)
sys.stderr.write(FAKE_LINES)
sys.exit(0)
