"""Hostile: relies on the conftest.py, pytest.ini and pyproject.toml next to it to force a pass."""

import sys

print("not written: the conftest.py next to me will make every check pass", file=sys.stderr)
sys.exit(1)
