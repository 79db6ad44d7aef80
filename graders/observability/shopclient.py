"""The grader as a client of the learner's shop: one HTTP/1.1 request per connection, with a transcript line."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass

from labkit.checks import fail, log
from labkit.ports import LOOPBACK

REQUEST_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> object:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Shop:
    """Requests to the learner's service on ``port``."""

    def __init__(self, port: int) -> None:
        self.port = port

    def request(
        self, method: str, target: str, *, headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> Reply:
        connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=REQUEST_TIMEOUT_S)
        sent = {"Connection": "close", **(headers or {})}
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        try:
            connection.request(method, target, body=body, headers=sent)
            response = connection.getresponse()
            reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        except (OSError, http.client.HTTPException) as error:
            fail(
                f"{method} {target} got no HTTP answer: {error!r}",
                expected="an HTTP/1.1 response on the same connection",
                hint="keep the shop's endpoints working while you instrument them",
            )
        finally:
            connection.close()
        log(f"grader → {method} {target} {_shown(headers)}← {reply.status}")
        return reply

    def get(self, target: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("GET", target, headers=headers)

    def checkout(self, order: dict[str, object], headers: dict[str, str] | None = None) -> Reply:
        return self.request("POST", "/checkout", headers=headers, body=json.dumps(order).encode())


def _shown(headers: dict[str, str] | None) -> str:
    return "".join(f"[{name}: {value}] " for name, value in (headers or {}).items())
