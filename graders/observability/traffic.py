"""Seeded requests to the shop, each with the status the README says it gets and the route it belongs to."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field

from downstream import FAIL_PREFIX, SLOW_PREFIX
from labkit.checks import fail
from shopclient import Reply, Shop

USERS, CHECKOUT, UNMATCHED = "/users/{id}", "/checkout", "unmatched"
INVALID_ORDERS = (
    b'{"item": "book"}',
    b'{"item": "", "quantity": 1}',
    b'{"item": "book", "quantity": 0}',
    b'{"item": "book", "quantity": 101}',
    b'{"item": "book", "quantity": "2"}',
    b"not json",
    b'["book", 1]',
)
WORDS = ("orders", "cart", "admin", "health", "items", "login", "search", "static")


@dataclass(frozen=True)
class Call:
    method: str
    target: str
    route: str
    status: int
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.method, self.route, str(self.status))

    def with_headers(self, **headers: str) -> Call:
        return Call(self.method, self.target, self.route, self.status, self.body, {**self.headers, **headers})

    def __str__(self) -> str:
        body = f" {self.body.decode(errors='replace')}" if self.body else ""
        return f"{self.method} {self.target}{body}"


def user(rng: random.Random, query: str = "") -> Call:
    digits = rng.randint(1, 12)
    user_id = str(rng.randrange(10 ** (digits - 1), 10**digits))
    return Call("GET", f"/users/{user_id}{query}", USERS, 200)


def unmatched(rng: random.Random) -> Call:
    choice = rng.randrange(4)
    if choice == 0:
        return Call("DELETE", f"/users/{rng.randrange(1, 10**6)}", UNMATCHED, 404)
    if choice == 1:
        return Call("GET", "/checkout", UNMATCHED, 404)
    if choice == 2:
        return Call("GET", f"/users/{rng.choice(WORDS)}", UNMATCHED, 404)
    return Call("GET", f"/{rng.choice(WORDS)}/{rng.randrange(1, 10**6)}", UNMATCHED, 404)


def order(item: str, quantity: int = 1, **extra: object) -> bytes:
    return json.dumps({"item": item, "quantity": quantity, **extra}).encode()


def checkout(rng: random.Random, outcome: int = 200, prefix: str = "") -> Call:
    if outcome == 400:
        return Call("POST", "/checkout", CHECKOUT, 400, rng.choice(INVALID_ORDERS))
    item = f"{prefix or (FAIL_PREFIX if outcome == 502 else '')}item-{rng.getrandbits(32):08x}"
    return Call("POST", "/checkout", CHECKOUT, outcome, order(item, rng.randint(1, 100)))


def orders_at_the_bounds(rng: random.Random) -> list[Call]:
    """Checkouts on both sides of each bound of a valid order: item of 1 to 64 characters, quantity 1 to 100."""
    letters = "abcdefghijklmnopqrstuvwxyz"

    def item(size: int) -> str:
        return "".join(rng.choice(letters) for _ in range(size))

    def call(body: bytes, status: int) -> Call:
        return Call("POST", "/checkout", CHECKOUT, status, body)

    calls = [call(order(item(size), rng.randint(1, 100)), 200) for size in (1, 2, 63, 64)]
    calls += [call(order(item(size), rng.randint(1, 100)), 400) for size in (0, 65)]
    calls += [call(order(item(8), quantity), 200) for quantity in (1, 2, 99, 100)]
    calls += [call(order(item(8), quantity), 400) for quantity in (0, 101)]
    rng.shuffle(calls)
    return calls


def slow_checkout(rng: random.Random) -> Call:
    return checkout(rng, prefix=SLOW_PREFIX)


def mixed(rng: random.Random, *, users: int, unmatched_calls: int, ok: int, invalid: int, failing: int) -> list[Call]:
    calls = [user(rng) for _ in range(users)] + [unmatched(rng) for _ in range(unmatched_calls)]
    calls += [checkout(rng, 200) for _ in range(ok)] + [checkout(rng, 400) for _ in range(invalid)]
    calls += [checkout(rng, 502) for _ in range(failing)]
    rng.shuffle(calls)
    return calls


def send(shop: Shop, call: Call) -> Reply:
    """Sends one call and checks that the service still answers it as the README says."""
    reply = shop.request(call.method, call.target, headers=call.headers, body=call.body)
    if reply.status != call.status:
        fail(
            f"{call} answered {reply.status}",
            expected=f"{call.status}, as the README's table of the service says",
            got=f"{reply.status} {reply.body[:200].decode(errors='replace')}",
            hint="instrumenting must not change what the service answers",
        )
    if call.route == USERS and reply.status == 200:
        user_id = call.path.rsplit("/", 1)[1]
        wanted = {"id": user_id, "name": f"user {user_id}"}
        if reply.json() != wanted:
            fail(
                f"{call} answered the wrong user",
                expected=f"200 {json.dumps(wanted)}, as the README's table of the service says",
                got=f"{reply.status} {reply.body[:200].decode(errors='replace')}",
                hint="instrumenting must not change what the service answers",
            )
    return reply


def send_all(shop: Shop, calls: list[Call]) -> list[Reply]:
    return [send(shop, call) for call in calls]


def tally(calls: list[Call]) -> Counter[tuple[str, ...]]:
    return Counter(call.key for call in calls)


def new_trace(rng: random.Random) -> tuple[str, str, str]:
    """A seeded (trace id, parent id, traceparent header), neither id all zeros."""
    trace_id = f"{rng.getrandbits(128) | 1:032x}"
    parent_id = f"{rng.getrandbits(64) | 1:016x}"
    return trace_id, parent_id, f"00-{trace_id}-{parent_id}-01"
