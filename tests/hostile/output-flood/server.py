"""Hostile: writes as fast as it can to both output streams and never listens."""

import os

chunk = b"flood " * (64 * 1024 // 6)
while True:
    os.write(1, chunk)
    os.write(2, chunk)
