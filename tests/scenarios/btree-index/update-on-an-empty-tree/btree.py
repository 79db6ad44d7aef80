"""A B+tree of u64 keys and values in 4 KiB pages, reached only through the pager it is given.

Each call decodes the pages it visits into Node objects, changes them, and writes back the ones it changed before
it returns; the root and free-list head are kept in memory and written to page 0 when they change.
"""

from __future__ import annotations

import bisect
import struct

PAGE_SIZE = 4096
MAGIC = b"BTIDX001"
LEAF, INTERNAL, FREE = 1, 2, 3
HEADER = struct.Struct("<BBHI")
META = struct.Struct("<8sIIHH")
LEAF_MAX_LIMIT = (PAGE_SIZE - HEADER.size) // 16
INTERNAL_MAX_LIMIT = (PAGE_SIZE - HEADER.size) // 12
U64 = 2**64


class Node:
    __slots__ = ("children", "keys", "leaf", "next", "page", "values")

    def __init__(self, page, leaf, keys, values=None, children=None, next_leaf=0):
        self.page = page
        self.leaf = leaf
        self.keys = keys
        self.values = values if values is not None else []
        self.children = children if children is not None else []
        self.next = next_leaf

    def encode(self):
        page = bytearray(PAGE_SIZE)
        if self.leaf:
            HEADER.pack_into(page, 0, LEAF, 0, len(self.keys), self.next)
            struct.pack_into(f"<{2 * len(self.keys)}Q", page, HEADER.size, *_interleave(self.keys, self.values))
        else:
            HEADER.pack_into(page, 0, INTERNAL, 0, len(self.keys), self.children[0])
            children = self.children[1:]
            struct.pack_into("<" + "QI" * len(self.keys), page, HEADER.size, *_interleave(self.keys, children))
        return bytes(page)

    @classmethod
    def decode(cls, number, data):
        kind, _, count, word = HEADER.unpack_from(data, 0)
        if kind == LEAF:
            flat = struct.unpack_from(f"<{2 * count}Q", data, HEADER.size)
            return cls(number, True, list(flat[0::2]), list(flat[1::2]), next_leaf=word)
        if kind == INTERNAL:
            flat = struct.unpack_from("<" + "QI" * count, data, HEADER.size)
            return cls(number, False, list(flat[0::2]), children=[word, *flat[1::2]])
        raise ValueError(f"page {number} is not a node (type {kind})")


def _interleave(first, second):
    flat = [0] * (2 * len(first))
    flat[0::2] = first
    flat[1::2] = second
    return flat


def _check_u64(*numbers):
    for number in numbers:
        if type(number) is not int or not 0 <= number < U64:
            raise ValueError(f"keys and values are integers from 0 to 2**64 - 1, not {number!r}")


class BTree:
    def __init__(self, pager, leaf_max, internal_max):
        if type(leaf_max) is not int or not 3 <= leaf_max <= LEAF_MAX_LIMIT:
            raise ValueError(f"leaf_max must be from 3 to {LEAF_MAX_LIMIT}")
        if type(internal_max) is not int or not 3 <= internal_max <= INTERNAL_MAX_LIMIT:
            raise ValueError(f"internal_max must be from 3 to {INTERNAL_MAX_LIMIT}")
        self.pager = pager
        if pager.page_count() == 0:
            pager.allocate()
            self.root, self.free = 0, 0
            self.leaf_max, self.internal_max = leaf_max, internal_max
            self._write_meta()
        else:
            magic, self.root, self.free, self.leaf_max, self.internal_max = META.unpack_from(pager.read(0))
            if magic != MAGIC:
                raise ValueError("page 0 is not a B+tree meta page")
        self._saved = (self.root, self.free)

    # Pages --------------------------------------------------------------------------------------------------

    def _write_meta(self):
        page = bytearray(PAGE_SIZE)
        META.pack_into(page, 0, MAGIC, self.root, self.free, self.leaf_max, self.internal_max)
        self.pager.write(0, bytes(page))
        self._saved = (self.root, self.free)

    def _sync_meta(self):
        if (self.root, self.free) != self._saved:
            self._write_meta()

    def _load(self, number):
        return Node.decode(number, self.pager.read(number))

    def _store(self, node):
        self.pager.write(node.page, node.encode())

    def _take_page(self):
        if self.free:
            number = self.free
            self.free = HEADER.unpack_from(self.pager.read(number), 0)[3]
            return number
        return self.pager.allocate()

    def _free_page(self, number):
        page = bytearray(PAGE_SIZE)
        HEADER.pack_into(page, 0, FREE, 0, 0, self.free)
        self.pager.write(number, bytes(page))
        self.free = number

    def _descend(self, key):
        """The leaf where ``key`` belongs, and the (node, child index) pairs above it."""
        path = []
        node = self._load(self.root)
        while not node.leaf:
            index = bisect.bisect_right(node.keys, key)
            path.append((node, index))
            node = self._load(node.children[index])
        return node, path

    # Reads ----------------------------------------------------------------------------------------------------

    def get(self, key):
        _check_u64(key)
        if not self.root:
            return None
        leaf, _ = self._descend(key)
        index = bisect.bisect_left(leaf.keys, key)
        if index < len(leaf.keys) and leaf.keys[index] == key:
            return leaf.values[index]
        return None

    def scan(self, low, high, include_low=True, include_high=False):
        for bound in (low, high):
            if bound is not None:
                _check_u64(bound)
        if not self.root:
            return []
        found = []
        leaf, _ = self._descend(0 if low is None else low)
        while True:
            for key, value in zip(leaf.keys, leaf.values, strict=True):
                if low is not None and (key < low or (key == low and not include_low)):
                    continue
                if high is not None and (key > high or (key == high and not include_high)):
                    return found
                found.append((key, value))
            if not leaf.next:
                return found
            leaf = self._load(leaf.next)

    # Writes ---------------------------------------------------------------------------------------------------

    def insert(self, key, value):
        _check_u64(key, value)
        if not self.root:
            self.root = self._take_page()
            self._store(Node(self.root, True, [key], [value]))
            self._sync_meta()
            return True
        leaf, path = self._descend(key)
        index = bisect.bisect_left(leaf.keys, key)
        if index < len(leaf.keys) and leaf.keys[index] == key:
            return False
        leaf.keys.insert(index, key)
        leaf.values.insert(index, value)
        split = self._split_leaf(leaf) if len(leaf.keys) > self.leaf_max else None
        self._store(leaf)
        while split is not None and path:
            parent, index = path.pop()
            separator, right = split
            parent.keys.insert(index, separator)
            parent.children.insert(index + 1, right)
            split = self._split_internal(parent) if len(parent.keys) > self.internal_max else None
            self._store(parent)
        if split is not None:
            separator, right = split
            old_root = self.root
            self.root = self._take_page()
            self._store(Node(self.root, False, [separator], children=[old_root, right]))
        self._sync_meta()
        return True

    def _split_leaf(self, leaf):
        middle = len(leaf.keys) // 2
        right = Node(self._take_page(), True, leaf.keys[middle:], leaf.values[middle:], next_leaf=leaf.next)
        del leaf.keys[middle:], leaf.values[middle:]
        leaf.next = right.page
        self._store(right)
        return right.keys[0], right.page

    def _split_internal(self, node):
        middle = len(node.keys) // 2
        up = node.keys[middle]
        right = Node(self._take_page(), False, node.keys[middle + 1 :], children=node.children[middle + 1 :])
        del node.keys[middle:], node.children[middle + 1 :]
        self._store(right)
        return up, right.page

    def update(self, key, value):
        _check_u64(key, value)
        leaf, _ = self._descend(key)
        index = bisect.bisect_left(leaf.keys, key)
        if index == len(leaf.keys) or leaf.keys[index] != key:
            return False
        leaf.values[index] = value
        self._store(leaf)
        return True

    def delete(self, key):
        _check_u64(key)
        if not self.root:
            return False
        node, path = self._descend(key)
        index = bisect.bisect_left(node.keys, key)
        if index == len(node.keys) or node.keys[index] != key:
            return False
        del node.keys[index], node.values[index]
        while path and len(node.keys) < self._minimum(node):
            parent, index = path.pop()
            self._rebalance(parent, index, node)
            node = parent
        if not path and not node.keys:  # the root emptied: the tree shrinks
            self._free_page(node.page)
            self.root = 0 if node.leaf else node.children[0]
        else:
            self._store(node)
        self._sync_meta()
        return True

    def _minimum(self, node):
        return (self.leaf_max + 1) // 2 if node.leaf else self.internal_max // 2

    def _rebalance(self, parent, index, node):
        """``node``, child ``index`` of ``parent``, is short: borrow from a neighbour, or merge with one."""
        left = self._load(parent.children[index - 1]) if index > 0 else None
        right = self._load(parent.children[index + 1]) if index + 1 < len(parent.children) else None
        if left is not None and len(left.keys) > self._minimum(left):
            if node.leaf:
                node.keys.insert(0, left.keys.pop())
                node.values.insert(0, left.values.pop())
                parent.keys[index - 1] = node.keys[0]
            else:
                node.keys.insert(0, parent.keys[index - 1])
                node.children.insert(0, left.children.pop())
                parent.keys[index - 1] = left.keys.pop()
            self._store(left)
            self._store(node)
        elif right is not None and len(right.keys) > self._minimum(right):
            if node.leaf:
                node.keys.append(right.keys.pop(0))
                node.values.append(right.values.pop(0))
                parent.keys[index] = right.keys[0]
            else:
                node.keys.append(parent.keys[index])
                node.children.append(right.children.pop(0))
                parent.keys[index] = right.keys.pop(0)
            self._store(right)
            self._store(node)
        elif left is not None:
            self._merge(parent, index - 1, left, node)
        else:
            self._merge(parent, index, node, right)

    def _merge(self, parent, index, left, right):
        """Folds ``right`` into ``left``; ``parent.keys[index]`` is the separator between them."""
        separator = parent.keys.pop(index)
        parent.children.pop(index + 1)
        if left.leaf:
            left.keys += right.keys
            left.values += right.values
            left.next = right.next
        else:
            left.keys += [separator, *right.keys]
            left.children += right.children
        self._store(left)
        self._free_page(right.page)

    def close(self):
        self._sync_meta()
