"""Stage 9: `authorization: Bearer <token>` metadata decides who may call what."""

from collections.abc import Callable

import grpc
from grpc_health.v1 import health_pb2

from grpcwire import Message, RequestStream, judge_status
from inventory import Inventory, expect_item, item
from labkit.checks import fail
from watchstream import WatchStream

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
DENIED = grpc.StatusCode.PERMISSION_DENIED


def every_call(inv: Inventory, prefix: str) -> list[tuple[str, Message | RequestStream]]:
    """One valid request for each unary and client-streaming method, as (method, request)."""
    sku = prefix + "target"
    return [
        ("GetItem", inv.request("GetItem", sku=sku)),
        ("ListItems", inv.request("ListItems", prefix=prefix)),
        ("GetStats", inv.request("GetStats")),
        ("CreateItem", inv.request("CreateItem", sku=prefix + "new", name="new", quantity=1)),
        ("UpdateItem", inv.request("UpdateItem", sku=sku, name="changed", quantity=9, price_cents=9, version=1)),
        ("DeleteItem", inv.request("DeleteItem", sku=sku)),
        ("BulkImport", RequestStream([inv.request("CreateItem", sku=prefix + "bulk", name="bulk", quantity=1)])),
        ("Reindex", inv.request("Reindex", steps=1)),
    ]


def expect_watch_refused(
    watches: Callable[..., WatchStream],
    prefix: str,
    metadata: tuple[tuple[str, str], ...],
    code: grpc.StatusCode,
    who: str,
) -> None:
    stream = watches(prefix, label=f"Watch as {who}", metadata=metadata)
    ended = stream.ended_status(timeout=1.0)
    if ended is None:
        fail(
            f"Watch {{prefix: {prefix!r}}} as {who} was accepted: the stream stayed open",
            expected=code.name,
            got="an open stream",
            hint="check the token before registering the watcher",
        )
    status, details = ended
    judge_status(f"Watch {{prefix: {prefix!r}}} as {who}", status, details, code)


def expect_untouched(inv: Inventory, prefix: str) -> None:
    sku = prefix + "target"
    expect_item(
        inv.do("GetItem", sku=sku),
        item(sku, "target"),
        "GetItem after the refused calls",
        hint="authorize before doing anything: a refused call must change nothing",
    )
    for sku in (prefix + "new", prefix + "bulk"):
        inv.refuses(
            "GetItem",
            grpc.StatusCode.NOT_FOUND,
            hint="authorize before doing anything: a refused call must change nothing",
            sku=sku,
        )


BAD_HEADERS = [
    ((), "a caller without authorization metadata"),
    ((("authorization", "Bearer not-a-token"),), "a caller with an unknown token"),
    ((("authorization", "admin-secret"),), "a caller whose token lacks 'Bearer '"),
    ((("authorization", "Basic admin-secret"),), "a caller using the Basic scheme"),
    ((("authorization", "Bearer "),), "a caller with an empty token"),
    ((("authorization", "Bearer  admin-secret"),), "a caller with two spaces after 'Bearer'"),
    ((("authorization", "bearer admin-secret"),), "a caller writing 'bearer' in lower case"),
    ((("authorization", "Bearer admin-secret2"),), "a caller with a known token plus a character"),
]


def check_calls_without_a_valid_token_are_unauthenticated(client, inv, watches, prefix):
    """Every method refuses a missing or bad token with UNAUTHENTICATED"""
    inv.create(prefix + "target", name="target")
    for metadata, who in BAD_HEADERS:
        caller = client(metadata=metadata, who=who)
        for method, request in every_call(inv, prefix):
            caller.expect_status(
                method,
                request,
                UNAUTHENTICATED,
                hint="every Inventory call needs 'authorization: Bearer <token>' with one of the README's tokens",
            )
    expect_watch_refused(watches, prefix, (), UNAUTHENTICATED, "a caller without a token")
    expect_untouched(inv, prefix)


def check_token_is_checked_before_anything_else(client, prefix):
    """Without a token, a missing item or an invalid request is still UNAUTHENTICATED"""
    anonymous = client(metadata=(), who="a caller without a token")
    hint = "check the token first: a caller without one learns nothing, not even whether an item exists"
    anonymous.expect_status("GetItem", anonymous.request("GetItem", sku=prefix + "nothing"), UNAUTHENTICATED, hint=hint)
    request = anonymous.request("CreateItem", sku="", name="", quantity=-1)
    anonymous.expect_status("CreateItem", request, UNAUTHENTICATED, hint=hint)


def check_reader_may_read_but_not_write(client, inv, watches, prefix):
    """A reader may get, list, watch and read stats; writes and Reindex are PERMISSION_DENIED"""
    inv.create(prefix + "target", name="target")
    reader = client("reader")
    calls = every_call(inv, prefix)
    for method, request in calls[:3]:
        reader.call(method, request, hint="the reader role may call GetItem, ListItems, Watch and GetStats")
    for method, request in calls[3:]:
        reader.expect_status(method, request, DENIED, hint="a known token whose role is too low is PERMISSION_DENIED")
    before = inv.stats().active_watchers
    stream = watches(prefix, label="Watch as reader", role="reader")
    inv.wait_for_watchers(before + 1, [stream])
    expect_untouched(inv, prefix)
    # The role is checked before the fields: PERMISSION_DENIED, not INVALID_ARGUMENT.
    reader.expect_status("CreateItem", reader.request("CreateItem", sku="", name=""), DENIED)


def check_writer_may_write_but_not_reindex(client, inv, watches, prefix):
    """A writer may read, create, update, delete and import; Reindex is PERMISSION_DENIED"""
    writer = client("writer")
    sku = prefix + "w"
    writer.create(sku, name="by writer")
    inv.create(prefix + "target", name="target")
    hint = "roles are ordered: a writer may call everything a reader may"
    for method, request in every_call(writer, prefix)[:3]:
        writer.call(method, request, hint=hint)
    before = inv.stats().active_watchers
    inv.wait_for_watchers(before + 1, [watches(prefix, label="Watch as writer", role="writer")])
    writer.do("UpdateItem", sku=sku, name="edited", quantity=2, price_cents=100, version=1)
    writer.call("BulkImport", RequestStream([writer.request("CreateItem", sku=prefix + "b", name="b", quantity=1)]))
    writer.do("DeleteItem", sku=sku)
    writer.refuses("Reindex", DENIED, hint="only the admin role may call Reindex", steps=1)


def check_admin_may_call_everything(client, prefix):
    """The admin token may call every method"""
    admin = client("admin")
    admin.create(prefix + "a", name="by admin")
    admin.call("Reindex", admin.request("Reindex", steps=1), timeout=3.0)


def check_health_needs_no_token(health):
    """The health service still answers without a token"""
    reply = health.call(
        "Check",
        health_pb2.HealthCheckRequest(service=""),
        hint="authentication applies to the Inventory service only; health probes carry no token",
    )
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        fail("the health service no longer reports SERVING", expected="SERVING")
