"""Stage 3: every error is the status code the README specifies, and a refused call changes nothing."""

import grpc

from inventory import expect_item, item

NOT_FOUND = grpc.StatusCode.NOT_FOUND
INVALID = grpc.StatusCode.INVALID_ARGUMENT
EXISTS = grpc.StatusCode.ALREADY_EXISTS
STALE = grpc.StatusCode.FAILED_PRECONDITION


def check_missing_items_are_not_found(inv, prefix):
    """GetItem, UpdateItem and DeleteItem of a missing sku are NOT_FOUND, whatever the sku looks like"""
    sku = prefix + "missing"
    inv.refuses("GetItem", NOT_FOUND, sku=sku)
    inv.refuses("UpdateItem", NOT_FOUND, sku=sku, name="x", quantity=1, price_cents=1, version=1)
    inv.refuses("DeleteItem", NOT_FOUND, sku=sku)
    hint = "GetItem and DeleteItem never answer INVALID_ARGUMENT: a sku no item can have is simply not found"
    for malformed in ("", prefix + "no such/sku", "x" * 65):
        inv.refuses("GetItem", NOT_FOUND, hint=hint, sku=malformed)
        inv.refuses("DeleteItem", NOT_FOUND, hint=hint, sku=malformed)


def check_creating_an_existing_sku_is_already_exists(inv, prefix):
    """CreateItem of an existing sku is ALREADY_EXISTS and keeps the original"""
    sku = prefix + "dup"
    inv.create(sku, name="Original", quantity=1, price_cents=100)
    inv.refuses(
        "CreateItem",
        EXISTS,
        hint="CreateItem never replaces an item; check whether the sku is taken first",
        sku=sku,
        name="Impostor",
        quantity=99,
        price_cents=1,
    )
    expect_item(inv.do("GetItem", sku=sku), item(sku, "Original", 1, 100), "GetItem after the refused CreateItem")


def check_invalid_fields_are_invalid_argument(inv, prefix):
    """CreateItem with an invalid field is INVALID_ARGUMENT and creates nothing"""
    good = {"name": "widget", "quantity": 1, "price_cents": 100}
    invalid = [
        {"sku": ""},
        {"sku": prefix + "has space"},
        {"sku": prefix + "slash/sku"},
        {"sku": prefix + "caf\u00e9"},  # a letter, but not one of A-Z a-z
        {"sku": prefix + "line\n"},  # a pattern anchored with $ lets a final newline through
        {"sku": prefix + "x" * (65 - len(prefix))},
        {"sku": prefix + "noname", "name": ""},
        {"sku": prefix + "longname", "name": "n" * 201},
        {"sku": prefix + "negqty", "quantity": -1},
        {"sku": prefix + "negprice", "price_cents": -1},
    ]
    for fields in invalid:
        inv.refuses("CreateItem", INVALID, **{**good, **fields})
    for fields in invalid[6:]:
        inv.refuses(
            "GetItem",
            NOT_FOUND,
            hint="validate every field before storing anything: a refused CreateItem creates nothing",
            sku=fields["sku"],
        )


def check_stale_version_is_failed_precondition(inv, prefix):
    """UpdateItem with a version that is not the current one is FAILED_PRECONDITION"""
    sku = prefix + "contested"
    inv.create(sku, name="First", quantity=1, price_cents=100)
    inv.do("UpdateItem", sku=sku, name="Second", quantity=2, price_cents=200, version=1)
    hint = "compare request.version with the stored version; apply the update only if they are equal"
    inv.refuses("UpdateItem", STALE, hint=hint, sku=sku, name="Lost", quantity=9, price_cents=9, version=1)
    inv.refuses("UpdateItem", STALE, hint=hint, sku=sku, name="Future", quantity=9, price_cents=9, version=7)
    expect_item(
        inv.do("GetItem", sku=sku),
        item(sku, "Second", 2, 200, version=2),
        "GetItem after the refused updates",
        hint="a refused update changes nothing, not even the version",
    )


def check_update_is_validated_before_it_is_looked_up(inv, prefix):
    """UpdateItem checks its fields first: INVALID_ARGUMENT before NOT_FOUND"""
    sku = prefix + "valid"
    inv.create(sku, name="Valid", quantity=1, price_cents=100)
    for invalid in (
        {"version": 0},
        {"version": -3},
        {"quantity": -5},
        {"price_cents": -1},
        {"name": ""},
        {"name": "n" * 201},
    ):
        fields = {"name": "Valid", "quantity": 1, "price_cents": 100, "version": 1, **invalid}
        inv.refuses("UpdateItem", INVALID, hint="UpdateItem validates its fields as CreateItem does", sku=sku, **fields)
    inv.refuses(
        "UpdateItem",
        INVALID,
        hint="validate the request before looking the item up: INVALID_ARGUMENT comes before NOT_FOUND",
        sku=prefix + "absent",
        name="",
        quantity=1,
        price_cents=1,
        version=1,
    )
    expect_item(inv.do("GetItem", sku=sku), item(sku, "Valid", 1, 100), "GetItem after the refused updates")
