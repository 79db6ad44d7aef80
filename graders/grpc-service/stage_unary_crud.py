"""Stage 2: the unary CRUD calls return the right items and versions."""

import grpc

from grpcwire import FAILURE_HINTS, show
from inventory import expect_item, item
from labkit.checks import fail


def check_create_returns_the_item_at_version_1(inv, prefix):
    """CreateItem returns the new item at version 1"""
    sku = prefix + "mug"
    created = inv.create(sku, name="Mug ☕", quantity=12, price_cents=899)
    expect_item(created, item(sku, "Mug ☕", 12, 899), "CreateItem", hint="a new item starts at version 1")


def check_get_returns_what_was_created(inv, prefix):
    """GetItem returns exactly what CreateItem stored"""
    for n, (name, quantity, price) in enumerate([("Bolt M4", 500, 12), ("Nut M4", 0, 3), ("Washer", 7, 0)]):
        sku = f"{prefix}{n}"
        inv.create(sku, name=name, quantity=quantity, price_cents=price)
        expect_item(inv.do("GetItem", sku=sku), item(sku, name, quantity, price), f"GetItem(sku={sku!r})")


def check_update_replaces_fields_and_bumps_the_version(inv, prefix):
    """UpdateItem replaces the fields and adds 1 to the version"""
    sku = prefix + "lamp"
    inv.create(sku, name="Lamp", quantity=3, price_cents=2500)
    updated = inv.do("UpdateItem", sku=sku, name="Desk lamp", quantity=2, price_cents=2700, version=1)
    hint = "a successful UpdateItem replaces name, quantity and price_cents and adds 1 to the version"
    expect_item(updated, item(sku, "Desk lamp", 2, 2700, version=2), "UpdateItem at version 1", hint=hint)
    # Zero is a value like any other: an update to quantity 0 and price 0 must store them, not skip them.
    updated = inv.do("UpdateItem", sku=sku, name="Desk lamp", quantity=0, price_cents=0, version=2)
    expect_item(updated, item(sku, "Desk lamp", 0, 0, version=3), "UpdateItem at version 2", hint=hint)
    expect_item(inv.do("GetItem", sku=sku), item(sku, "Desk lamp", 0, 0, version=3), "GetItem after two updates")


def check_delete_returns_the_item_and_removes_it(inv, prefix):
    """DeleteItem returns the deleted item, which is then gone"""
    sku = prefix + "chair"
    inv.create(sku, name="Chair", quantity=4, price_cents=4900)
    inv.do("UpdateItem", sku=sku, name="Chair", quantity=5, price_cents=4900, version=1)
    deleted = inv.do("DeleteItem", sku=sku)
    expect_item(
        deleted.item,
        item(sku, "Chair", 5, 4900, version=2),
        "DeleteItem",
        hint="DeleteItemResponse.item is the item as it was just before the delete",
    )
    code, reply = inv.outcome("GetItem", inv.request("GetItem", sku=sku))
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        fail(
            f"GetItem(sku={sku!r}) of a deleted item got no answer ({code.name})",
            expected="an error status (NOT_FOUND, checked in the next stage)",
            got=f"{code.name}: {reply}",
            hint=FAILURE_HINTS[code],
        )
    if code == grpc.StatusCode.OK:
        fail(
            f"GetItem(sku={sku!r}) still finds the item after DeleteItem",
            expected="an error status (NOT_FOUND, checked in the next stage)",
            got=f"OK: {show(reply)}",
            hint="DeleteItem must remove the item from the store",
        )
    # Any error status will do above; the next stage checks that it is NOT_FOUND.
    expect_item(
        inv.create(sku, name="Chair again", quantity=1, price_cents=5100),
        item(sku, "Chair again", 1, 5100),
        "CreateItem of the deleted sku",
        hint="a deleted sku is free again, and a new item starts at version 1",
    )


def check_limits_of_valid_values_round_trip(inv, rng):
    """Longest sku and name, large numbers and Unicode round-trip"""
    sku = "Zz0._-" + "".join(rng.choice("ABCXYZabcxyz0189._-") for _ in range(58))
    name = "Ünïcødé ✓ " + "n" * 190
    fields = item(sku, name, quantity=2**31 - 1, price_cents=2**40 + 7)
    created = inv.create(sku, name=name, quantity=fields["quantity"], price_cents=fields["price_cents"])
    expect_item(created, fields, "CreateItem with a 64-character sku and a 200-character name")
    expect_item(inv.do("GetItem", sku=sku), fields, "GetItem of that item", hint="price_cents is an int64")
