"""A route table over http.server; the composition root hands each request a fresh unit of work."""

import json
import logging
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from shop.adapters.postgres import PostgresUnitOfWork, create_schema
from shop.domain import errors
from shop.service_layer import services

CODES = [
    (errors.InvalidInput, 422, "invalid_input"),
    (errors.UnknownProduct, 404, "unknown_product"),
    (errors.UnknownOrder, 404, "unknown_order"),
    (errors.DuplicateProduct, 409, "duplicate_product"),
    (errors.OutOfStock, 409, "out_of_stock"),
    (errors.AlreadyCancelled, 409, "already_cancelled"),
]


def _body(request):
    try:
        value = json.loads(request or b"null")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise errors.InvalidInput("a JSON object is expected")
    return value


ROUTES = [
    ("GET", r"/health", lambda uow, body: (200, {"status": "ok"})),
    (
        "POST",
        r"/products",
        lambda uow, body: (
            201,
            services.add_product(uow, *(_body(body).get(key) for key in ("sku", "name", "price_cents", "stock"))),
        ),
    ),
    ("GET", r"/products/(?P<sku>[^/]+)", lambda uow, body, sku: (200, services.get_product(uow, sku))),
    (
        "POST",
        r"/products/(?P<sku>[^/]+)/restock",
        lambda uow, body, sku: (200, services.restock(uow, sku, _body(body).get("quantity"))),
    ),
    ("POST", r"/orders", lambda uow, body: (201, services.place_order(uow, _body(body).get("lines")))),
    ("GET", r"/orders/(?P<order_id>[^/]+)", lambda uow, body, order_id: (200, services.get_order(uow, order_id))),
    (
        "POST",
        r"/orders/(?P<order_id>[^/]+)/cancel",
        lambda uow, body, order_id: (200, services.cancel_order(uow, order_id)),
    ),
]


def dispatch(method, path, body, new_uow):
    for route_method, pattern, handler in ROUTES:
        match = re.fullmatch(pattern, path)
        if match and route_method == method:
            try:
                return handler(new_uow(), body, **match.groupdict())
            except errors.DomainError as error:
                status, code = next((s, c) for kind, s, c in CODES if isinstance(error, kind))
                return status, {"error": code, "message": str(error)}
            except Exception:
                logging.exception("%s %s failed", method, path)
                return 500, {"error": "internal", "message": "internal error"}
    return 404, {"error": "not_found", "message": f"{method} {path}"}


def serve(port, database_url):
    create_schema(database_url)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            size = int(self.headers.get("content-length", 0))
            body = self.rfile.read(size) if size else b""
            status, payload = dispatch(self.command, self.path, body, lambda: PostgresUnitOfWork(database_url))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._answer()

        def do_POST(self):
            self._answer()

        def do_PUT(self):
            self._answer()

        def do_DELETE(self):
            self._answer()

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
