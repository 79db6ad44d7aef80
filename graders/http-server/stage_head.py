"""Stage 7: HEAD gets the head GET would get, Content-Length included, and no body."""

from httpchecks import expect_file, expect_status
from httpwire import Response
from labkit.checks import fail

SAME_FIELDS = ("Content-Type", "Content-Length", "ETag")
NO_BODY = "a response to HEAD is the GET response without its body: same fields, Content-Length included"


def expect_same_head(head_response: Response, get_response: Response, path: str) -> None:
    expect_status(head_response, get_response.status, f"HEAD {path}")
    for name in SAME_FIELDS:
        if head_response.header(name) != get_response.header(name):
            fail(
                f"the {name} of the response to HEAD {path} differs from the one GET {path} gets",
                expected=f"{name}: {get_response.header(name)}",
                got=f"{name}: {head_response.header(name)}" if head_response.header(name) else f"no {name} field",
                hint=NO_BODY,
            )


def check_head_has_the_get_fields_and_no_body(http, site):
    """HEAD / has the fields of GET / and no body"""
    conn = http()
    head = conn.exchange("HEAD", "/")
    conn.expect_still_open(0.05, "the response to HEAD /", hint=NO_BODY)
    get = conn.exchange("GET", "/")
    expect_file(get, site["/index.html"], "GET / after HEAD /")
    expect_same_head(head, get, "/")


def check_head_of_a_large_file(http, site):
    """HEAD of a 256 KiB file sends no body"""
    conn = http()
    head = conn.exchange("HEAD", "/logo.png")
    conn.expect_still_open(0.05, "the response to HEAD /logo.png", hint=NO_BODY)
    get = conn.exchange("GET", "/logo.png")
    expect_file(get, site["/logo.png"])
    expect_same_head(head, get, "/logo.png")


def check_pipelined_head_requests(http, site):
    """Pipelined HEAD, HEAD, GET are answered with two heads and one full response"""
    conn = http()
    for path in ("/notes.txt", "/data.json"):
        conn.send_request("HEAD", path)
    conn.send_request("GET", "/app.js")
    for path in ("/notes.txt", "/data.json"):
        response = conn.expect_response(hint=NO_BODY)
        expect_status(response, 200, f"HEAD {path}")
        if response.header("Content-Length") != str(len(site[path].content)):
            fail(
                f"the response to HEAD {path} must announce the Content-Length a GET would get",
                expected=f"Content-Length: {len(site[path].content)}",
                got=f"Content-Length: {response.header('Content-Length')}",
                hint=NO_BODY,
            )
    expect_file(conn.expect_response(hint=NO_BODY), site["/app.js"])


def check_head_of_a_missing_file_and_of_the_note(http):
    """HEAD of a missing file (404) and of /echo (405) get no body; HEAD /note gets 200 without one"""
    conn = http()
    expect_status(conn.exchange("HEAD", "/missing.txt"), 404, "HEAD /missing.txt")
    conn.expect_still_open(0.05, "the response to HEAD /missing.txt", hint=NO_BODY)
    refused = conn.exchange("HEAD", "/echo")
    expect_status(refused, 405, "HEAD /echo", hint="/echo supports only POST")
    conn.expect_still_open(0.05, "the 405 response to HEAD /echo", hint=NO_BODY + ", error responses too")
    head = conn.exchange("HEAD", "/note")
    conn.expect_still_open(0.05, "the response to HEAD /note", hint=NO_BODY)
    expect_same_head(head, conn.exchange("GET", "/note"), "/note")
