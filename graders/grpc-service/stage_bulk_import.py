"""Stage 6: BulkImport reads a client stream, creates each valid item and reports each failure."""

import grpc

from grpcwire import Message, RequestStream, show
from inventory import Inventory, expect_item, item, kind_name
from labkit.checks import fail


def bulk_import(inv: Inventory, requests: list[Message]) -> Message:
    hint = "read the whole request stream; a bad message goes into the summary's failures and does not end the call"
    return inv.call("BulkImport", RequestStream(requests), hint=hint)


def expect_summary(reply: Message, created: int, failures: list[tuple[int, str, str]], what: str) -> None:
    got_failures = [(f.index, f.sku, f.code) for f in reply.failures]
    if (reply.created, reply.failed, got_failures) != (created, len(failures), failures):
        counts_right = (reply.created, reply.failed) == (created, len(failures))
        fail(
            f"the BulkImport summary of {what} lists the wrong failures"
            if counts_right
            else f"the BulkImport summary of {what} says created={reply.created} failed={reply.failed}, "
            f"expected created={created} failed={len(failures)}",
            expected=f"created={created} failed={len(failures)} failures={failures}",
            got=f"created={reply.created} failed={reply.failed} failures={got_failures}",
            hint="count only the items really created; list each failure with its 0-based index, in stream order",
        )


def check_bulk_import_creates_every_item(inv, pb, prefix):
    """Twenty-five streamed items are all created"""
    requests = [
        pb.CreateItemRequest(sku=f"{prefix}{n:02d}", name=f"part {n}", quantity=n, price_cents=10 * n)
        for n in range(25)
    ]
    expect_summary(bulk_import(inv, requests), 25, [], "25 valid items")
    for n in (0, 12, 24):
        sku = f"{prefix}{n:02d}"
        expect_item(inv.do("GetItem", sku=sku), item(sku, f"part {n}", n, 10 * n), f"GetItem of imported {sku}")


def check_bulk_import_reports_each_failure_and_goes_on(inv, pb, prefix):
    """Bad messages are reported by index and code; the others are still created"""
    existing = prefix + "existing"
    inv.create(existing, name="keep me")
    stream = [
        pb.CreateItemRequest(sku=prefix + "ok0", name="ok", quantity=1),
        pb.CreateItemRequest(sku=existing, name="overwrite?", quantity=1),
        pb.CreateItemRequest(sku=prefix + "negative", name="bad", quantity=-3),
        pb.CreateItemRequest(sku=prefix + "ok3", name="ok", quantity=3),
        pb.CreateItemRequest(sku=prefix + "ok0", name="again", quantity=1),
        pb.CreateItemRequest(sku=prefix + "bad sku", name="bad", quantity=1),
        pb.CreateItemRequest(sku=prefix + "ok6", name="ok", quantity=6),
    ]
    failures = [
        (1, existing, "ALREADY_EXISTS"),
        (2, prefix + "negative", "INVALID_ARGUMENT"),
        (4, prefix + "ok0", "ALREADY_EXISTS"),
        (5, prefix + "bad sku", "INVALID_ARGUMENT"),
    ]
    expect_summary(bulk_import(inv, stream), 3, failures, "7 items, 4 of them bad")
    expect_item(inv.do("GetItem", sku=existing), item(existing, "keep me"), "GetItem of the pre-existing item")
    expect_item(inv.do("GetItem", sku=prefix + "ok6"), item(prefix + "ok6", "ok", 6, 0), "GetItem of the last item")
    inv.refuses("GetItem", grpc.StatusCode.NOT_FOUND, sku=prefix + "negative")


def check_empty_stream_imports_nothing(inv):
    """An empty stream gets a summary of zero"""
    expect_summary(bulk_import(inv, []), 0, [], "an empty stream")


def check_watchers_see_imported_items_in_stream_order(inv, watches, pb, prefix):
    """Each imported item is a CREATED change, in stream order"""
    before = inv.stats().active_watchers
    stream = watches(prefix)
    inv.wait_for_watchers(before + 1, [stream])
    skus = [f"{prefix}{n}" for n in (5, 1, 4, 2, 3, 0)]
    bulk_import(inv, [pb.CreateItemRequest(sku=sku, name="imported", quantity=1) for sku in skus])
    for n, sku in enumerate(skus, start=1):
        change = stream.next(f"the CREATED change of {sku}")
        if (kind_name(pb, change.kind), change.item.sku) != ("CREATED", sku):
            fail(
                f"change {n} after the BulkImport is not the CREATED change of {sku}",
                expected=f"CREATED {sku}",
                got=show(change),
                hint="items created by BulkImport are changes like any other, published in stream order",
            )
