"""Stage 2: the request line and header fields: case-insensitive names, trimmed values, heads split anywhere."""

from httpchecks import expect_echo, expect_file, expect_status
from httpwire import MAX_HEAD, many_fields_head, request

FIELDS = [
    ("X-Lab", "plain"),
    ("x-padded", " \t spaced  value \t "),
    ("X-EMPTY", ""),
    ("X-Repeated", "first"),
    ("X-Repeated", "second"),
    ("Accept", "text/html, application/json;q=0.9"),
    ("Content-Length", "0"),
]
CASE_INSENSITIVE = "field names are case-insensitive (RFC 9110 §5.1): hOsT is the Host field; compare names lowercased"
EMPTY_LINES = "ignore any number of empty lines (CRLF) before a request line (RFC 9112 §2.2)"
VERSIONS = "echo the version as sent; HTTP/1.2 to HTTP/1.9 are served as HTTP/1.1"
EVERY_BYTE = range(1, 1 << 16)
TRIMMED = [(name, value.strip(" \t")) for name, value in FIELDS]


def check_echo_lists_every_field_line(http):
    """POST /echo describes the request line and every field line"""
    conn = http()
    conn.send_request("POST", "/echo?lang=en&x=1", FIELDS)
    expect_echo(
        conn.expect_response(),
        "POST /echo?lang=en&x=1",
        target="/echo?lang=en&x=1",
        fields=[("Host", "localhost"), *TRIMMED],
    )


def check_field_names_are_case_insensitive(http, site):
    """Field names are matched case-insensitively"""
    conn = http()
    conn.expect_answer_to("GET /notes.txt with the field hOsT", target="/notes.txt")
    conn.send(b"GET /notes.txt HTTP/1.1\r\nhOsT: localhost\r\n\r\n", note="Host spelt hOsT")
    response = conn.expect_response()
    expect_status(response, 200, "GET /notes.txt with the field hOsT", hint=CASE_INSENSITIVE)
    expect_file(response, site["/notes.txt"], "GET /notes.txt with the field hOsT")
    conn = http()
    data = b"POST /echo HTTP/1.1\r\nHOST: localhost\r\ncontent-LENGTH: 0\r\n\r\n"
    conn.expect_answer_to("POST /echo with HOST and content-LENGTH", method="POST", target="/echo")
    conn.send(data, note="field names in odd cases")
    expect_echo(
        conn.expect_response(hint=CASE_INSENSITIVE),
        "POST /echo with HOST and content-LENGTH",
        fields=[("HOST", "localhost"), ("content-LENGTH", "0")],
        hint=CASE_INSENSITIVE,
    )


def check_head_sent_one_byte_per_write(http, site):
    """A request head sent one byte per write is understood"""
    conn = http()
    conn.send_request("GET", "/app.js", [("User-Agent", "drip/1")], cuts=EVERY_BYTE, pause=0.0005)
    expect_file(conn.expect_response(), site["/app.js"])


def check_head_split_at_random_places(http, site, rng):
    """A head cut at random places across writes is understood"""
    headers = [("Accept", "*/*"), ("X-Trace", f"{rng.randrange(1 << 32):08x}")]
    size = len(request("GET", "/docs/guide.txt", headers))
    conn = http()
    conn.send_request("GET", "/docs/guide.txt", headers, cuts=rng.sample(range(1, size), 6))
    expect_file(conn.expect_response(), site["/docs/guide.txt"])


def check_query_is_not_part_of_the_file_name(http, site):
    """The query string does not change which file is served"""
    expect_file(http().exchange("GET", "/style.css?v=42&lang=en"), site["/style.css"], "GET /style.css?v=42&lang=en")


def check_empty_line_before_the_request_line_is_ignored(http, site):
    """Empty lines before a request line are ignored"""
    conn = http()
    conn.expect_answer_to("GET /data.json after an empty line", target="/data.json")
    conn.send(b"\r\n" + request("GET", "/data.json"), note="CRLF, then the request")
    expect_file(conn.expect_response(), site["/data.json"], "GET /data.json after an empty line")
    conn = http()  # any number of them
    conn.expect_answer_to("GET /data.json after two empty lines", target="/data.json")
    conn.send(b"\r\n\r\n" + request("GET", "/data.json"), note="CRLF CRLF, then the request")
    expect_file(conn.expect_response(hint=EMPTY_LINES), site["/data.json"], "GET /data.json after two empty lines")


def check_head_of_exactly_the_limit_is_accepted(http, site):
    """A head of exactly 8192 bytes is accepted"""
    base = request("GET", "/notes.txt", [("X-Pad", "")])
    padding = "p" * (MAX_HEAD - len(base))
    data = request("GET", "/notes.txt", [("X-Pad", padding)])
    assert len(data) == MAX_HEAD
    many = many_fields_head(MAX_HEAD, "/notes.txt")
    for head, shape in ((data, "one long field"), (many, f"{many.count(b'X-Field')} short fields")):
        what = f"GET /notes.txt with a {MAX_HEAD}-byte head of {shape}"
        conn = http()
        conn.expect_answer_to(what, target="/notes.txt")
        conn.send(head, note=f"a head of exactly {MAX_HEAD} bytes")
        hint = f"a head of {MAX_HEAD} bytes, counted up to the empty line, is the largest allowed"
        expect_file(conn.expect_response(hint=hint), site["/notes.txt"], what)


def check_http_1_0_request_is_answered_with_http_1_1(http, site):
    """HTTP/1.0 requests without Host, and HTTP/1.x ones, are answered; /echo reports the version sent"""
    conn = http()
    conn.expect_answer_to("GET /icon.svg HTTP/1.0", target="/icon.svg", version="HTTP/1.0", close=True)
    conn.send(b"GET /icon.svg HTTP/1.0\r\n\r\n", note="HTTP/1.0, no Host")
    expect_file(conn.expect_response(), site["/icon.svg"], "GET /icon.svg HTTP/1.0")
    for version in ("HTTP/1.0", "HTTP/1.7"):
        what = f"POST /echo {version}"
        conn = http()
        conn.send_request("POST", "/echo", body=b"which version?", version=version, what=what)
        expect_echo(conn.expect_response(hint=VERSIONS), what, body=b"which version?", version=version, hint=VERSIONS)
    what = "GET /notes.txt HTTP/1.9"
    expect_file(http().exchange("GET", "/notes.txt", version="HTTP/1.9", what=what), site["/notes.txt"], what)


def check_field_values_may_hold_bytes_0x80_to_0xff(http, site):
    """Field values with bytes 0x80-0xFF are accepted"""
    what = "GET /notes.txt with bytes 0x80-0xff in a field value"
    conn = http()
    conn.expect_answer_to(what, target="/notes.txt")
    conn.send(b"GET /notes.txt HTTP/1.1\r\nHost: localhost\r\nX-Latin: caf\xe9 \x80\xff\r\n\r\n", note=what)
    hint = "a field value may hold visible ASCII, spaces, tabs and bytes 0x80-0xFF (obs-text, RFC 9110 §5.5)"
    expect_file(conn.expect_response(hint=hint), site["/notes.txt"], what)
