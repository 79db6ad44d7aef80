"""Stage 5: persistent connections: many requests on one connection, pipelined ones answered in order."""

import json
import random
from typing import Literal

from httpchecks import expect_body, expect_echo, expect_file, expect_no_close_header, expect_status
from httpclient import HttpConnection
from httpwire import Response, chunked, request
from labkit.checks import fail
from site_files import Site

PERSISTENT = "HTTP/1.1 connections are persistent: after a response, read the next request on the same connection"
IDLE_GAP_S = 0.6
IDLE = (
    "HTTP/1.1 connections are persistent: after a response, wait for the next request on the same connection. Its "
    "1 s HEAD_TIMEOUT starts when you start waiting for it, not when the connection was accepted"
)
IN_ORDER = "answer pipelined requests one by one, in the order they arrived, keeping the bytes after each request"


def check_several_requests_on_one_connection(http, site, rng):
    """Five requests, one after the other and 0.6 s apart, on one connection"""
    conn = http()
    note = b"kept alive %d" % rng.randrange(1000)
    steps = [
        ("GET", "/index.html", None),
        ("POST", "/echo", b"first body"),
        ("PUT", "/note", note),
        ("GET", "/note", None),
        ("GET", "/style.css", None),
    ]
    answered = ""
    for method, target, body in steps:
        if answered:
            # Idle for most of the head limit: the 1 s restarts after each response, so a connection that lives past
            # 1 s in all is still served, and a client is not cut off before its 1 s.
            conn.expect_still_open(IDLE_GAP_S, f"the response to {answered}", hint=IDLE)
        what = answered = conn.send_request(method, target, body=body).what
        response = conn.expect_response(hint=PERSISTENT)
        expect_no_close_header(response, what)
        if target == "/echo":
            expect_echo(response, what, body=body)
        elif target == "/note":
            expect_status(response, 204 if method == "PUT" else 200, what)
            if method == "GET":
                expect_body(response, note, what)
        else:
            expect_file(response, site[target], what)
    conn.expect_still_open(0.1, "five requests and responses")


# What the response to a pipelined request must be: a file of the site, the echo of a body with these fields, or
# a status. A step is the request's bytes, what it is, and that expectation.
Expected = (
    tuple[Literal["file"], str] | tuple[Literal["echo"], bytes, list[tuple[str, str]]] | tuple[Literal["status"], int]
)
Step = tuple[bytes, str, Expected]


def pipeline(site: Site, rng: random.Random) -> list[Step]:
    """Requests of every kind, with what each response must be."""
    echo_body = b"pipelined %d" % rng.randrange(1000)
    parts = [b"chunk one, ", b"chunk two"]
    return [
        (request("GET", "/notes.txt"), "GET /notes.txt", ("file", "/notes.txt")),
        # An empty line after a body, as some clients send, is ignored before the next request line (RFC 9112 §2.2).
        (request("POST", "/echo", body=echo_body) + b"\r\n", "POST /echo", ("echo", echo_body, [])),
        (request("GET", "/logo.png"), "GET /logo.png", ("file", "/logo.png")),
        (request("GET", "/no-such-file.html"), "GET /no-such-file.html", ("status", 404)),
        (
            # Trailer fields are read up to the empty line: the next request starts right after it.
            request("POST", "/echo", [("Transfer-Encoding", "chunked")])
            + chunked(parts, trailers=[("X-Checksum", "abc123"), ("X-Count", "2")]),
            "POST /echo (chunked)",
            ("echo", b"".join(parts), [("Transfer-Encoding", "chunked")]),
        ),
        (request("GET", "/data.json"), "GET /data.json", ("file", "/data.json")),
        (request("GET", "/"), "GET /", ("file", "/index.html")),
        (request("POST", "/echo", body=b""), "POST /echo with an empty body", ("echo", b"", [])),
    ]


def send_pipeline(conn: HttpConnection, site: Site, rng: random.Random, split_first: bool = False) -> None:
    """Sends the pipeline in one write or, with ``split_first``, the first request in random pieces whose last
    one carries all the others (so what each read holds does not depend on timing)."""
    steps = pipeline(site, rng)
    data = b"".join(raw for raw, _, _ in steps)
    for raw, what, _ in steps:
        method, target = raw.split(b" ", 2)[:2]
        conn.expect_answer_to(what, method=method.decode(), target=target.decode())
    if split_first:
        cuts = rng.sample(range(1, len(steps[0][0])), 5)
        conn.send_pieces(data, cuts, note=f"{len(steps)} pipelined requests, the first one cut in pieces")
    else:
        conn.send(data, note=f"{len(steps)} pipelined requests in one write")
    for position, (_, what, expected) in enumerate(steps):
        response = conn.expect_response(hint=IN_ORDER)
        expect_in_order(response, position, steps, site)
        expect_no_close_header(response, what)
        if expected[0] == "file":
            expect_file(response, site[expected[1]], what)
        elif expected[0] == "echo":
            expect_echo(response, what, body=expected[1], headers=expected[2], hint=IN_ORDER)
        else:
            expect_status(response, expected[1], what, hint=IN_ORDER)


def carries(response: Response, expected: Expected, site: Site) -> bool:
    """True when the response's body is unmistakably the one for ``expected`` (a file, or an echo)."""
    if expected[0] == "file":
        return response.status == 200 and response.body == site[expected[1]].content
    if expected[0] == "echo":
        try:
            return bool(json.loads(response.body)["body"] == expected[1].decode())
        except (ValueError, KeyError, TypeError):
            return False
    return False


def expect_in_order(response: Response, position: int, steps: list[Step], site: Site) -> None:
    if carries(response, steps[position][2], site):
        return
    for other, (_, what, expected) in enumerate(steps):
        if other != position and carries(response, expected, site):
            fail(
                f"response {position + 1} of {len(steps)} answers request {other + 1} ({what}), not request "
                f"{position + 1} ({steps[position][1]})",
                got=response.summary(),
                hint=IN_ORDER,
            )


def check_pipelined_requests_are_answered_in_order(http, site, rng):
    """Eight pipelined requests in one write are answered in order"""
    conn = http(timeout=4.0)
    send_pipeline(conn, site, rng)
    conn.expect_still_open(0.1, "eight pipelined responses")


def check_pipelined_requests_after_a_split_one(http, site, rng):
    """A request cut in pieces, the last carrying seven more: all eight answered in order"""
    conn = http(timeout=4.0)
    send_pipeline(conn, site, rng, split_first=True)


def check_connection_survives_an_error_response(http, site):
    """A 404 does not end the connection, nor does an HTTP/1.9 request (HTTP/1.1 to this server)"""
    conn = http()
    expect_status(conn.exchange("GET", "/missing.css"), 404, "GET /missing.css")
    expect_file(conn.exchange("GET", "/style.css"), site["/style.css"], "GET /style.css after a 404")
    what = "GET /app.js HTTP/1.9"
    expect_file(conn.exchange("GET", "/app.js", version="HTTP/1.9", what=what), site["/app.js"], what)
    expect_file(conn.exchange("GET", "/data.json"), site["/data.json"], "GET /data.json after an HTTP/1.9 request")
