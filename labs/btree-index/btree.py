"""A B+tree of u64 keys and values in 4 KiB pages: the README is the specification.

The grader constructs ``BTree(pager, leaf_max, internal_max)`` in a driver process, with a pager it owns: read
and write the file only through ``pager.read(n)``, ``pager.write(n, data)``, ``pager.allocate()`` and
``pager.page_count()``.
"""

from __future__ import annotations

import struct

PAGE_SIZE = 4096
MAGIC = b"BTIDX001"
LEAF, INTERNAL, FREE = 1, 2, 3
HEADER = struct.Struct("<BBHI")  # type, zero, count, next leaf (leaf) / child 0 (internal) / next free (free)
META = struct.Struct("<8sIIHH")  # magic, root, free-list head, leaf_max, internal_max


class BTree:
    def __init__(self, pager, leaf_max: int, internal_max: int) -> None:
        self.pager = pager
        # TODO: validate the capacities; create page 0 in a new file, or read it from an existing one.

    def get(self, key: int) -> int | None:
        # TODO: descend from the root to the leaf where key belongs.
        raise NotImplementedError

    def insert(self, key: int, value: int) -> bool:
        # TODO: False for a key already present; split full leaves and internal nodes on the way back up.
        raise NotImplementedError

    def update(self, key: int, value: int) -> bool:
        # TODO: replace the value of a present key; False (and no insert) for an absent one.
        raise NotImplementedError

    def delete(self, key: int) -> bool:
        # TODO: remove the key; borrow or merge short nodes; collapse an empty root; free unused pages.
        raise NotImplementedError

    def scan(self, low: int | None, high: int | None, include_low: bool = True, include_high: bool = False) -> list:
        # TODO: descend to the first leaf of the range, then follow the leaf chain.
        raise NotImplementedError

    def close(self) -> None:
        # TODO: make sure page 0 and every changed page are written.
        pass
