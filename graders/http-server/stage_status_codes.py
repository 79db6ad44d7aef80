"""Stage 8: the error statuses: 404, 405 with Allow, 400 for malformed requests, 413, 431, 501 and 505."""

from collections.abc import Callable

from httpchecks import expect_allow, expect_echo, expect_error_and_close, expect_file, expect_status
from httpclient import HttpConnection
from httpwire import MAX_BODY, MAX_HEAD, letters, request
from labkit.checks import fail

MALFORMED = [
    (b"GET /index.html\r\n\r\n", "a request line without a version"),
    (b"GET / http/1.1\r\nHost: localhost\r\n\r\n", "the version in lowercase (http/1.1)"),
    (b"GET / HTTP/1.x\r\nHost: localhost\r\n\r\n", "the version HTTP/1.x"),
    (b"GET /a b HTTP/1.1\r\nHost: localhost\r\n\r\n", "a space inside the target"),
    (b"G(T / HTTP/1.1\r\nHost: localhost\r\n\r\n", "a method with a ( in it"),
    (b"GET / HTTP/1.1\r\n\r\n", "an HTTP/1.1 request without Host"),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: example.com\r\n\r\n", "two Host fields"),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nNo colon here\r\n\r\n", "a field line without a colon"),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Test : 1\r\n\r\n", "a space between a field name and its colon"),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Folded: a\r\n  b\r\n\r\n", "a folded field line (obs-fold)"),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Bad: a\x00b\r\n\r\n", "a NUL byte in a field value"),
]
HEAD_ONLY = b"POST /echo HTTP/1.1\r\nHost: localhost\r\n"
BAD_FRAMING = [
    (HEAD_ONLY + b"Content-Length: abc\r\n\r\n", "Content-Length: abc"),
    (HEAD_ONLY + b"Content-Length: -1\r\n\r\n", "Content-Length: -1"),
    (HEAD_ONLY + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n", "two different Content-Length fields"),
    (HEAD_ONLY + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", "Transfer-Encoding and Content-Length"),
    (HEAD_ONLY + b"Transfer-Encoding: chunked\r\n\r\nxyz\r\n", "a chunk size that is not hex (xyz)"),
    (HEAD_ONLY + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX", "chunk data not followed by CRLF"),
]
BAD_REQUEST = "a malformed request gets 400 with Connection: close, and the connection is closed"
TOO_LARGE = "decide from Content-Length (or the chunk size) alone: answer 413 without reading or waiting for the body"


def send_raw(http: Callable[..., HttpConnection], data: bytes, what: str, method: str = "GET") -> HttpConnection:
    conn = http()
    conn.expect_answer_to(what, method=method)
    conn.send(data, note=what)
    return conn


def check_missing_paths_are_404_and_the_connection_stays_open(http, site):
    """Missing files and folders are 404; the connection stays open"""
    conn = http()
    for path in ("/missing.html", "/docs", "/docs/", "/index.html/more"):
        expect_status(conn.exchange("GET", path), 404, f"GET {path}", hint="only regular files are served")
    expect_status(
        conn.exchange("POST", "/missing.html", body=b"x"),
        404,
        "POST /missing.html",
        hint="a resource that does not exist is 404 whatever the method",
    )
    expect_file(conn.exchange("GET", "/"), site["/index.html"], "GET / after five 404 responses")


def check_paths_cannot_escape_the_document_root(http, site):
    """Paths with .. segments never leave the document root"""
    for target in ("/../secret.txt", "/docs/../../secret.txt", "/%2e%2e/secret.txt"):
        response = http().exchange("GET", target)
        if site.secret in response.body:
            fail(
                f"GET {target} served a file from outside the document root",
                got=f"{response.status_line} with the content of ../secret.txt",
                hint="refuse any path with a .. segment before you touch the file system (404)",
            )
        expect_status(response, 404, f"GET {target}", hint="a path with a .. segment is answered 404")


def check_wrong_methods_are_405_with_allow(http, site):
    """A method the resource does not support is 405 with Allow; the body is skipped"""
    conn = http()
    cases = [
        ("POST", "/index.html", b"hello", {"GET", "HEAD"}),
        ("GET", "/echo", None, {"POST"}),
        ("DELETE", "/note", None, {"GET", "HEAD", "PUT"}),
        ("PUT", "/style.css", b"body: { color: red }", {"GET", "HEAD"}),
    ]
    for method, target, body, allowed in cases:
        what = f"{method} {target}" + (f" with a body of {len(body)} bytes" if body else "")
        response = conn.exchange(method, target, body=body, what=what)
        expect_status(response, 405, what, hint=f"{target} supports only {', '.join(sorted(allowed))}")
        expect_allow(response, allowed, what)
    expect_file(conn.exchange("GET", "/style.css"), site["/style.css"], "GET /style.css after four 405 responses")


def check_unknown_methods_and_codings_are_501(http):
    """Unknown methods and transfer codings are 501, then the connection is closed"""
    hint = "a method other than GET, HEAD, POST, PUT and DELETE is 501; methods are case-sensitive"
    for data, what in (
        (request("BREW", "/"), "BREW /"),
        (request("get", "/"), "get / (methods are case-sensitive)"),
    ):
        expect_error_and_close(send_raw(http, data, what, method=what.split()[0]), 501, what, hint=hint)
    what = "POST /echo with Transfer-Encoding: gzip"
    conn = send_raw(http, HEAD_ONLY + b"Transfer-Encoding: gzip\r\n\r\n", what, method="POST")
    expect_error_and_close(conn, 501, what, hint="chunked is the only transfer coding this server knows")


def check_malformed_requests_are_400(http):
    """Malformed request lines and field lines are 400, then the connection is closed"""
    for data, what in MALFORMED:
        expect_error_and_close(
            send_raw(http, data, f"a request with {what}"), 400, f"a request with {what}", hint=BAD_REQUEST
        )


def check_malformed_body_framing_is_400(http):
    """Invalid Content-Length and broken chunked bodies are 400, then the connection is closed"""
    for data, what in BAD_FRAMING:
        conn = send_raw(http, data, f"a request with {what}", method="POST")
        expect_error_and_close(conn, 400, f"a request with {what}", hint=BAD_REQUEST)


def check_unsupported_http_version_is_505(http):
    """HTTP/2.0 and HTTP/3.0 request lines are 505"""
    for version in ("HTTP/2.0", "HTTP/3.0"):
        what = f"GET / {version}"
        conn = send_raw(http, f"GET / {version}\r\nHost: localhost\r\n\r\n".encode(), what)
        expect_error_and_close(conn, 505, what, hint="a well-formed version whose major number is not 1 is 505")


def check_oversize_bodies_are_413_without_reading_them(http):
    """Bodies over 1 MiB are refused with 413 before they are sent"""
    cases = [
        (HEAD_ONLY + b"Content-Length: 1099511627776\r\n\r\n", "Content-Length: 1099511627776 (1 TiB)"),
        (HEAD_ONLY + b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1), f"Content-Length: {MAX_BODY + 1}"),
        (HEAD_ONLY + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % (MAX_BODY + 1), "a chunk size of 1 MiB + 1"),
    ]
    for data, what in cases:
        conn = send_raw(http, data, f"a request announcing {what} (and no body)", method="POST")
        expect_error_and_close(conn, 413, f"a request announcing {what}", hint=TOO_LARGE)


def check_body_of_exactly_the_limit_is_accepted(http, rng):
    """A body of exactly 1 MiB is accepted"""
    body = letters(rng, MAX_BODY)
    conn = http(timeout=5.0)
    conn.send_request("POST", "/echo", body=body)
    expect_echo(
        conn.expect_response(),
        f"POST /echo with a body of {MAX_BODY} bytes",
        body=body,
        hint=f"{MAX_BODY} bytes is the largest allowed body, not the first refused",
    )


def check_oversize_heads_are_431(http):
    """Heads over 8192 bytes are refused with 431, even before they end"""
    base = request("GET", "/", [("X-Pad", "")])
    complete = request("GET", "/", [("X-Pad", "p" * (MAX_HEAD + 1 - len(base)))])
    unfinished = complete[: MAX_HEAD + 1 - 4] + b"pppp"
    assert len(complete) == len(unfinished) == MAX_HEAD + 1
    cases = [
        (
            complete,
            f"a complete head of {MAX_HEAD + 1} bytes",
            "the head limit counts every byte up to and including the empty line that ends it",
        ),
        (
            unfinished,
            f"{MAX_HEAD + 1} bytes of a head that has not ended",
            "once you hold more than 8192 bytes without the end of the head, answer 431 without waiting for the rest",
        ),
    ]
    for data, what, hint in cases:
        expect_error_and_close(send_raw(http, data, what), 431, what, hint=hint)
