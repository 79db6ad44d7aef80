"""The HTTP API: parse a request, call one use case with a PostgreSQL unit of work, map the outcome."""

from __future__ import annotations

import json
import os
import re
import sys
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shop.adapters.postgres import PostgresUnitOfWork, create_schema
from shop.domain import errors
from shop.service_layer import services

STATUS_OF: dict[type[errors.DomainError], tuple[int, str]] = {
    errors.InvalidInput: (422, "invalid_input"),
    errors.UnknownProduct: (404, "unknown_product"),
    errors.UnknownOrder: (404, "unknown_order"),
    errors.DuplicateProduct: (409, "duplicate_product"),
    errors.OutOfStock: (409, "out_of_stock"),
    errors.AlreadyCancelled: (409, "already_cancelled"),
}

Reply = tuple[int, dict[str, Any]]


class NotFound(Exception):
    pass


def route(method: str, path: str, body: Callable[[], dict[str, Any]], uow: PostgresUnitOfWork) -> Reply:
    if method == "GET" and path == "/health":
        return 200, {"status": "ok"}
    if method == "POST" and path == "/products":
        fields = body()
        return 201, services.add_product(
            uow, fields.get("sku"), fields.get("name"), fields.get("price_cents"), fields.get("stock")
        )
    if method == "POST" and path == "/orders":
        return 201, services.place_order(uow, body().get("lines"))
    if method == "GET" and (match := re.fullmatch(r"/products/([^/]+)", path)):
        return 200, services.get_product(uow, match[1])
    if method == "POST" and (match := re.fullmatch(r"/products/([^/]+)/restock", path)):
        return 200, services.restock(uow, match[1], body().get("quantity"))
    if method == "GET" and (match := re.fullmatch(r"/orders/([^/]+)", path)):
        return 200, services.get_order(uow, match[1])
    if method == "POST" and (match := re.fullmatch(r"/orders/([^/]+)/cancel", path)):
        return 200, services.cancel_order(uow, match[1])
    raise NotFound(path)


class Handler(BaseHTTPRequestHandler):
    database_url = ""
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.handle_request("GET")

    def do_POST(self) -> None:
        self.handle_request("POST")

    def do_PUT(self) -> None:
        self.handle_request("PUT")

    def do_DELETE(self) -> None:
        self.handle_request("DELETE")

    def handle_request(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            status, payload = route(
                method, self.path.split("?")[0], lambda: json_object(raw), PostgresUnitOfWork(self.database_url)
            )
        except errors.DomainError as error:
            status, code = STATUS_OF[type(error)]
            payload = {"error": code, "message": str(error)}
        except NotFound:
            status, payload = 404, {"error": "not_found", "message": f"no route {method} {self.path}"}
        except Exception:
            traceback.print_exc(file=sys.stderr)
            status, payload = 500, {"error": "internal", "message": "internal error"}
        self.send_json(status, payload)

    def send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would drown the stderr a failure shows


def json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        raise errors.InvalidInput("the body is not JSON") from None
    if not isinstance(value, dict):
        raise errors.InvalidInput("the body must be a JSON object")
    return value


def main() -> None:
    database_url = os.environ["DATABASE_URL"]
    create_schema(database_url)
    Handler.database_url = database_url
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    server.daemon_threads = True
    server.serve_forever()
