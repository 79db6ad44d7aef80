"""Hostile: dumps its whole environment to stderr, hoping the grader's secrets were passed down."""

import os
import sys

for name in sorted(os.environ):
    print(f"{name}={os.environ[name]}", file=sys.stderr)
secret = os.environ.get("LABKIT_TEST_SECRET")
print(f"LABKIT_TEST_SECRET: {'PRESENT ' + secret if secret else 'absent'}", file=sys.stderr)
sys.exit(1)
