"""Stage 6: Connection: close and HTTP/1.0: answer, say so, close; never answer what came after."""

from httpchecks import CLOSE_WITHIN_S, expect_body, expect_file, expect_status
from httpwire import Response, request
from labkit.checks import fail

PARTIAL = "a request cut short by the end of the stream is dropped: not answered, and it changes nothing"
CLOSE_HINT = "after answering a request with Connection: close, close the connection (RFC 9112 §9.6)"


def expect_close_announced(response: Response, what: str) -> None:
    expect_status(response, 200, what)
    if not response.closes:
        fail(
            f"the response to {what} does not carry Connection: close",
            got=response.header("Connection") or "no Connection field",
            hint="a server that is about to close a connection says so in its last response (RFC 9112 §9.6)",
        )


def check_connection_close_is_honoured(http, site):
    """Connection: close gets a response saying so, then the connection is closed"""
    conn = http()
    what = "GET /notes.txt with Connection: close"
    response = conn.exchange("GET", "/notes.txt", [("Connection", "close")], what=what)
    expect_close_announced(response, what)
    expect_file(response, site["/notes.txt"], what)
    conn.expect_closed(CLOSE_WITHIN_S, f"the response to {what}", hint=CLOSE_HINT)


def check_requests_after_close_are_not_answered(http, site):
    """Pipelined requests after Connection: close are not answered"""
    conn = http()
    data = (
        request("GET", "/style.css")
        + request("GET", "/app.js", [("Connection", "close")])
        + request("GET", "/data.json")
    )
    conn.expect_answer_to("GET /style.css (first of three pipelined requests)", target="/style.css")
    conn.expect_answer_to("GET /app.js with Connection: close (second)", target="/app.js", close=True)
    conn.send(data, note="three pipelined requests; the second asks to close")
    expect_file(conn.expect_response(), site["/style.css"], "GET /style.css")
    response = conn.expect_response()
    expect_close_announced(response, "GET /app.js with Connection: close")
    expect_file(response, site["/app.js"], "GET /app.js with Connection: close")
    conn.expect_closed(
        CLOSE_WITHIN_S,
        "the response to GET /app.js with Connection: close",
        hint="a request that arrives after Connection: close on the same connection is not answered",
    )


def check_close_is_a_case_insensitive_token_in_a_list(http, site):
    """connection: keep-alive, CLOSE asks to close too"""
    conn = http()
    what = "GET /icon.svg with connection: keep-alive, CLOSE"
    response = conn.exchange("GET", "/icon.svg", [("connection", "keep-alive, CLOSE")], what=what)
    expect_close_announced(response, what)
    expect_file(response, site["/icon.svg"], what)
    conn.expect_closed(CLOSE_WITHIN_S, f"the response to {what}", hint=CLOSE_HINT)
    conn = http()
    what = "GET /icon.svg with Connection: keep-alive, then a second line Connection: close"
    fields = [("Connection", "keep-alive"), ("Connection", "close")]
    response = conn.exchange("GET", "/icon.svg", fields, what=what)
    expect_close_announced(response, what)
    conn.expect_closed(CLOSE_WITHIN_S, f"the response to {what}", hint="several Connection lines form one list")


def check_http_1_0_connection_is_closed_after_the_response(http, site):
    """An HTTP/1.0 request is answered, then the connection is closed"""
    conn = http()
    conn.expect_answer_to("GET /notes.txt HTTP/1.0", target="/notes.txt", version="HTTP/1.0", close=True)
    conn.send(b"GET /notes.txt HTTP/1.0\r\n\r\n", note="HTTP/1.0")
    expect_file(conn.expect_response(), site["/notes.txt"], "GET /notes.txt HTTP/1.0")
    conn.expect_closed(
        CLOSE_WITHIN_S,
        "the response to an HTTP/1.0 request",
        hint="HTTP/1.0 connections are not persistent unless negotiated; this lab closes them after one response",
    )


def check_client_half_close_still_gets_its_responses(http, site):
    """Requests followed by the client's FIN are still answered; a partial one is dropped"""
    conn = http()
    conn.send_request("GET", "/docs/guide.txt")
    conn.send_request("POST", "/echo", body=b"last words")
    conn.shutdown_write()
    hint = "the client has stopped sending, not reading: answer every complete request you hold, then close"
    expect_file(conn.expect_response(hint=hint), site["/docs/guide.txt"])
    expect_status(conn.expect_response(hint=hint), 200, "POST /echo with a body of 10 bytes", hint=hint)
    conn.expect_closed(
        CLOSE_WITHIN_S,
        "the client shut down its side and was answered",
        hint="once the client has sent FIN and everything is answered, close the connection",
    )
    note = http().exchange("GET", "/note")
    expect_status(note, 200, "GET /note")
    conn = http()
    partial = b"PUT /note HTTP/1.1\r\nHost: localhost\r\nContent-Length: 50\r\n\r\nonly ten b"
    conn.send(partial, note="PUT /note announcing 50 body bytes, 10 sent")
    conn.shutdown_write()
    conn.expect_closed(CLOSE_WITHIN_S, "a PUT whose body ended early with FIN", hint=PARTIAL)
    expect_body(http().exchange("GET", "/note"), note.body, "GET /note after an unfinished PUT /note", hint=PARTIAL)
