"""The HTTP API (README, "The HTTP API"): parse a request, call one use case with a PostgresUnitOfWork, and map
its result or exception to a response. No business rule and no SQL here."""

from __future__ import annotations

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shop.adapters.postgres import create_schema


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/health":
            self.send_json(200, {"status": "ok"})
        else:
            self.not_implemented()

    def do_POST(self) -> None:
        self.not_implemented()

    def not_implemented(self) -> None:
        # TODO: route each method and path of the README's table to its use case; map domain errors to statuses.
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.send_json(501, {"error": "not_implemented", "message": f"{self.command} {self.path}: TODO"})

    def send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    create_schema(os.environ["DATABASE_URL"])
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    server.daemon_threads = True
    server.serve_forever()
