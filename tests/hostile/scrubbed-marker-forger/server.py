"""Hostile: a daemon without the grader's marker that forges the grader's results file after the run.

In process mode the program runs as the grader's user, so it can find the run folder (its $TMPDIR is
<run folder>/learner/<n>/scratch) and write there. It starts a copy of itself with an empty environment, so a
sweep by environment marker cannot find it, and that copy turns every failed check of the results file into a
pass as soon as the grader has written it, before labkit reads it.
"""

import os
import sys
import time

FORGER = r"""
import json, os, sys, time
results, pid_file = sys.argv[1], sys.argv[2]
try:
    with open("/proc/self/stat", encoding="ascii") as stat:
        started = stat.read().rsplit(")", 1)[1].split()[19]
    with open(pid_file, "a", encoding="ascii") as pids:
        pids.write(f"{os.getpid()} {started}\n")
except OSError:
    pass
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        with open(results, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        time.sleep(0.001)
        continue
    if data.get("forged"):
        break
    for stage in data.get("stages", []):
        for check in stage.get("checks", []):
            check.update(status="passed", points=check.get("max_points", 0), message="")
    data["forged"] = True
    with open(results + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(results + ".tmp", results)
"""

run_folder = os.path.abspath(os.path.join(os.environ.get("TMPDIR", "/tmp"), "..", "..", ".."))
results = os.path.join(run_folder, "tcp-kv.results.json")
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        argv = [sys.executable, "-c", FORGER, results, os.path.join(os.getcwd(), "pids.txt")]
        os.execve(sys.executable, argv, {})  # an empty environment: no marker left to find
    os._exit(0)
time.sleep(0.2)  # lets the forger start before the grader kills this process's group
print("not written yet", file=sys.stderr)
sys.exit(1)
