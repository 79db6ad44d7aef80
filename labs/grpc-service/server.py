"""grpc-service starter: the inventory service of inventory.proto, served with grpcio.

Read README.md first: it is the complete specification, and the grader checks exactly what it says.

Run it with:   PORT=7070 python3 server.py
Grade it with: labkit grade grpc-service

What is already here: the Python code for inventory.proto is generated at start-up (never edit generated
code), and a server listens on 127.0.0.1:$PORT with every Inventory method answering UNIMPLEMENTED. As shipped,
the first stage (health) fails because the standard health service is not registered. Replace the TODOs; you
may restructure everything (an asyncio server with grpc.aio is fine too) as long as the behaviour matches the
README.
"""

# Servicer methods carry the rpc names of inventory.proto, which are CamelCase.
# ruff: noqa: N802

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from concurrent import futures
from pathlib import Path

import grpc
from grpc_tools import protoc

HOST = "127.0.0.1"
SERVICE_NAME = "labkit.inventory.v1.Inventory"

# Bearer tokens and their roles (README.md, "Authentication").
TOKENS = {"reader-secret": "reader", "writer-secret": "writer", "admin-secret": "admin"}


def load_stubs():
    """Generates inventory_pb2 (messages) and inventory_pb2_grpc (stub, servicer base class) from the .proto
    next to this file into a temporary folder, and imports them."""
    here = Path(__file__).resolve().parent
    out = tempfile.mkdtemp(prefix="inventory-stubs-")
    args = ["protoc", f"-I{here}", f"--python_out={out}", f"--grpc_python_out={out}", str(here / "inventory.proto")]
    if protoc.main(args) != 0:
        sys.exit("could not generate code from inventory.proto")
    sys.path.insert(0, out)
    return importlib.import_module("inventory_pb2"), importlib.import_module("inventory_pb2_grpc")


pb, pb_grpc = load_stubs()


def todo(context: grpc.ServicerContext, what: str) -> None:
    context.abort(grpc.StatusCode.UNIMPLEMENTED, f"TODO: {what} (see README.md)")


class InventoryServicer(pb_grpc.InventoryServicer):
    """One method per rpc of inventory.proto. Each receives the request message and a ServicerContext:
    context.abort(code, details) ends the call with an error status, context.invocation_metadata() holds the
    caller's metadata, context.is_active() tells whether the caller is still waiting."""

    def CreateItem(self, request, context):
        """Validate, refuse an existing sku, store at version 1, publish a CREATED change; return the Item."""
        todo(context, "CreateItem")

    def GetItem(self, request, context):
        """Return the stored Item, or NOT_FOUND."""
        todo(context, "GetItem")

    def UpdateItem(self, request, context):
        """Optimistic concurrency: apply only if request.version equals the stored version."""
        todo(context, "UpdateItem")

    def DeleteItem(self, request, context):
        """Remove the item and return DeleteItemResponse(item=<the item as it was>)."""
        todo(context, "DeleteItem")

    def ListItems(self, request, context):
        """Items whose sku starts with request.prefix, in sku order, one page at a time."""
        todo(context, "ListItems")

    def Watch(self, request, context):
        """A generator: yield a Change for every matching change until the caller goes away."""
        todo(context, "Watch")

    def BulkImport(self, request_iterator, context):
        """Iterate over the streamed CreateItemRequests; return one BulkImportResponse at the end."""
        todo(context, "BulkImport")

    def Reindex(self, request, context):
        """request.steps steps of 50 ms each; stop as soon as the caller's deadline passes or it cancels."""
        todo(context, "Reindex")

    def GetStats(self, request, context):
        """Stats(active_watchers=..., reindex_running=..., reindex_steps_done=...)."""
        todo(context, "GetStats")


def serve(port: int) -> None:
    # Every open Watch stream occupies a worker thread for as long as it is open: keep plenty of workers.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=64))
    pb_grpc.add_InventoryServicer_to_server(InventoryServicer(), server)
    # TODO: register the standard health service (grpc_health.v1) and set SERVING for "" and SERVICE_NAME.
    server.add_insecure_port(f"{HOST}:{port}")
    server.start()
    server.wait_for_termination()


def main() -> int:
    serve(int(os.environ["PORT"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
