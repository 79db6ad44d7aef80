"""A second correct design, different from the reference wherever the spec leaves a choice.

- pages are edited in place as bytearrays (entries shifted with slice moves, keys found by binary search on the
  raw bytes) instead of being decoded into lists;
- insert and delete recurse down the tree and fix splits and underflows on the way back, instead of keeping a
  path stack;
- page 0 is read at the start of every call (nothing is kept in memory between calls);
- a split gives the left half the odd entry; a short node borrows from its right neighbour first and merges with
  its right neighbour when it has one.
"""

from __future__ import annotations

import struct

PAGE_SIZE = 4096
MAGIC = b"BTIDX001"
LEAF, INTERNAL, FREE = 1, 2, 3
META = struct.Struct("<8sIIHH")
HEAD = 8
SPARE = 16
U64 = 2**64


class Page:
    """A node page as bytes: a leaf's entries are (key u64, value u64); an internal node's are (key u64, child u32)
    with child 0 in the header."""

    def __init__(self, number, data):
        self.number = number
        self.data = bytearray(data) + bytes(SPARE)  # room for the one entry too many that a split removes

    @classmethod
    def empty(cls, number, kind):
        page = cls(number, bytes(PAGE_SIZE))
        page.data[0] = kind
        return page

    @property
    def leaf(self):
        return self.data[0] == LEAF

    @property
    def width(self):
        return 16 if self.leaf else 12

    @property
    def count(self):
        return struct.unpack_from("<H", self.data, 2)[0]

    @count.setter
    def count(self, value):
        struct.pack_into("<H", self.data, 2, value)

    @property
    def link(self):  # a leaf's next, an internal node's child 0
        return struct.unpack_from("<I", self.data, 4)[0]

    @link.setter
    def link(self, value):
        struct.pack_into("<I", self.data, 4, value)

    def key(self, i):
        return struct.unpack_from("<Q", self.data, HEAD + self.width * i)[0]

    def payload(self, i):
        """Value i of a leaf; child i + 1 of an internal node."""
        offset = HEAD + self.width * i + 8
        return struct.unpack_from("<Q" if self.leaf else "<I", self.data, offset)[0]

    def child(self, i):
        return self.link if i == 0 else self.payload(i - 1)

    def set_payload(self, i, value):
        struct.pack_into("<Q" if self.leaf else "<I", self.data, HEAD + self.width * i + 8, value)

    def set_key(self, i, key):
        struct.pack_into("<Q", self.data, HEAD + self.width * i, key)

    def lower_bound(self, key):
        low, high = 0, self.count
        while low < high:
            middle = (low + high) // 2
            if self.key(middle) < key:
                low = middle + 1
            else:
                high = middle
        return low

    def upper_bound(self, key):
        low, high = 0, self.count
        while low < high:
            middle = (low + high) // 2
            if self.key(middle) <= key:
                low = middle + 1
            else:
                high = middle
        return low

    def entries(self, start, stop):
        return bytes(self.data[HEAD + self.width * start : HEAD + self.width * stop])

    def insert_raw(self, i, raw):
        """Puts raw entries at position i, shifting the rest right."""
        width, count = self.width, self.count
        end = HEAD + width * count
        start = HEAD + width * i
        self.data[start + len(raw) : end + len(raw)] = self.data[start:end]
        self.data[start : start + len(raw)] = raw
        self.count = count + len(raw) // width

    def remove(self, i, n=1):
        """Drops entries i..i+n, shifting the rest left and zeroing the tail."""
        width, count = self.width, self.count
        end = HEAD + width * count
        start = HEAD + width * i
        self.data[start : end - width * n] = self.data[start + width * n : end]
        self.data[end - width * n : end] = bytes(width * n)
        self.count = count - n

    def entry(self, key, payload):
        return struct.pack("<QQ" if self.leaf else "<QI", key, payload)


def _u64(*numbers):
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, int) or number < 0 or number >= U64:
            raise ValueError(f"not a u64: {number!r}")


class BTree:
    def __init__(self, pager, leaf_max, internal_max):
        for name, value, most in (("leaf_max", leaf_max, 255), ("internal_max", internal_max, 340)):
            if isinstance(value, bool) or not isinstance(value, int) or not 3 <= value <= most:
                raise ValueError(f"{name} must be from 3 to {most}")
        self.pager = pager
        if pager.page_count() == 0:
            pager.allocate()
            self._meta = [0, 0, leaf_max, internal_max]
            self._save_meta()
        self._load_meta()
        if self._magic != MAGIC:
            raise ValueError("not a tree file")

    def _load_meta(self):
        self._magic, *fields = META.unpack_from(self.pager.read(0))
        self._meta = fields  # root, free, leaf_max, internal_max

    def _save_meta(self):
        page = bytearray(PAGE_SIZE)
        META.pack_into(page, 0, MAGIC, *self._meta)
        self.pager.write(0, bytes(page))

    @property
    def root(self):
        return self._meta[0]

    def _page(self, number):
        return Page(number, self.pager.read(number))

    def _put(self, page):
        self.pager.write(page.number, bytes(page.data[:PAGE_SIZE]))

    def _new(self, kind):
        free = self._meta[1]
        if free:
            self._meta[1] = struct.unpack_from("<I", self.pager.read(free), 4)[0]
            return Page.empty(free, kind)
        return Page.empty(self.pager.allocate(), kind)

    def _release(self, number):
        page = bytearray(PAGE_SIZE)
        page[0] = FREE
        struct.pack_into("<I", page, 4, self._meta[1])
        self.pager.write(number, bytes(page))
        self._meta[1] = number

    def _minimum(self, page):
        return (self._meta[2] + 1) // 2 if page.leaf else self._meta[3] // 2

    def _capacity(self, page):
        return self._meta[2] if page.leaf else self._meta[3]

    def _call(self, mutate, *args):
        """Runs one change with page 0 fresh from the file, and writes page 0 back if it changed."""
        self._load_meta()
        before = list(self._meta)
        result = mutate(*args)
        if self._meta != before:
            self._save_meta()
        return result

    def _leaf_for(self, key):
        page = self._page(self.root)
        while not page.leaf:
            page = self._page(page.child(page.upper_bound(key)))
        return page

    # Reads ----------------------------------------------------------------------------------------------------

    def get(self, key):
        _u64(key)
        self._load_meta()
        if not self.root:
            return None
        leaf = self._leaf_for(key)
        i = leaf.lower_bound(key)
        return leaf.payload(i) if i < leaf.count and leaf.key(i) == key else None

    def scan(self, low, high, include_low=True, include_high=False):
        _u64(*(bound for bound in (low, high) if bound is not None))
        self._load_meta()
        if not self.root or (low is not None and high is not None and low > high):
            return []
        leaf = self._leaf_for(0 if low is None else low)
        i = 0 if low is None else (leaf.lower_bound(low) if include_low else leaf.upper_bound(low))
        found = []
        while True:
            while i < leaf.count:
                key = leaf.key(i)
                if high is not None and (key > high or (key == high and not include_high)):
                    return found
                found.append((key, leaf.payload(i)))
                i += 1
            if not leaf.link:
                return found
            leaf, i = self._page(leaf.link), 0

    # Inserts and updates -----------------------------------------------------------------------------------------

    def insert(self, key, value):
        _u64(key, value)
        return self._call(self._insert_at_root, key, value)

    def _insert_at_root(self, key, value):
        if not self.root:
            leaf = self._new(LEAF)
            leaf.insert_raw(0, leaf.entry(key, value))
            self._put(leaf)
            self._meta[0] = leaf.number
            return True
        outcome = self._insert(self.root, key, value)
        if outcome is False:
            return False
        if outcome is not True:
            separator, right = outcome
            root = self._new(INTERNAL)
            root.link = self.root
            root.insert_raw(0, root.entry(separator, right))
            self._put(root)
            self._meta[0] = root.number
        return True

    def _insert(self, number, key, value):
        """False for a duplicate, True when done, or (separator, right page) for the parent to take."""
        page = self._page(number)
        if page.leaf:
            i = page.lower_bound(key)
            if i < page.count and page.key(i) == key:
                return False
            page.insert_raw(i, page.entry(key, value))
        else:
            i = page.upper_bound(key)
            outcome = self._insert(page.child(i), key, value)
            if outcome is True or outcome is False:
                return outcome
            page.insert_raw(i, page.entry(*outcome))
        if page.count <= self._capacity(page):
            self._put(page)
            return True
        return self._split(page)

    def _split(self, page):
        right = self._new(LEAF if page.leaf else INTERNAL)
        count = page.count
        if page.leaf:
            keep = (count + 1) // 2
            right.insert_raw(0, page.entries(keep, count))
            page.remove(keep, count - keep)
            right.link, page.link = page.link, right.number
            separator = right.key(0)
        else:
            middle = count // 2
            separator = page.key(middle)
            right.link = page.payload(middle)
            right.insert_raw(0, page.entries(middle + 1, count))
            page.remove(middle, count - middle)
        self._put(page)
        self._put(right)
        return separator, right.number

    def update(self, key, value):
        _u64(key, value)
        self._load_meta()
        if not self.root:
            return False
        leaf = self._leaf_for(key)
        i = leaf.lower_bound(key)
        if i == leaf.count or leaf.key(i) != key:
            return False
        leaf.set_payload(i, value)
        self._put(leaf)
        return True

    # Deletes ------------------------------------------------------------------------------------------------------

    def delete(self, key):
        _u64(key)
        return self._call(self._delete_at_root, key)

    def _delete_at_root(self, key):
        if not self.root or not self._delete(self.root, key):
            return False
        root = self._page(self.root)
        if root.count == 0:
            self._release(root.number)
            self._meta[0] = 0 if root.leaf else root.link
        return True

    def _delete(self, number, key):
        page = self._page(number)
        if page.leaf:
            i = page.lower_bound(key)
            if i == page.count or page.key(i) != key:
                return False
            page.remove(i)
            self._put(page)
            return True
        i = page.upper_bound(key)
        if not self._delete(page.child(i), key):
            return False
        child = self._page(page.child(i))
        if child.count < self._minimum(child):
            self._fix(page, i, child)
            self._put(page)
        return True

    def _fix(self, parent, i, child):
        right = self._page(parent.child(i + 1)) if i < parent.count else None
        left = self._page(parent.child(i - 1)) if i > 0 else None
        if right is not None and right.count > self._minimum(right):
            self._borrow_right(parent, i, child, right)
        elif left is not None and left.count > self._minimum(left):
            self._borrow_left(parent, i, child, left)
        elif right is not None:
            self._merge(parent, i, child, right)
        else:
            self._merge(parent, i - 1, left, child)

    def _borrow_right(self, parent, i, child, right):
        if child.leaf:
            child.insert_raw(child.count, right.entries(0, 1))
            right.remove(0)
            parent.set_key(i, right.key(0))
        else:
            child.insert_raw(child.count, child.entry(parent.key(i), right.link))
            parent.set_key(i, right.key(0))
            right.link = right.payload(0)
            right.remove(0)
        self._put(child)
        self._put(right)

    def _borrow_left(self, parent, i, child, left):
        last = left.count - 1
        if child.leaf:
            child.insert_raw(0, left.entries(last, last + 1))
            left.remove(last)
            parent.set_key(i - 1, child.key(0))
        else:
            child.insert_raw(0, child.entry(parent.key(i - 1), child.link))
            child.link = left.payload(last)
            parent.set_key(i - 1, left.key(last))
            left.remove(last)
        self._put(child)
        self._put(left)

    def _merge(self, parent, i, left, right):
        """Folds ``right`` (child i + 1) into ``left`` (child i); separator i leaves the parent."""
        if left.leaf:
            left.insert_raw(left.count, right.entries(0, right.count))
            left.link = right.link
        else:
            left.insert_raw(left.count, left.entry(parent.key(i), right.link) + right.entries(0, right.count))
        parent.remove(i)
        self._put(left)
        self._release(right.number)

    def close(self):
        pass
