"""Hostile: looks for the instructor's hidden checks wherever the grader might keep them and prints them."""

import os
import sys

SKIP = ("/proc", "/sys", "/dev")


def candidate_roots() -> list[str]:
    roots = {os.path.abspath(os.path.join(os.environ.get("TMPDIR", "/tmp"), *[".."] * depth)) for depth in (3, 4)}
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as mounts:
            roots.update(line.split()[4] for line in mounts)
    except OSError:
        pass
    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as handle:
            for argument in handle.read().decode(errors="replace").split("\0"):
                if argument.startswith("--labkit-config="):  # the run configuration sits in the run folder
                    roots.add(os.path.dirname(argument.split("=", 1)[1]))
    except OSError:
        pass
    return sorted(root for root in roots if root != "/" and not root.startswith(SKIP))


found = visited = 0
for root in candidate_roots():
    for folder, subfolders, files in os.walk(root):
        visited += 1
        if folder[len(root) :].count(os.sep) >= 4 or visited > 5000:
            subfolders[:] = []
        for name in files:
            if name.startswith("hidden_") and name.endswith(".py"):
                found += 1
                try:
                    with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as handle:
                        print(f"found {name}:\n{handle.read(600)}", file=sys.stderr)
                except OSError as error:
                    print(f"found {name}, unreadable ({error.strerror})", file=sys.stderr)
print(f"hidden check files found: {found}", file=sys.stderr)
sys.exit(1)
