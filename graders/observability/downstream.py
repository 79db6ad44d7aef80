"""The grader's downstream payment service: ``POST /charge`` on a loopback port. It records every call (headers
and body) and behaves by the item's name: ``slow-...`` answers after ``SLOW_S``, ``fail-...`` answers 503,
``status-NNN-...`` answers NNN, ``drop-...`` closes the connection without an answer."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from labkit.ports import LOOPBACK

SLOW_S = 0.3
SLOW_PREFIX, FAIL_PREFIX = "slow-", "fail-"
# ``drop-...`` gets no answer at all: the failure a status cannot show (no status code, the span still ERROR).
DROP_PREFIX = "drop-"
# ``status-NNN-...`` answers NNN: the client span's ERROR boundary is probed on both sides (500 and 499).
STATUS_PREFIX = "status-"


def status_prefix(status: int) -> str:
    return f"{STATUS_PREFIX}{status}-"


@dataclass(frozen=True)
class Charge:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    item: str | None
    charge_id: str | None  # what it answered; None for a refusal

    @property
    def text(self) -> str:
        headers = "".join(f"{name}: {value}\n" for name, value in self.headers.items())
        return f"POST {self.path}\n{headers}\n{self.body.decode(errors='replace')}"


class Downstream:
    """Serves charges until closed."""

    def __init__(self) -> None:
        self._charges: list[Charge] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer((LOOPBACK, 0), _handler_for(self))
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self.url = f"http://{LOOPBACK}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="downstream", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def charges(self) -> list[Charge]:
        with self._lock:
            return list(self._charges)

    def for_item(self, item: str) -> list[Charge]:
        return [charge for charge in self.charges() if charge.item == item]

    def serve(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]] | None:
        """The status and body to answer, or None to close the connection without an answer."""
        try:
            order = json.loads(body)
            item = order.get("item") if isinstance(order, dict) else None
        except ValueError:
            item = None
        name = item if isinstance(item, str) else None
        status, answer, charge_id = 400, {"error": 'expected {"item": ..., "quantity": ...}'}, None
        if path == "/charge" and name is not None:
            if name.startswith(SLOW_PREFIX):
                time.sleep(SLOW_S)
            if name.startswith(DROP_PREFIX):
                status, answer = 0, {}
            elif name.startswith(FAIL_PREFIX):
                status, answer = 503, {"error": "payments are down"}
            elif name.startswith(STATUS_PREFIX) and name[len(STATUS_PREFIX) : len(STATUS_PREFIX) + 3].isdigit():
                status, answer = int(name[len(STATUS_PREFIX) : len(STATUS_PREFIX) + 3]), {"error": "as asked"}
            else:
                charge_id = f"ch-{next(self._ids)}"
                status, answer = 200, {"charge_id": charge_id}
        with self._lock:
            self._charges.append(Charge(path, headers, body, name, charge_id))
        return (status, answer) if status else None


def _handler_for(downstream: Downstream) -> type[BaseHTTPRequestHandler]:
    class ChargeHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            outcome = downstream.serve(self.path, headers, body)
            if outcome is None:
                self.close_connection = True
                return
            status, answer = outcome
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the grader's report says what matters."""

    return ChargeHandler
