"""A correct inventory server built differently from the reference: grpc.aio on one event loop, authentication
in a server interceptor, a bisect-sorted sku index with hex page tokens, asyncio queues for watchers, and
Reindex stopped by the cancellation of its task rather than by polling."""

# Servicer methods carry the rpc names of inventory.proto, which are CamelCase.
# ruff: noqa: N802

from __future__ import annotations

import asyncio
import bisect
import importlib
import os
import re
import sys
import tempfile
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_tools import protoc

SERVICE = "labkit.inventory.v1.Inventory"
SKU = re.compile(r"[A-Za-z0-9._-]{1,64}")
ROLES = {"reader-secret": 0, "writer-secret": 1, "admin-secret": 2}
NEEDED = {
    "GetItem": 0,
    "ListItems": 0,
    "Watch": 0,
    "GetStats": 0,
    "CreateItem": 1,
    "UpdateItem": 1,
    "DeleteItem": 1,
    "BulkImport": 1,
    "Reindex": 2,
}


def generate():
    here = Path(__file__).resolve().parent
    out = tempfile.mkdtemp()
    if protoc.main(["protoc", f"-I{here}", f"--python_out={out}", f"--grpc_python_out={out}", "inventory.proto"]):
        sys.exit("protoc failed")
    sys.path.insert(0, out)
    return importlib.import_module("inventory_pb2"), importlib.import_module("inventory_pb2_grpc")


os.chdir(Path(__file__).resolve().parent)
pb, pb_grpc = generate()


class Auth(grpc.aio.ServerInterceptor):
    """Refuses Inventory calls without a good enough token before the handler runs; health calls pass."""

    async def intercept_service(self, continuation, details):
        handler = await continuation(details)
        service, _, method = details.method.lstrip("/").partition("/")
        if service != SERVICE or handler is None:
            return handler
        header = dict(details.invocation_metadata or ()).get("authorization", "")
        role = ROLES.get(header[len("Bearer ") :]) if header.startswith("Bearer ") else None
        if role is None:
            return refusal(handler, grpc.StatusCode.UNAUTHENTICATED, "a valid bearer token is required")
        if role < NEEDED[method]:
            return refusal(handler, grpc.StatusCode.PERMISSION_DENIED, "your role may not call " + method)
        return handler


def refusal(handler, code, message):
    async def refuse(request_or_iterator, context):
        await context.abort(code, message)

    async def refuse_stream(request, context):
        await context.abort(code, message)
        yield  # makes this an async generator, as a server-streaming handler must be

    kinds = (handler.request_streaming, handler.response_streaming)
    make = {
        (False, False): grpc.unary_unary_rpc_method_handler,
        (False, True): grpc.unary_stream_rpc_method_handler,
        (True, False): grpc.stream_unary_rpc_method_handler,
    }[kinds]
    behaviour = refuse_stream if kinds == (False, True) else refuse
    return make(behaviour, handler.request_deserializer, handler.response_serializer)


def problem(sku, name, quantity, price):
    if not SKU.fullmatch(sku):
        return "bad sku"
    if not 0 < len(name) <= 200:
        return "bad name"
    if quantity < 0 or price < 0:
        return "negative number"
    return None


class Inventory(pb_grpc.InventoryServicer):
    def __init__(self):
        self.items = {}
        self.order = []  # every sku, sorted
        self.sequence = 0
        self.watchers = {}  # queue -> prefix
        self.running = 0
        self.steps = 0

    def publish(self, kind, item):
        self.sequence += 1
        change = pb.Change(sequence=self.sequence, kind=kind, item=item)
        for queue, prefix in self.watchers.items():
            if item.sku.startswith(prefix):
                queue.put_nowait(change)

    def insert(self, request):
        item = pb.Item(
            sku=request.sku, name=request.name, quantity=request.quantity, price_cents=request.price_cents, version=1
        )
        self.items[item.sku] = item
        bisect.insort(self.order, item.sku)
        self.publish(pb.Change.CREATED, item)
        return item

    async def CreateItem(self, request, context):
        if error := problem(request.sku, request.name, request.quantity, request.price_cents):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, error)
        if request.sku in self.items:
            await context.abort(grpc.StatusCode.ALREADY_EXISTS, "sku taken")
        return self.insert(request)

    async def GetItem(self, request, context):
        if request.sku not in self.items:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such item")
        return self.items[request.sku]

    async def UpdateItem(self, request, context):
        error = problem(request.sku, request.name, request.quantity, request.price_cents)
        if error or request.version < 1:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, error or "version must be at least 1")
        old = self.items.get(request.sku)
        if old is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such item")
        if old.version != request.version:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"the item is at version {old.version}")
        new = pb.Item(
            sku=old.sku,
            name=request.name,
            quantity=request.quantity,
            price_cents=request.price_cents,
            version=old.version + 1,
        )
        self.items[new.sku] = new
        self.publish(pb.Change.UPDATED, new)
        return new

    async def DeleteItem(self, request, context):
        item = self.items.pop(request.sku, None)
        if item is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such item")
        del self.order[bisect.bisect_left(self.order, item.sku)]
        self.publish(pb.Change.DELETED, item)
        return pb.DeleteItemResponse(item=item)

    async def ListItems(self, request, context):
        if request.page_size < 0:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "negative page_size")
        size = min(request.page_size or 50, 1000)
        start = bisect.bisect_left(self.order, request.prefix)
        if request.page_token:
            try:
                after = bytes.fromhex(request.page_token).decode()
            except ValueError:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad page_token")
            start = max(start, bisect.bisect_right(self.order, after))
        page = []
        for sku in self.order[start:]:
            if not sku.startswith(request.prefix):
                break
            if len(page) == size:
                return pb.ListItemsResponse(items=page, next_page_token=page[-1].sku.encode().hex())
            page.append(self.items[sku])
        return pb.ListItemsResponse(items=page)

    async def Watch(self, request, context):
        queue = asyncio.Queue()
        self.watchers[queue] = request.prefix
        try:  # cancellation, a deadline or a lost connection cancels this task: finally runs
            while True:
                yield await queue.get()
        finally:
            del self.watchers[queue]

    async def BulkImport(self, request_iterator, context):
        reply = pb.BulkImportResponse()
        index = 0
        async for request in request_iterator:
            if problem(request.sku, request.name, request.quantity, request.price_cents):
                reply.failures.add(index=index, sku=request.sku, code="INVALID_ARGUMENT")
            elif request.sku in self.items:
                reply.failures.add(index=index, sku=request.sku, code="ALREADY_EXISTS")
            else:
                self.insert(request)
                reply.created += 1
            index += 1
        reply.failed = len(reply.failures)
        return reply

    async def Reindex(self, request, context):
        if not 1 <= request.steps <= 1000:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "steps must be 1..1000")
        self.running += 1
        try:
            for _ in range(request.steps):
                await asyncio.sleep(0.05)  # a deadline or cancellation cancels the task right here
                self.steps += 1
        finally:
            self.running -= 1
        return pb.ReindexResponse(steps_done=request.steps)

    async def GetStats(self, request, context):
        return pb.Stats(active_watchers=len(self.watchers), reindex_running=self.running, reindex_steps_done=self.steps)


async def main():
    server = grpc.aio.server(interceptors=[Auth()])
    pb_grpc.add_InventoryServicer_to_server(Inventory(), server)
    checker = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    for name in ("", SERVICE):
        await checker.set(name, health_pb2.HealthCheckResponse.SERVING)
    server.add_insecure_port(f"127.0.0.1:{os.environ['PORT']}")
    await server.start()
    await server.wait_for_termination()


asyncio.run(main())
