"""Stage 4: chunked request bodies (RFC 9112 §7.1): sizes in hex, extensions and trailers, split anywhere."""

import random
from collections.abc import Callable, Sequence

from httpchecks import expect_body, expect_echo, expect_status
from httpclient import HttpConnection
from httpwire import chunked, request

CHUNKED = [("Transfer-Encoding", "chunked")]
DECODE = "decode Transfer-Encoding: chunked: hex size CRLF, data, CRLF, ... until size 0, then trailers and CRLF"


def words(rng: random.Random, count: int) -> bytes:
    return " ".join(rng.choice(["chunk", "size", "hex", "crlf", "trailer", "café"]) for _ in range(count)).encode()


def echo_chunked(
    http: Callable[..., HttpConnection],
    what: str,
    parts: Sequence[bytes],
    data: bytes,
    headers: Sequence[tuple[str, str]] = CHUNKED,
    cuts: Sequence[int] = (),
    timeout: float = 2.0,
) -> None:
    conn = http(timeout=timeout)
    conn.expect_answer_to(what, method="POST", target="/echo")
    if cuts:
        conn.send_pieces(data, cuts, pause=0.002, note=what)
    else:
        conn.send(data, note=what)
    expect_echo(conn.expect_response(hint=DECODE), what, headers=headers, body=b"".join(parts), hint=DECODE)


def check_chunked_body_is_decoded(http, rng):
    """A body of three chunks is decoded"""
    parts = [words(rng, 3), words(rng, 10), b"!"]
    data = request("POST", "/echo", CHUNKED) + chunked(parts)
    echo_chunked(http, "POST /echo with a chunked body of 3 chunks", parts, data)


def check_sizes_extensions_and_trailers(http, rng):
    """Uppercase hex, leading zeros, chunk extensions and trailer fields, one or two"""
    parts = [words(rng, 8), words(rng, 2), words(rng, 30)]
    for trailers in ([("X-Checksum", "abc123")], [("X-Checksum", "abc123"), ("X-Count", "3")]):
        body = chunked(parts, upper_hex=True, zero_pad=4, extensions=["name=value", 'q="a;b"'], trailers=trailers)
        what = f"POST /echo with chunk extensions and {len(trailers)} trailer field(s)"
        echo_chunked(http, what, parts, request("POST", "/echo", CHUNKED) + body)


def check_transfer_coding_name_is_case_insensitive(http, rng):
    """Transfer-Encoding: Chunked is chunked too"""
    parts = [words(rng, 5)]
    headers = [("transfer-encoding", "Chunked")]
    data = request("POST", "/echo", headers) + chunked(parts)
    echo_chunked(http, "POST /echo with transfer-encoding: Chunked", parts, data, headers=headers)


def check_empty_chunked_body(http):
    """A chunked body with no data chunks is empty"""
    data = request("POST", "/echo", CHUNKED) + chunked([])
    echo_chunked(http, "POST /echo with an empty chunked body (0 CRLF CRLF)", [], data)


def check_chunked_stream_split_at_random_places(http, rng):
    """A 40 KiB chunked body cut at random places is decoded"""
    parts = [words(rng, rng.randint(1, 2000)) for _ in range(12)]
    data = request("POST", "/echo", CHUNKED) + chunked(parts, extensions=["x=1"])
    cuts = rng.sample(range(1, len(data)), 20)
    echo_chunked(
        http,
        f"POST /echo with a chunked body of {len(parts)} chunks cut in 21 writes",
        parts,
        data,
        cuts=cuts,
        timeout=4.0,
    )


def cuts_inside_every_line(data: bytes, start: int) -> list[int]:
    """Cut points that split every CRLF-ended line of the chunked body at ``data[start:]`` three ways: after its
    first byte, before its CR and between its CR and LF. The grader's chunk data holds no CRLF, so every CRLF
    there ends a chunk-size line, chunk data, a trailer field or the body."""
    cuts = {start + 1}
    position = data.find(b"\r\n", start)
    while position >= 0:
        cuts |= {position, position + 1, position + 3}
        position = data.find(b"\r\n", position + 2)
    return sorted(cut for cut in cuts if cut < len(data))


def check_chunk_lines_split_across_writes(http, rng):
    """Chunk-size lines, the CRLF after chunk data and trailer lines that arrive in pieces are decoded"""
    parts = [words(rng, count) for count in (1, 9, 40, 3)]
    trailers = [("X-Checksum", "abc123"), ("X-Count", str(len(parts)))]
    head = request("POST", "/echo", CHUNKED)
    data = head + chunked(parts, upper_hex=True, zero_pad=3, extensions=["part=1"], trailers=trailers)
    cuts = cuts_inside_every_line(data, len(head))
    what = f"POST /echo with a chunked body whose every line is cut across {len(cuts) + 1} writes"
    conn = http(timeout=4.0)
    conn.expect_answer_to(what, method="POST", target="/echo")
    conn.send_pieces(data, cuts, note=what)
    hint = (
        "a chunk-size line, the CRLF after chunk data and a trailer line may each arrive over several reads: keep "
        "reading until the line's CRLF is in your buffer before you parse it, as you do for the head"
    )
    expect_echo(conn.expect_response(hint=hint), what, headers=CHUNKED, body=b"".join(parts), hint=hint)


def check_chunked_put_to_the_note(http, rng):
    """PUT /note with a chunked body stores the decoded body"""
    parts = [words(rng, 4), words(rng, 4)]
    conn = http()
    conn.expect_answer_to("PUT /note with a chunked body", method="PUT", target="/note")
    conn.send(request("PUT", "/note", CHUNKED) + chunked(parts), note="PUT /note, chunked")
    expect_status(conn.expect_response(hint=DECODE), 204, "PUT /note with a chunked body")
    response = http().exchange("GET", "/note")
    expect_status(response, 200, "GET /note")
    expect_body(response, b"".join(parts), "GET /note after a chunked PUT", hint=DECODE)
