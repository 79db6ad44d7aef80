"""Stage 9: strong ETags, and If-None-Match answered with 304 Not Modified (RFC 9110 §8.8.3, §13.1.2, §15.4.5)."""

from httpchecks import expect_body, expect_file, expect_status, expect_strong_etag
from httpwire import Response
from labkit.checks import fail

NOT_MODIFIED = "If-None-Match matching the current ETag (or *) gets 304 with the ETag and no body (RFC 9110 §13.1.2)"


def expect_not_modified(response: Response, tag: str, length: int, what: str) -> None:
    """A 304 with the current ``tag``; a Content-Length, if sent, is the ``length`` the 200 would have."""
    expect_status(response, 304, what, hint=NOT_MODIFIED)
    if response.header("ETag") != tag:
        fail(
            f"the 304 response to {what} must carry the current ETag",
            expected=f"ETag: {tag}",
            got=f"ETag: {response.header('ETag')}" if response.header("ETag") else "no ETag field",
            hint="a 304 carries the fields a 200 would have had for caching: ETag at least (RFC 9110 §15.4.5)",
        )
    announced = response.header("Content-Length")
    if announced is not None and int(announced) != length:
        fail(
            f"the 304 response to {what} announces Content-Length: {announced}, but the 200 response would "
            f"carry {length} bytes",
            expected=f"no Content-Length field, or Content-Length: {length}",
            got=f"Content-Length: {announced}",
            hint="a 304 has no body, but a Content-Length on it tells a cache the length of the representation "
            "the 200 would carry (RFC 9110 §8.6): omit it, or send that length, never the 0 of the empty body",
        )


def check_files_carry_a_stable_strong_etag(http, site):
    """Files carry a strong ETag that stays the same and differs between files"""
    conn = http()
    first = expect_strong_etag(conn.exchange("GET", "/index.html"), "GET /index.html")
    again = expect_strong_etag(conn.exchange("GET", "/index.html"), "GET /index.html (again)")
    if again != first:
        fail(
            "the ETag of /index.html changed between two requests while the file did not",
            expected=first,
            got=again,
            hint="derive the ETag from the content, e.g. a hash of the bytes",
        )
    other = expect_strong_etag(conn.exchange("GET", "/style.css"), "GET /style.css")
    if other == first:
        fail(
            "/index.html and /style.css have different content but the same ETag",
            got=first,
            hint="a strong ETag changes whenever the bytes change: hash the content",
        )


def check_matching_etag_gets_304_without_a_body(http, site):
    """If-None-Match with the current ETag gets 304 and no body"""
    conn = http()
    tag = expect_strong_etag(conn.exchange("GET", "/app.js"), "GET /app.js")
    what = "GET /app.js with If-None-Match: <its ETag>"
    conn.send_request("GET", "/app.js", [("If-None-Match", tag)], what=what)
    conn.send_request("GET", "/notes.txt")
    expect_not_modified(conn.expect_response(hint=NOT_MODIFIED), tag, len(site["/app.js"].content), what)
    expect_file(conn.expect_response(hint="a 304 response has no body"), site["/notes.txt"])


def check_if_none_match_lists_wildcards_and_weak_tags(http, site):
    """Tag lists, * and W/ tags match; other tags get the full response"""
    conn = http()
    tag = expect_strong_etag(conn.exchange("GET", "/data.json"), "GET /data.json")
    length = len(site["/data.json"].content)
    for value, shown in (
        (f'"not-it", {tag}, "other"', '"not-it", <its ETag>, "other"'),
        ("*", "*"),
        (f"W/{tag}", "W/<its ETag>"),
        (f'"not-it",{tag}', '"not-it",<its ETag> (no space)'),
        (f'W/"not-it" ,\tW/{tag}', 'W/"not-it" ,<tab>W/<its ETag>'),
    ):
        what = f"GET /data.json with If-None-Match: {shown}"
        response = conn.exchange("GET", "/data.json", [("If-None-Match", value)], what=what)
        expect_not_modified(response, tag, length, what)
    for value, shown in (('"not-it"', '"not-it"'), (tag.strip('"'), "<its ETag> without the quotes")):
        what = f"GET /data.json with If-None-Match: {shown}"
        response = conn.exchange("GET", "/data.json", [("If-None-Match", value)], what=what)
        expect_file(response, site["/data.json"], what)
    what = "GET /missing.json with If-None-Match: *"
    response = conn.exchange("GET", "/missing.json", [("If-None-Match", "*")], what=what)
    expect_status(response, 404, what, hint="a path with no resource is 404, whatever If-None-Match says")
    head = conn.exchange(
        "HEAD", "/data.json", [("If-None-Match", tag)], what="HEAD /data.json with If-None-Match: <its ETag>"
    )
    expect_not_modified(head, tag, length, "HEAD /data.json with If-None-Match: <its ETag>")


def check_note_etag_follows_its_content(http, rng):
    """The ETag of /note changes with PUT, and old tags stop matching"""
    conn = http()
    first, second = b"first %d\n" % rng.randrange(1000), b"second %d\n" % rng.randrange(1000)
    expect_status(conn.exchange("PUT", "/note", body=first), 204, "PUT /note")
    old = expect_strong_etag(conn.exchange("GET", "/note"), "GET /note")
    expect_not_modified(
        conn.exchange("GET", "/note", [("If-None-Match", old)], what="GET /note with its ETag"),
        old,
        len(first),
        "GET /note with its ETag",
    )
    put = conn.exchange("PUT", "/note", body=second)
    expect_status(put, 204, "PUT /note with new content")
    new = expect_strong_etag(put, "PUT /note with new content")
    if new == old:
        fail(
            "PUT /note changed the note but its ETag stayed the same",
            got=new,
            hint="compute the ETag from the current content of the note",
        )
    what = "GET /note with the ETag it had before the PUT"
    response = conn.exchange("GET", "/note", [("If-None-Match", old)], what=what)
    expect_status(response, 200, what, hint="an old ETag no longer matches: send the new content")
    expect_body(response, second, what)
    if response.header("ETag") != new:
        fail(
            "GET /note after PUT returns another ETag than the PUT response announced",
            expected=new,
            got=response.header("ETag"),
        )
    expect_not_modified(
        conn.exchange("GET", "/note", [("If-None-Match", new)], what="GET /note with the new ETag"),
        new,
        len(second),
        "GET /note with the new ETag",
    )
