"""The grader's HTTP client for the shop's API: one request per connection, every exchange in the transcript."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any

from labkit.checks import fail, log

TIMEOUT_S = 10.0
SHOWN = 300
NO_BODY = object()

STATUS_HINTS = {
    500: "a domain error or a bad request must never become a 500: catch each DomainError in the handler and map "
    "it to the README's status (the traceback, if any, is in your stderr below)",
    501: "the starter answers 501 to everything: implement the route",
    404: "check the route table in the README: method, path and where the sku or order id goes",
}

REFUSE_HINT = (
    "the README refuses this request: the rule belongs in the service layer (or the domain), which raises the "
    "domain error that the handler maps to its status"
)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # the parsed JSON, or None when the body is not JSON
    raw: bytes
    content_type: str


class Api:
    def __init__(self, port: int) -> None:
        self.port = port
        self.placeholders: dict[str, str] = {}

    def name(self, value: str, placeholder: str) -> None:
        """Shows ``value`` (an id the learner's code chose) as ``placeholder`` in verdicts, so they replay alike."""
        self.placeholders[value] = placeholder

    def shown(self, text: str) -> str:
        for value, placeholder in self.placeholders.items():
            text = text.replace(value, placeholder)
        return text

    def send(self, method: str, path: str, body: Any = NO_BODY, *, raw: bytes | None = None) -> Reply:
        payload = raw if raw is not None else b"" if body is NO_BODY else json.dumps(body).encode()
        log(f"→ {method} {path} {payload[:SHOWN].decode(errors='replace')}".rstrip())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT_S)
        try:
            headers = {"Content-Type": "application/json"} if payload else {}
            conn.request(method, path, body=payload if payload else None, headers=headers)
            response = conn.getresponse()
            data = response.read()
            content_type = response.getheader("Content-Type") or ""
        finally:
            conn.close()
        log(f"← {response.status} {data[:SHOWN].decode(errors='replace')}")
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = None
        return Reply(response.status, parsed, data, content_type)

    def expect(self, method: str, path: str, body: Any = NO_BODY, *, status: int, raw: bytes | None = None) -> Any:
        """The reply's JSON body, after its status was checked."""
        reply = self.send(method, path, body, raw=raw)
        request = self.shown(f"{method} {path}" + ("" if body is NO_BODY else f" {json.dumps(body)[:SHOWN]}"))
        if reply.status != status:
            fail(
                f"{request} answered {reply.status}",
                expected=f"status {status}",
                got=f"{reply.status} {reply.raw[:SHOWN].decode(errors='replace')}",
                hint=STATUS_HINTS.get(reply.status) or (REFUSE_HINT if reply.status < 400 <= status else None),
            )
        if not isinstance(reply.body, dict) or not reply.content_type.startswith("application/json"):
            fail(
                f"{request} answered {reply.status} without a JSON object",
                expected="a JSON object, with Content-Type: application/json",
                got=f"Content-Type: {reply.content_type!r}, body {reply.raw[:SHOWN].decode(errors='replace')}",
                hint="every answer is a JSON object with Content-Type: application/json",
            )
        return reply.body

    def expect_error(
        self, method: str, path: str, body: Any = NO_BODY, *, status: int, code: str, raw: bytes | None = None
    ) -> None:
        answer = self.expect(method, path, body, status=status, raw=raw)
        if answer.get("error") != code or not isinstance(answer.get("message"), str):
            fail(
                self.shown(f"{method} {path} answered {status} with the wrong error code"),
                expected=f'{{"error": "{code}", "message": ...}}',
                got=json.dumps(answer)[:SHOWN],
                hint="the README's table in 'The domain' gives each exception's status and code",
            )
