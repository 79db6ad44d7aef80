"""Stage 3: request bodies framed by Content-Length, however the bytes are split across reads."""

import random

from httpchecks import expect_body, expect_content_type, expect_echo, expect_status
from httpwire import letters, request

WHOLE_BODY = "read exactly Content-Length bytes after the head, however many reads that takes"


def text(rng: random.Random, size: int) -> bytes:
    """``size`` random letters after a few multi-byte UTF-8 characters, so bytes and characters differ."""
    return "café ✓ ".encode() + letters(rng, size)


def check_post_body_is_echoed(http, rng):
    """POST /echo returns the body it was sent"""
    body = b"hello, " + text(rng, 40)
    conn = http()
    conn.send_request("POST", "/echo", [("Content-Type", "text/plain")], body)
    expect_echo(
        conn.expect_response(hint=WHOLE_BODY),
        f"POST /echo with a body of {len(body)} bytes",
        headers=[("Content-Type", "text/plain")],
        body=body,
        hint=WHOLE_BODY,
    )


def check_body_arriving_after_the_head(http, rng):
    """A body sent in a later write than the head is read"""
    body = text(rng, 300)
    data = request("POST", "/echo", body=body)
    head_size = len(data) - len(body)
    conn = http()
    # 0.1 s: the longest pause the README lets the grader make inside a body
    conn.send_request("POST", "/echo", body=body, cuts=[head_size, head_size + 100], pause=0.1)
    expect_echo(
        conn.expect_response(hint=WHOLE_BODY),
        f"POST /echo with a body of {len(body)} bytes in 2 late writes",
        body=body,
        hint=WHOLE_BODY,
    )


def check_body_split_inside_the_head_and_the_body(http, rng):
    """A request cut at four random places in the head and four in the body is read whole"""
    body = text(rng, 2000)
    size = len(request("POST", "/echo", [("content-length", str(len(body)))], body))
    head_size = size - len(body)
    conn = http()
    cuts = rng.sample(range(1, head_size), 4) + rng.sample(range(head_size + 1, size), 4)
    conn.send_request("POST", "/echo", [("content-length", str(len(body)))], body, cuts=cuts)
    expect_echo(
        conn.expect_response(hint=WHOLE_BODY),
        f"POST /echo with a body of {len(body)} bytes cut in 9 writes",
        headers=[("content-length", str(len(body)))],
        body=body,
        hint=WHOLE_BODY,
    )


def check_large_body_is_read_completely(http, rng):
    """A 300 KiB body is read completely"""
    body = text(rng, 300 * 1024)
    conn = http(timeout=5.0)
    conn.send_request("POST", "/echo", body=body)
    expect_echo(
        conn.expect_response(hint=WHOLE_BODY),
        f"POST /echo with a body of {len(body)} bytes",
        body=body,
        hint=WHOLE_BODY,
    )


def check_requests_without_a_body(http):
    """Content-Length: 0 and a POST without any length have empty bodies"""
    conn = http()
    conn.send_request("POST", "/echo", [("Content-Length", "0")])
    expect_echo(conn.expect_response(), "POST /echo with Content-Length: 0", headers=[("Content-Length", "0")])
    conn = http()
    conn.send_request("POST", "/echo", [("X-Note", "no length")])
    expect_echo(
        conn.expect_response(hint="a request without Content-Length or Transfer-Encoding has no body"),
        "POST /echo without Content-Length",
        headers=[("X-Note", "no length")],
    )


def check_put_replaces_the_note(http, rng):
    """PUT /note stores the body: 204, then GET /note returns it"""
    body = b"note " + text(rng, 120)
    conn = http()
    conn.send_request("PUT", "/note", [("Content-Type", "text/plain")], body)
    response = conn.expect_response(hint=WHOLE_BODY)
    expect_status(response, 204, f"PUT /note with a body of {len(body)} bytes", hint="PUT /note answers 204 No Content")
    response = http().exchange("GET", "/note")
    expect_status(response, 200, "GET /note")
    expect_content_type(response, "text/plain; charset=utf-8", "GET /note")
    expect_body(response, body, "GET /note after PUT /note", hint=WHOLE_BODY)
