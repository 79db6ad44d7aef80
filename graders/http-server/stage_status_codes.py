"""Stage 8: the error statuses: 404, 405 with Allow, 400 for malformed requests, 413, 431, 501 and 505."""

from collections.abc import Callable

from httpchecks import expect_allow, expect_echo, expect_error_and_close, expect_file, expect_status
from httpclient import HttpConnection
from httpwire import MAX_BODY, MAX_HEAD, chunked, letters, many_fields_head, request
from labkit.checks import fail

GET_ROOT = b"GET / HTTP/1.1\r\nHost: localhost\r\n"
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
    # The rules, not one instance of each: every separator, control byte, version shape and spelling of Host.
    (b"GET  / HTTP/1.1\r\nHost: localhost\r\n\r\n", "two spaces between the method and the target"),
    (b"GET / HTTP/1.1 \r\nHost: localhost\r\n\r\n", "a space after the version"),
    (b"GET /a\x01b HTTP/1.1\r\nHost: localhost\r\n\r\n", "a control byte 0x01 in the target"),
    (b"GET /a\x7fb HTTP/1.1\r\nHost: localhost\r\n\r\n", "a DEL byte 0x7f in the target"),
    (b"GET / HTTP/1.10\r\nHost: localhost\r\n\r\n", "the version HTTP/1.10 (two digits)"),
    (b"GET / HTTP/10.0\r\nHost: localhost\r\n\r\n", "the version HTTP/10.0 (two digits)"),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nhost: example.com\r\n\r\n", "Host and host (two Host fields)"),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Test\t: 1\r\n\r\n", "a tab between a field name and its colon"),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\n: no name\r\n\r\n", "a field line with an empty name"),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nX@Test: 1\r\n\r\n", "an @ in a field name"),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Folded: a\r\n\tb\r\n\r\n", "a field line folded with a tab"),
    *(
        (GET_ROOT + b"X-Bad: a%sb\r\n\r\n" % bytes([byte]), f"byte 0x{byte:02x} in a field value")
        for byte in (0x01, 0x0D, 0x0A, 0x1F, 0x7F)
    ),
]
CHUNKED = [("Transfer-Encoding", "chunked")]
HEAD_ONLY = b"POST /echo HTTP/1.1\r\nHost: localhost\r\n"
HELLO_CHUNKS = b"\r\nhello\r\n0\r\n\r\n"  # after a chunk size that a lenient parser reads as 5
BAD_FRAMING = [
    (HEAD_ONLY + b"Content-Length: abc\r\n\r\n", "Content-Length: abc"),
    (HEAD_ONLY + b"Content-Length: -1\r\n\r\n", "Content-Length: -1"),
    (HEAD_ONLY + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n", "two different Content-Length fields"),
    (HEAD_ONLY + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", "Transfer-Encoding and Content-Length"),
    (HEAD_ONLY + b"Transfer-Encoding: chunked\r\n\r\nxyz\r\n", "a chunk size that is not hex (xyz)"),
    (HEAD_ONLY + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX", "chunk data not followed by CRLF"),
    # Each of these carries a body that a lenient parser would read, so that the bug earns a 200, not a timeout.
    (HEAD_ONLY + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", "two equal Content-Length fields"),
    (HEAD_ONLY + b"Content-Length: 5, 5\r\n\r\nhello", "Content-Length: 5, 5"),
    (HEAD_ONLY + b"Content-Length: +5\r\n\r\nhello", "Content-Length: +5"),
    (HEAD_ONLY + b"Content-Length: 1.5\r\n\r\nh", "Content-Length: 1.5"),
    (HEAD_ONLY + b"Content-Length:\r\n\r\n", "an empty Content-Length"),
    (
        HEAD_ONLY + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "Content-Length, then Transfer-Encoding",
    ),
    *(
        (HEAD_ONLY + b"Transfer-Encoding: chunked\r\n\r\n" + size + HELLO_CHUNKS, f"a chunk size {size.decode()}")
        for size in (b"0x5", b"+5", b"-5", b"5 5")
    ),
]
BAD_REQUEST = "a malformed request gets 400 with Connection: close, and the connection is closed"
CODINGS = (
    "chunked is the only transfer coding this server knows: the list of every Transfer-Encoding field must be "
    "exactly chunked"
)
DOT_SEGMENTS = "a path with an empty, . or .. segment is 404, even when it would stay inside the document root"
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
    # Segments that stay inside the document root are refused too: the rule is about the path, not where it leads.
    conn = http()
    for target in ("/docs/../index.html", "/./index.html", "/docs/./guide.txt", "/docs//guide.txt"):
        expect_status(conn.exchange("GET", target), 404, f"GET {target}", hint=DOT_SEGMENTS)


def check_wrong_methods_are_405_with_allow(http, site):
    """A method the resource does not support is 405 with Allow; the body is skipped"""
    conn = http()
    cases = [
        ("POST", "/index.html", b"hello", {"GET", "HEAD"}),
        ("GET", "/echo", None, {"POST"}),
        ("DELETE", "/note", None, {"GET", "HEAD", "PUT"}),
        ("PUT", "/style.css", b"body: { color: red }", {"GET", "HEAD"}),
        ("POST", "/", b"x=1", {"GET", "HEAD"}),
        ("PUT", "/echo", b"not here", {"POST"}),
    ]
    for method, target, body, allowed in cases:
        what = f"{method} {target}" + (f" with a body of {len(body)} bytes" if body else "")
        response = conn.exchange(method, target, body=body, what=what)
        expect_status(response, 405, what, hint=f"{target} supports only {', '.join(sorted(allowed))}")
        expect_allow(response, allowed, what)
    what = "PUT /index.html with a chunked body"  # read and discarded whatever its framing
    response = conn.exchange("PUT", "/index.html", CHUNKED, chunked([b"chunked ", b"and refused"]), what=what)
    expect_status(response, 405, what, hint="read the chunked body of a refused request too, then answer 405")
    expect_allow(response, {"GET", "HEAD"}, what)
    expect_file(conn.exchange("GET", "/style.css"), site["/style.css"], "GET /style.css after seven 405 responses")


def check_unknown_methods_and_codings_are_501(http):
    """Unknown methods and transfer codings are 501, then the connection is closed"""
    hint = "a method other than GET, HEAD, POST, PUT and DELETE is 501; methods are case-sensitive"
    for data, what in (
        (request("BREW", "/"), "BREW /"),
        (request("get", "/"), "get / (methods are case-sensitive)"),
    ):
        expect_error_and_close(send_raw(http, data, what, method=what.split()[0]), 501, what, hint=hint)
    body = b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n"  # chunked, so that reading the coding as chunked earns a 200
    for codings, what in (
        (b"Transfer-Encoding: gzip", "Transfer-Encoding: gzip"),
        (b"Transfer-Encoding: gzip, chunked", "Transfer-Encoding: gzip, chunked"),
        (b"Transfer-Encoding: chunked, gzip", "Transfer-Encoding: chunked, gzip"),
        (b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked", "Transfer-Encoding: gzip, then another: chunked"),
    ):
        what = f"POST /echo with {what}"
        conn = send_raw(http, HEAD_ONLY + codings + body, what, method="POST")
        expect_error_and_close(conn, 501, what, hint=CODINGS)


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
    """HTTP/2.0, HTTP/3.0, HTTP/0.9 and HTTP/9.1 request lines are 505"""
    for version in ("HTTP/2.0", "HTTP/3.0", "HTTP/0.9", "HTTP/9.1"):
        what = f"GET / {version}"
        conn = send_raw(http, f"GET / {version}\r\nHost: localhost\r\n\r\n".encode(), what)
        expect_error_and_close(conn, 505, what, hint="a well-formed version whose major number is not 1 is 505")


def check_oversize_bodies_are_413_without_reading_them(http):
    """Bodies over 1 MiB are refused with 413 before they are sent"""
    cases = [
        (HEAD_ONLY + b"Content-Length: 1099511627776\r\n\r\n", "Content-Length: 1099511627776 (1 TiB)"),
        (HEAD_ONLY + b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1), f"Content-Length: {MAX_BODY + 1}"),
        (HEAD_ONLY + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % (MAX_BODY + 1), "a chunk size of 1 MiB + 1"),
        (
            HEAD_ONLY + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n%x\r\n" % (MAX_BODY - 4),
            "a chunk of 5 bytes, then a chunk size that takes the body to 1 MiB + 1",
        ),
    ]
    for data, what in cases:
        conn = send_raw(http, data, f"a request announcing {what} (and no body)", method="POST")
        expect_error_and_close(conn, 413, f"a request announcing {what}", hint=TOO_LARGE)


def check_body_of_exactly_the_limit_is_accepted(http, rng):
    """A body of exactly 1 MiB is accepted"""
    body = letters(rng, MAX_BODY)
    hint = f"{MAX_BODY} bytes is the largest allowed body, not the first refused"
    conn = http(timeout=5.0)
    conn.send_request("POST", "/echo", body=body)
    expect_echo(conn.expect_response(), f"POST /echo with a body of {MAX_BODY} bytes", body=body, hint=hint)
    half = MAX_BODY // 2 + 1  # two chunks, so that only their sum reaches the limit
    what = f"POST /echo with a chunked body of {MAX_BODY} bytes in two chunks"
    conn = http(timeout=5.0)
    conn.expect_answer_to(what, method="POST", target="/echo")
    conn.send(request("POST", "/echo", CHUNKED) + chunked([body[:half], body[half:]]), note=what)
    expect_echo(conn.expect_response(), what, headers=CHUNKED, body=body, hint=hint)


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
    many = many_fields_head(MAX_HEAD + 1)
    cases.append(
        (
            many,
            f"a complete head of {MAX_HEAD + 1} bytes in {many.count(b'X-Field')} short fields",
            "the limit is on the whole head, every field line together, not on one line",
        )
    )
    for data, what, hint in cases:
        expect_error_and_close(send_raw(http, data, what), 431, what, hint=hint)
