"""Stage 5: Watch streams every change to matching items, in the order the changes happened."""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from types import ModuleType

import grpc

from grpcwire import Message, show
from inventory import Inventory, ItemFields, kind_name
from labkit.checks import fail
from watchstream import WatchStream

CREATED, UPDATED, DELETED = "CREATED", "UPDATED", "DELETED"


def expect_changes(
    pb: ModuleType, stream: WatchStream, expected: Sequence[tuple[str, ItemFields]], what: str
) -> list[Message]:
    """Reads len(expected) changes and compares kind, item and order; returns them."""
    changes = []
    for n, (kind, fields) in enumerate(expected, start=1):
        change = stream.next(f"change {n} of {len(expected)} ({kind} {fields['sku']})")
        got_kind = kind_name(pb, change.kind)
        got = {name: getattr(change.item, name) for name in fields}
        if (got_kind, got) != (kind, fields):
            same_change = (got_kind, change.item.sku) == (kind, fields["sku"])
            fail(
                f"{stream.label}: change {n} of {what} is {got_kind} {change.item.sku}"
                + (" with wrong item fields" if same_change else f", expected {kind} {fields['sku']}"),
                expected=f"{kind} {fields}",
                got=f"{got_kind} {got}",
                hint="send every change, CREATED, UPDATED and DELETED, in the order the store applied them",
            )
        changes.append(change)
    expect_increasing(changes, stream.label)
    return changes


def expect_increasing(changes: Sequence[Message], label: str, consecutive: bool = False) -> None:
    sequences = [change.sequence for change in changes]
    for before, after in pairwise(sequences):
        if after <= before or (consecutive and after != before + 1):
            fail(
                f"{label}: sequence numbers are not {'consecutive' if consecutive else 'increasing'}",
                expected="1 more than the previous change's" if consecutive else "each larger than the previous",
                got=" ".join(str(s) for s in sequences),
                hint="number every change with one server-wide counter, incremented while the store is locked"
                + ("; a refused call is no change and takes no number" if consecutive else ""),
            )


def fields(sku: str, name: str = "widget", quantity: int = 1, price_cents: int = 100, version: int = 1) -> ItemFields:
    return {"sku": sku, "name": name, "quantity": quantity, "price_cents": price_cents, "version": version}


def refuse_without_a_change(inv: Inventory, sku: str) -> None:
    """Three refused calls on an existing item: none is a change, so none may take a sequence number."""
    inv.refuses("CreateItem", grpc.StatusCode.ALREADY_EXISTS, sku=sku, name="again", quantity=1)
    inv.refuses("UpdateItem", grpc.StatusCode.FAILED_PRECONDITION, sku=sku, name="stale", quantity=1, version=5)
    inv.refuses("UpdateItem", grpc.StatusCode.INVALID_ARGUMENT, sku=sku, name="", quantity=1, version=1)


def check_watch_delivers_every_change_in_order(inv, watches, pb, prefix):
    """Creates, updates and deletes arrive in order, and nothing from before the watch"""
    a, b, c = prefix + "a", prefix + "b", prefix + "c"
    inv.create(a, name="A")  # before the watch: must not be replayed
    before = inv.stats().active_watchers
    stream = watches(prefix)
    inv.wait_for_watchers(before + 1, [stream])
    inv.create(b, name="B", quantity=5)
    inv.do("UpdateItem", sku=a, name="A2", quantity=2, price_cents=100, version=1)
    inv.do("UpdateItem", sku=b, name="B2", quantity=6, price_cents=150, version=1)
    inv.do("DeleteItem", sku=a)
    inv.create(c, name="C")
    inv.do("DeleteItem", sku=b)
    expected = [
        (CREATED, fields(b, "B", 5)),
        (UPDATED, fields(a, "A2", 2, version=2)),
        (UPDATED, fields(b, "B2", 6, 150, version=2)),
        (DELETED, fields(a, "A2", 2, version=2)),
        (CREATED, fields(c, "C")),
        (DELETED, fields(b, "B2", 6, 150, version=2)),
    ]
    expect_changes(pb, stream, expected, "six changes")


def check_every_watcher_gets_the_changes_for_its_prefix(inv, watches, pb, prefix, rng):
    """Each watcher gets all changes for its prefix; sequence numbers are server-wide; refusals are no changes"""
    other = f"{prefix[:-1]}{rng.randrange(10)}x-"
    before = inv.stats().active_watchers
    first, second = watches(prefix, label="watcher 1"), watches(prefix, label="watcher 2")
    elsewhere, everything = watches(other, label="watcher of another prefix"), watches("", label="watcher of all")
    inv.wait_for_watchers(before + 4, [first, second, elsewhere, everything])
    mine: list[tuple[str, ItemFields]] = []
    theirs: list[tuple[str, ItemFields]] = []
    all_changes: list[tuple[str, ItemFields]] = []
    for n in range(4):
        for target, skus in ((prefix, mine), (other, theirs)):
            sku = f"{target}{n}"
            inv.create(sku, name=f"item {n}")
            skus.append((CREATED, fields(sku, f"item {n}")))
            all_changes.append(skus[-1])
        refuse_without_a_change(inv, f"{prefix}{n}")
    for stream in (first, second):
        expect_changes(pb, stream, mine, f"the changes under {prefix!r}")
    expect_changes(pb, elsewhere, theirs, f"the changes under {other!r}")
    expect_increasing(expect_changes(pb, everything, all_changes, "all changes"), everything.label, consecutive=True)


def check_changes_from_concurrent_writers_arrive_in_sequence_order(client, inv, watches, pb, prefix):
    """Four writers at once: every change arrives, in sequence order, versions in order"""
    before = inv.stats().active_watchers
    stream = watches(prefix)
    inv.wait_for_watchers(before + 1, [stream])

    def write(n: int) -> None:
        writer = client(who=f"writer {n}")
        sku = f"{prefix}w{n}"
        writer.create(sku, name="v1")
        for version in range(1, 9):
            writer.do("UpdateItem", sku=sku, name=f"v{version + 1}", quantity=1, price_cents=100, version=version)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for done in [pool.submit(write, n) for n in range(4)]:
            done.result()
    changes = [stream.next(f"change {n} of 36") for n in range(1, 37)]
    expect_increasing(changes, stream.label)
    seen_versions: dict[str, int] = {}
    for change in changes:
        sku, version = change.item.sku, change.item.version
        if version != seen_versions.get(sku, 0) + 1 or change.item.name != f"v{version}":
            fail(
                f"{stream.label}: the changes of {sku} arrived out of order or incomplete",
                expected=f"version {seen_versions.get(sku, 0) + 1} named v{seen_versions.get(sku, 0) + 1}",
                got=show(change),
                hint="publish each change to the watchers while still holding the lock that applied it",
            )
        seen_versions[sku] = version
