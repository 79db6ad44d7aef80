"""Hostile: reads through the symbolic links of its folder, hoping they still lead out of it."""

import os
import sys

for name in ("passwd.txt", "kvwire.py", "up", "sideways.txt", "inside.py"):
    path = os.path.join(name, ".neighbour", "notes.txt") if name == "up" else name
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            content = handle.read(300)
    except OSError as error:
        print(f"{name}: unreadable ({error.strerror})", file=sys.stderr)
        continue
    shown = content if name != "inside.py" else "(its own code)"
    print(f"{name}: readable: {shown}", file=sys.stderr)
sys.exit(1)
