"""The grader's inventory client: stubs generated from the lab's inventory.proto at grading time, requests
built from keyword arguments, and helpers for the Stats counters that make server-side work observable."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TypeAlias

import grpc
from grpc_tools import protoc

from grpcwire import Message, RpcClient
from labkit.checks import fail, log
from labkit.errors import HarnessError
from labkit.wait import until
from watchstream import WatchStream

SERVICE = "labkit.inventory.v1.Inventory"
TOKENS = {"reader": "reader-secret", "writer": "writer-secret", "admin": "admin-secret"}
ITEM_FIELDS = ("sku", "name", "quantity", "price_cents", "version")
POLL_S = 0.02

ItemFields: TypeAlias = dict[str, str | int]


def generate_stubs(proto: Path, out: Path) -> tuple[ModuleType, ModuleType]:
    """Runs protoc on the lab's .proto into ``out`` and imports the result; generated code is never edited."""
    out.mkdir(parents=True, exist_ok=True)
    args = ["protoc", f"-I{proto.parent}", f"--python_out={out}", f"--grpc_python_out={out}", str(proto)]
    if protoc.main(args) != 0:
        raise HarnessError(f"protoc could not compile {proto}")
    sys.path.insert(0, str(out))
    return importlib.import_module("inventory_pb2"), importlib.import_module("inventory_pb2_grpc")


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


class Inventory(RpcClient):
    """A client of the learner's Inventory service, calling as one role (admin unless told otherwise)."""

    def __init__(
        self,
        pb: ModuleType,
        pb_grpc: ModuleType,
        channel: grpc.Channel,
        who: str,
        metadata: tuple[tuple[str, str], ...],
    ) -> None:
        super().__init__(pb_grpc.InventoryStub(channel), who, metadata)
        self.pb = pb

    def request(self, method: str, **fields: object) -> Message:
        """The request message of ``method`` (as inventory.proto declares it) with these fields."""
        descriptor = self.pb.DESCRIPTOR.services_by_name["Inventory"].methods_by_name[method].input_type
        return getattr(self.pb, descriptor.name)(**fields)

    def do(self, method: str, hint: str | None = None, **fields: object) -> Message:
        return self.call(method, self.request(method, **fields), hint=hint)

    def refuses(self, method: str, code: grpc.StatusCode, hint: str | None = None, **fields: object) -> str:
        return self.expect_status(method, self.request(method, **fields), code, hint=hint)

    def create(self, sku: str, name: str = "widget", quantity: int = 1, price_cents: int = 100) -> Message:
        return self.do("CreateItem", sku=sku, name=name, quantity=quantity, price_cents=price_cents)

    def stats(self) -> Message:
        return self.do("GetStats")

    def wait_for_stat(
        self,
        name: str,
        accept: Callable[[int], bool],
        within: float,
        message: str,
        hint: str,
        streams: Iterable[WatchStream] = (),
        *,
        expected: str,
    ) -> int:
        """Polls GetStats until ``accept(value)`` holds (``expected`` says how, for the verdict), or fails with
        ``message`` after ``within`` seconds; a Watch stream among ``streams`` that the server ended meanwhile is
        reported instead."""
        log(f"{self.who} polls GetStats until {name} is as expected")
        readings: list[int] = []

        def accepted() -> bool:
            for stream in streams:
                stream.expect_open()
            readings.append(getattr(self.call("GetStats", self.pb.GetStatsRequest(), quiet=True), name))
            return accept(readings[-1])

        if not until(accepted, within, interval=POLL_S):
            last = readings[-1] if readings else None
            fail(message, expected=expected, got=f"{name} = {last} after {within:g} s", hint=hint)
        log(f"{self.who} ← {name} = {readings[-1]}")
        return readings[-1]

    def wait_for_watchers(self, count: int, streams: Sequence[WatchStream], within: float = 2.0) -> None:
        """Waits until ``count`` Watch streams are registered, so that changes made next must reach them."""
        self.wait_for_stat(
            "active_watchers",
            lambda value: value >= count,
            within,
            f"GetStats.active_watchers did not count the {len(streams)} Watch stream(s) the grader opened "
            f"within {within:g} s",
            "count a Watch stream in active_watchers as soon as it is registered; and every open stream holds a "
            "worker thread in a thread-pool server, so keep enough workers (the starter has 64)",
            streams,
            expected=f"active_watchers >= {count}",
        )


def kind_name(pb: ModuleType, kind: int) -> str:
    """The name of a Change.Kind value, without failing on a number the enum does not define."""
    try:
        return str(pb.Change.Kind.Name(kind))
    except ValueError:
        return f"unknown kind {kind}"


def expect_item(got: Message, expected: Mapping[str, object], what: str, *, hint: str | None = None) -> None:
    """Compares an Item field by field with the README's expectation, naming every field that differs."""
    wrong = [name for name in ITEM_FIELDS if name in expected and getattr(got, name) != expected[name]]
    if wrong:
        fail(
            f"{what} returned a wrong item: {' and '.join(wrong)} {'differs' if len(wrong) == 1 else 'differ'}",
            expected=", ".join(f"{name}={expected[name]!r}" for name in ITEM_FIELDS if name in expected),
            got=", ".join(f"{name}={getattr(got, name)!r}" for name in ITEM_FIELDS if name in expected),
            hint=hint,
        )


def item(sku: str, name: str = "widget", quantity: int = 1, price_cents: int = 100, version: int = 1) -> ItemFields:
    return {"sku": sku, "name": name, "quantity": quantity, "price_cents": price_cents, "version": version}
