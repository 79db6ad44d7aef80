"""observability starter: the shop service, working but silent.

Read README.md first: it is the complete specification, and the grader checks exactly what it says.

Run it with:   PORT=7070 DOWNSTREAM_URL=http://127.0.0.1:7071 python3 server.py
Grade it with: labkit grade observability

The endpoints below already behave as the README's "The service" says. What is missing is everything the
outside world could learn from them: /metrics (it answers 404 for now, so the first stage fails), the JSON log
line of each request, the spans exported over OTLP and the trace context carried in and out. Add them (the
TODOs), keep the behaviour.
"""

import json
import os
import re
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOST = "127.0.0.1"
USER_PATH = re.compile(r"/users/([0-9]{1,12})")
DOWNSTREAM_TIMEOUT_S = 5.0


def route_of(method: str, path: str) -> str:
    """The route template of a request: a small, fixed set of values."""
    if method == "GET" and USER_PATH.fullmatch(path):
        return "/users/{id}"
    if method == "POST" and path == "/checkout":
        return "/checkout"
    return "unmatched"


def valid_order(body: bytes) -> dict[str, object] | None:
    """The item and quantity of a checkout body, or None when the body is not a valid order."""
    try:
        order = json.loads(body)
    except ValueError:
        return None
    if not isinstance(order, dict):
        return None
    item, quantity = order.get("item"), order.get("quantity")
    if not isinstance(item, str) or not 1 <= len(item) <= 64:
        return None
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 100:
        return None
    return {"item": item, "quantity": quantity}


def charge(order: dict[str, object]) -> tuple[int, dict[str, object]]:
    """Calls the downstream payment service; returns the status and body of our own answer."""
    request = urllib.request.Request(
        os.environ["DOWNSTREAM_URL"] + "/charge",
        data=json.dumps(order).encode(),
        headers={"Content-Type": "application/json"},  # TODO: the traceparent of the client span
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=DOWNSTREAM_TIMEOUT_S) as response:
            answer = json.loads(response.read())
            return 200, {"charge_id": str(answer["charge_id"])}
    except (OSError, ValueError, KeyError, TypeError):  # URLError and HTTPError are OSErrors
        return 502, {"error": "downstream failed"}


class ShopHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.serve()

    def do_POST(self) -> None:
        self.serve()

    def do_PUT(self) -> None:
        self.serve()

    def do_DELETE(self) -> None:
        self.serve()

    def serve(self) -> None:
        path = urlsplit(self.path).path
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.command == "GET" and path == "/metrics":
            # TODO: the OpenMetrics exposition (README.md, "Metrics").
            self.reply(404, {"error": "not found"})
            return
        # TODO: the request id, the server span (continuing an incoming traceparent), the counter and histogram,
        # and the request's JSON log line on stdout.
        status, answer = self.handle_route(route_of(self.command, path), path, body)
        self.reply(status, answer)

    def handle_route(self, route: str, path: str, body: bytes) -> tuple[int, dict[str, object]]:
        if route == "/users/{id}":
            user_id = path.rsplit("/", 1)[1]
            return 200, {"id": user_id, "name": f"user {user_id}"}
        if route == "/checkout":
            order = valid_order(body)
            if order is None:
                return 400, {"error": "a checkout needs an item (1-64 characters) and a quantity (1-100)"}
            return charge(order)
        return 404, {"error": "not found"}

    def reply(self, status: int, answer: dict[str, object]) -> None:
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """http.server's own access log (free text on stderr, with the query string) is switched off."""


def main() -> None:
    server = ThreadingHTTPServer((HOST, int(os.environ["PORT"])), ShopHandler)
    server.daemon_threads = True
    # TODO: on SIGTERM, stop serving, flush the spans not exported yet, and exit 0.
    server.serve_forever()


if __name__ == "__main__":
    main()
