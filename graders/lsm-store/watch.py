"""Watching a folder's files from a thread, to act at a seeded moment: the n-th change seen (a file created,
resized or removed), or the removal of a file that was there when the watch began (an SSTable that a compaction
has just replaced, outside the WAL folder)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

POLL_S = 0.0005


def snapshot(folder: Path) -> dict[str, int]:
    files: dict[str, int] = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            try:
                files[path] = os.lstat(path).st_size
            except FileNotFoundError:
                continue
    return files


class FolderWatch:
    """Calls ``action`` once, at the ``target``-th change seen in ``folder`` or, with ``on_removal``, when a file
    there at the start (outside ``wal/``) is removed; stops with the ``with`` block."""

    def __init__(self, folder: Path, target: int, action: Callable[[], None], *, on_removal: bool = False) -> None:
        self.folder = folder
        self.target = target
        self.action = action
        self.on_removal = on_removal
        self.changes = 0
        self.last_change = ""
        self.fired = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="folder-watch", daemon=True)

    def __enter__(self) -> FolderWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def describe(self) -> str:
        if self.fired.is_set():
            return f"killed at change {self.changes} of DATA_DIR ({self.last_change})"
        wanted = "an old file's removal" if self.on_removal else f"change {self.target}"
        return f"killed after the workload: {self.changes} changes of DATA_DIR seen, not {wanted}"

    def _watch(self) -> None:
        before = snapshot(self.folder)
        wal = os.path.join(self.folder, "wal") + os.sep
        old = {path for path in before if not path.startswith(wal)}
        while not self.stopping.is_set():
            now = snapshot(self.folder)
            if now != before:
                self.changes += 1
                self.last_change = _what_changed(before, now, self.folder)
                removed_old = bool(old - set(now))
                if removed_old if self.on_removal else self.changes >= self.target:
                    self.action()
                    self.fired.set()
                    return
                before = now
            time.sleep(POLL_S)


def _what_changed(before: dict[str, int], now: dict[str, int], folder: Path) -> str:
    def name(path: str) -> str:
        return os.path.relpath(path, folder)

    created = sorted(set(now) - set(before))
    removed = sorted(set(before) - set(now))
    if removed:
        return f"{name(removed[0])} removed"
    if created:
        return f"{name(created[0])} created"
    grown = sorted(path for path in now if now[path] != before[path])
    return f"{name(grown[0])} resized" if grown else "a change"
