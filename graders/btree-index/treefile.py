"""The grader's own reading of a tree file, page by page, with every rule of the README checked.

Nothing here trusts the learner's code: the file is opened in the grader's process after the tree's calls
returned, parsed with the layout the README fixes, and walked from page 0.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from labkit.checks import fail

PAGE_SIZE = 4096
MAGIC = b"BTIDX001"
LEAF, INTERNAL, FREE = 1, 2, 3
LEAF_ENTRY = struct.Struct("<QQ")
INTERNAL_ENTRY = struct.Struct("<QI")
HEADER = struct.Struct("<BBHI")
META = struct.Struct("<8sIIHH")


@dataclass(frozen=True)
class Tree:
    """What a valid file holds."""

    pages: int
    root: int
    height: int
    entries: list[tuple[int, int]]
    leaves: int
    internal_nodes: int
    free_pages: int
    root_keys: list[int]  # the root's keys (a root internal node's separators)
    leaf_keys: list[list[int]]  # each leaf's keys, left to right


@dataclass(frozen=True)
class _Node:
    page: int
    kind: int
    keys: list[int]
    values: list[int]  # a leaf's values
    children: list[int]  # an internal node's children
    next: int  # a leaf's next pointer


def read_tree(path: Path, leaf_max: int, internal_max: int) -> Tree:
    """The tree in ``path``, or a failed check naming the first rule it breaks."""
    data = path.read_bytes() if path.exists() else b""
    if len(data) < PAGE_SIZE or len(data) % PAGE_SIZE:
        fail(
            "the tree file is not a whole number of pages, starting with page 0",
            expected=f"a multiple of {PAGE_SIZE} bytes, at least one page",
            got=f"{len(data)} bytes",
            hint="create page 0 in BTree() when pager.page_count() == 0; take every page with pager.allocate()",
        )
    return _Walk(data, leaf_max, internal_max).tree()


class _Walk:
    def __init__(self, data: bytes, leaf_max: int, internal_max: int) -> None:
        self.data = data
        self.pages = len(data) // PAGE_SIZE
        self.leaf_max = leaf_max
        self.internal_max = internal_max
        self.owner: dict[int, str] = {0: "the meta page"}

    def tree(self) -> Tree:
        root, free = self.meta()
        free_pages = self.free_list(free)
        if root == 0:
            used = self.pages - 1 - free_pages
            if used:
                fail(
                    f"the tree is empty (root = 0) but {used} page(s) are neither free nor page 0",
                    hint="an emptied tree has every page but page 0 on the free list: free the last leaf too",
                )
            return Tree(self.pages, 0, 0, [], 0, 0, free_pages, [], [])
        self.claim(root, "the root")
        levels: list[list[_Node]] = [[self.node(root)]]
        bounds: dict[int, tuple[int | None, int | None]] = {root: (None, None)}
        while levels[-1][0].kind == INTERNAL:
            below: list[_Node] = []
            for node in levels[-1]:
                if node.kind != INTERNAL:
                    self.uneven(node, len(levels))
                for i, child in enumerate(node.children):
                    self.claim(child, f"child {i} of internal page {node.page}")
                    low, high = bounds[node.page]
                    bounds[child] = (node.keys[i - 1] if i else low, node.keys[i] if i < len(node.keys) else high)
                    below.append(self.node(child))
            levels.append(below)
        for node in levels[-1]:
            if node.kind != LEAF:
                self.uneven(node, len(levels))
        for level in levels:
            for node in level:
                self.fill(node, is_root=node.page == root)
                self.bounded(node, *bounds[node.page])
        self.all_pages_accounted()
        entries = self.chain(levels[-1])
        internal = sum(len(level) for level in levels[:-1])
        leaf_keys = [leaf.keys for leaf in levels[-1]]
        return Tree(
            self.pages, root, len(levels), entries, len(levels[-1]), internal, free_pages, levels[0][0].keys, leaf_keys
        )

    def meta(self) -> tuple[int, int]:
        magic, root, free, leaf_max, internal_max = META.unpack_from(self.data, 0)
        if magic != MAGIC:
            fail(
                "page 0 does not start with the magic",
                expected=repr(MAGIC),
                got=repr(magic),
                hint="page 0 is the meta page: bytes 0..8 are the ASCII text BTIDX001",
            )
        if (leaf_max, internal_max) != (self.leaf_max, self.internal_max):
            fail(
                "page 0 holds other capacities than the tree was created with",
                expected=f"leaf_max {self.leaf_max}, internal_max {self.internal_max} (u16 at bytes 16 and 18)",
                got=f"leaf_max {leaf_max}, internal_max {internal_max}",
            )
        self.zeros(META.size, PAGE_SIZE - META.size, "page 0")
        for name, page in (("root", root), ("free", free)):
            if page >= self.pages:
                fail(
                    f"page 0's {name} field points past the end of the file",
                    expected=f"a page below {self.pages}, or 0",
                    got=str(page),
                )
        return root, free

    def free_list(self, head: int) -> int:
        count, page = 0, head
        while page:
            self.claim(page, f"the free list (entry {count})")
            kind, _, _, following = HEADER.unpack_from(self.data, page * PAGE_SIZE)
            if kind != FREE:
                fail(
                    f"page {page} is on the free list but its type byte is {kind}",
                    expected="type 3 (free)",
                    got=f"type {kind}",
                    hint="write the free-page layout (type 3, next at bytes 4..8) when a page is freed",
                )
            self.zeros(page * PAGE_SIZE + 1, 3, f"free page {page}")
            self.zeros(page * PAGE_SIZE + HEADER.size, PAGE_SIZE - HEADER.size, f"free page {page}")
            if following >= self.pages:
                fail(f"free page {page} points past the end of the file", got=f"next = {following}")
            count, page = count + 1, following
        return count

    def claim(self, page: int, role: str) -> None:
        if not 0 < page < self.pages:
            fail(
                f"{role} points to page {page}, which is not a node page of the file",
                expected=f"a page from 1 to {self.pages - 1}",
                got=str(page),
            )
        if page in self.owner:
            fail(
                f"page {page} is used twice: as {self.owner[page]} and as {role}",
                hint="a page is in the tree once or on the free list once: a freed page must leave the tree, "
                "and a page taken from the free list must leave the list",
            )
        self.owner[page] = role

    def node(self, page: int) -> _Node:
        base = page * PAGE_SIZE
        kind, pad, count, word = HEADER.unpack_from(self.data, base)
        if pad:
            fail(f"byte 1 of page {page} is {pad}, not zero")
        if kind == LEAF:
            if count > (PAGE_SIZE - HEADER.size) // LEAF_ENTRY.size:
                fail(f"leaf {page} claims {count} entries, more than a page holds")
            flat = struct.unpack_from(f"<{2 * count}Q", self.data, base + HEADER.size)
            pairs = list(zip(flat[0::2], flat[1::2], strict=True))
            self.zeros(
                base + HEADER.size + LEAF_ENTRY.size * count,
                PAGE_SIZE - HEADER.size - LEAF_ENTRY.size * count,
                f"leaf {page}",
            )
            return _Node(page, LEAF, [k for k, _ in pairs], [v for _, v in pairs], [], word)
        if kind == INTERNAL:
            if count > (PAGE_SIZE - HEADER.size) // INTERNAL_ENTRY.size:
                fail(f"internal page {page} claims {count} keys, more than a page holds")
            pairs = [
                INTERNAL_ENTRY.unpack_from(self.data, base + HEADER.size + INTERNAL_ENTRY.size * i)
                for i in range(count)
            ]
            used = HEADER.size + INTERNAL_ENTRY.size * count
            self.zeros(base + used, PAGE_SIZE - used, f"internal page {page}")
            return _Node(page, INTERNAL, [k for k, _ in pairs], [], [word, *(c for _, c in pairs)], 0)
        fail(
            f"page {page} is in the tree but its type byte is {kind}",
            expected="1 (leaf) or 2 (internal node)",
            got=str(kind),
            hint="a node page starts with its type; a page reachable from the root must not be a free page",
        )

    def zeros(self, start: int, length: int, where: str) -> None:
        tail = self.data[start : start + length]
        if any(tail):
            offset = next(i for i, byte in enumerate(tail) if byte) + start % PAGE_SIZE
            fail(
                f"{where} has a non-zero byte at offset {offset}, where the layout has zeros",
                hint="write whole pages built from zeros: bytes past the last entry (and padding) must be 0; "
                "a stale entry left behind after a split or a delete shows here",
            )

    def uneven(self, node: _Node, depth: int) -> None:
        fail(
            f"the leaves are not all at the same depth: page {node.page} at depth {depth} is a "
            f"{'leaf' if node.kind == LEAF else 'internal node'} while others at that depth are not",
            hint="a tree only grows at the root: split the root into a new root above it",
        )

    def fill(self, node: _Node, *, is_root: bool) -> None:
        if node.kind == LEAF:
            low, high, what = (1 if is_root else -(-self.leaf_max // 2)), self.leaf_max, "entries"
        else:
            low, high, what = (1 if is_root else self.internal_max // 2), self.internal_max, "keys"
        count = len(node.keys)
        if not low <= count <= high:
            kind = "leaf" if node.kind == LEAF else "internal node"
            fail(
                f"{'root ' if is_root else ''}{kind} {node.page} holds {count} {what}",
                expected=f"{low} to {high} {what}",
                got=str(count),
                hint=_FILL_HINTS[(node.kind, count > high, is_root)],
            )
        if node.keys != sorted(set(node.keys)):
            fail(
                f"the keys of page {node.page} are not strictly increasing",
                got=str(node.keys[:12]),
                hint="insert into a page at its sorted position; a key must not appear twice",
            )

    def bounded(self, node: _Node, low: int | None, high: int | None) -> None:
        for key in node.keys:
            if (low is not None and key < low) or (high is not None and key >= high):
                fail(
                    f"key {key} in page {node.page} is outside the range its parent's separators give it",
                    expected=f"{'-' if low is None else low} <= key < {'+' if high is None else high}",
                    got=str(key),
                    hint="a separator must bound its subtrees: leaf splits copy the right leaf's first key up; "
                    "internal splits push the middle key up and keep it in neither half; a borrow updates "
                    "the separator between the two siblings",
                )

    def chain(self, leaves: list[_Node]) -> list[tuple[int, int]]:
        entries: list[tuple[int, int]] = []
        for i, leaf in enumerate(leaves):
            expected = leaves[i + 1].page if i + 1 < len(leaves) else 0
            if leaf.next != expected:
                fail(
                    f"the leaf chain is broken at leaf {leaf.page}",
                    expected=f"next = {expected} (the leaf to its right{'' if expected else ': none'})",
                    got=f"next = {leaf.next}",
                    hint="a split links old -> new -> old's next; a merge gives the left leaf the right one's next",
                )
            entries.extend(zip(leaf.keys, leaf.values, strict=True))
        return entries

    def all_pages_accounted(self) -> None:
        lost = [page for page in range(self.pages) if page not in self.owner]
        if lost:
            fail(
                f"{len(lost)} page(s) are neither in the tree nor on the free list: {lost[:10]}",
                hint="a page the tree stops using (merged away, an old root) goes to the head of the free list; "
                "and page 0's root must name the current root (write page 0 again when the root changes)",
            )


_FILL_HINTS = {
    (LEAF, True, True): "split a leaf when it would hold more than leaf_max entries",
    (LEAF, True, False): "split a leaf when it would hold more than leaf_max entries",
    (LEAF, False, True): "an empty root leaf is freed and root set to 0",
    (LEAF, False, False): "split half and half, and copy the right leaf's first key up (it stays in the leaf); "
    "after a delete, borrow from or merge with a neighbour",
    (INTERNAL, True, True): "split an internal node when it would hold more than internal_max keys",
    (INTERNAL, True, False): "split an internal node when it would hold more than internal_max keys",
    (INTERNAL, False, True): "a root internal node with no key left is freed: its only child becomes the root",
    (INTERNAL, False, False): "a node below its minimum borrows from a neighbour or merges with it",
}


def free_list_order(data: bytes) -> list[int]:
    """The pages of the free list from its head, read from a file's bytes (valid by read_tree's rules)."""
    page: int = META.unpack_from(data, 0)[2]
    order: list[int] = []
    while page and len(order) <= len(data) // PAGE_SIZE:
        order.append(page)
        page = HEADER.unpack_from(data, page * PAGE_SIZE)[3]
    return order
