"""A small HTTP service configured only by its environment.

PORT           where it listens, on every interface (default 8080)
GREETING       what GET / answers with (default "hello")
DATABASE_URL   postgresql://user:password@host:port/db of its PostgreSQL (optional: /ready reports it missing)
REDIS_URL      redis://host:port of its Redis (optional, as above)

GET /healthz   200 "ok" while the process serves: the liveness probe
GET /ready     200 when PostgreSQL and Redis accept a TCP connection, else 503: the readiness probe
GET /          200, JSON: the greeting and which dependencies are configured (never their passwords)
GET /slow?seconds=S   answers "done" after S seconds (at most 30): a long request to stop the service under

On SIGTERM (or SIGINT) it stops accepting connections, lets the requests in flight finish, and exits 0.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from urllib.parse import parse_qs, urlsplit

MAX_SLOW_S = 30.0


def reachable(url: str | None, default_port: int) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "localhost", parts.port or default_port), timeout=1.0):
            return True
    except OSError:
        return False


class Handler(BaseHTTPRequestHandler):
    server_version = "notes/1.0"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/healthz":
            self.answer(200, "text/plain", b"ok\n")
        elif url.path == "/ready":
            deps = {
                "postgres": reachable(os.environ.get("DATABASE_URL"), 5432),
                "redis": reachable(os.environ.get("REDIS_URL"), 6379),
            }
            self.answer(200 if all(deps.values()) else 503, "application/json", json.dumps(deps).encode() + b"\n")
        elif url.path == "/":
            body = {
                "greeting": os.environ.get("GREETING", "hello"),
                "database_configured": bool(os.environ.get("DATABASE_URL")),
                "redis_configured": bool(os.environ.get("REDIS_URL")),
            }
            self.answer(200, "application/json", json.dumps(body).encode() + b"\n")
        elif url.path == "/slow":
            try:
                seconds = min(float(parse_qs(url.query).get("seconds", ["1"])[0]), MAX_SLOW_S)
            except ValueError:
                self.answer(400, "text/plain", b"seconds must be a number\n")
                return
            print(f"slow request started ({seconds:g} s)", flush=True)
            time.sleep(seconds)
            self.answer(200, "text/plain", b"done\n")
        else:
            self.answer(404, "text/plain", b"not found\n")

    def answer(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        print(f"{self.address_string()} {format % args}", flush=True)


class Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for the requests in flight: a graceful stop
    allow_reuse_address = True


def main() -> int:
    port = int(os.environ.get("PORT", "8080"))
    server = Server(("0.0.0.0", port), Handler)

    def stop(signum: int, frame: FrameType | None) -> None:
        print(f"received {signal.Signals(signum).name}: finishing requests in flight", flush=True)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"listening on port {port} as uid {os.getuid()}", flush=True)
    server.serve_forever()
    server.server_close()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
