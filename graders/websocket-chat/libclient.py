"""Conformant traffic through a real, well-kept client library (websockets), with its errors turned into
verdicts a learner can act on, and a chat client that checks every event against the README's schema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TypeAlias, TypedDict

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidHeader, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from labkit.checks import fail, log
from labkit.ports import LOOPBACK
from labkit.render import escape_bytes
from wsframes import MAX_MESSAGE, describe_code

# A chat event: a JSON object with a "type" (README: Chat events).
Event: TypeAlias = dict[str, object]


def closed_text(error: ConnectionClosed) -> str:
    """What the library saw when the connection ended, in plain words."""
    if error.rcvd is not None:
        reason = f" and reason {error.rcvd.reason!r}" if error.rcvd.reason else ""
        return f"your server closed the connection with status {describe_code(error.rcvd.code)}{reason}"
    if error.sent is not None:
        why = error.sent.reason or describe_code(error.sent.code)
        return f"the websockets client gave up on the connection because of what your server sent ({why})"
    return "the TCP connection ended without a closing handshake"


class OpenOptions(TypedDict, total=False):
    """How ``LibClient.open`` connects, besides where."""

    max_queue: int | None


class LibClient:
    """A websockets client connection to the learner's server."""

    def __init__(self, ws: ClientConnection, label: str) -> None:
        self.ws = ws
        self.label = label

    @classmethod
    def open(cls, port: int, path: str, *, label: str, max_queue: int | None = 16) -> LibClient:
        uri = f"ws://{LOOPBACK}:{port}{path}"
        try:
            ws = connect(
                uri,
                legacy=True,
                proxy=None,
                open_timeout=2,
                close_timeout=1,
                ping_interval=None,
                max_size=4 * MAX_MESSAGE,
                max_queue=max_queue,
            )
        except InvalidStatus as error:
            fail(
                f"{label}: your server refused the upgrade to {path} with HTTP {error.response.status_code}",
                expected="HTTP/1.1 101 Switching Protocols",
                got=f"{error.response.status_code} {error.response.reason_phrase}",
                hint="see the README's Opening handshake section for what makes a request valid",
            )
        except InvalidHandshake as error:
            fail(
                f"{label}: the websockets client rejected your server's handshake: {rejection(error)}",
                hint="the raw handshake checks of the handshake stage show the exact bytes expected",
            )
        except TimeoutError:
            fail(
                f"{label}: no complete handshake response from your server within 2 s",
                hint="serve every connection at once: a fixed pool of workers leaves later clients waiting",
            )
        except OSError as error:
            fail(f"{label} could not connect to your server: {error.strerror or error}")
        log(f"{label}: connected to {path} with the websockets client")
        return cls(ws, label)

    def send(self, message: str | bytes | list[str] | list[bytes], *, note: str = "") -> None:
        shown = message if isinstance(message, list) else escape_bytes(_bytes(message), 80)
        log(f"{self.label} → {note or 'message'}: {shown}")
        try:
            self.ws.send(message)
        except ConnectionClosed as error:
            # The next recv reports it, after any message that arrived first: when the send fails is timing.
            log(f"{self.label}: could not send it all: {closed_text(error)}")

    def recv(self, what: str, *, timeout: float = 2.0, hint: str | None = None) -> str | bytes:
        try:
            message = self.ws.recv(timeout=timeout)
        except TimeoutError:
            log(f"{self.label}: nothing within {timeout:g} s")
            fail(
                f"{self.label} waited {timeout:g} s for {what} and got nothing",
                hint=hint or "send it as soon as it is due; see the transcript with -v for what was sent",
            )
        except ConnectionClosed as error:
            log(f"{self.label}: {closed_text(error)}")
            fail(f"{self.label} was waiting for {what}, but {closed_text(error)}", hint=hint)
        log(f"{self.label} ← {escape_bytes(_bytes(message), 120)}")
        return message

    def expect_message(self, expected: str | bytes, what: str, *, hint: str | None = None) -> None:
        got = self.recv(what, hint=hint)
        if type(got) is not type(expected):
            fail(
                f"{self.label} expected {what} as a {_kind(expected)} message, got a {_kind(got)} message",
                hint="echo a message with the opcode it came with: text as text (0x1), binary as binary (0x2)",
            )
        if got != expected:
            # No bytes in the verdict: the library masks with random keys, so garbled bytes differ run to run.
            size, wanted = len(_bytes(got)), len(_bytes(expected))
            fail(
                f"{self.label} received {what} with {size} bytes instead of {wanted}"
                if size != wanted
                else f"{self.label} received {what} with the right length but different bytes",
                hint=hint or "the raw-frame checks of this stage show the bytes exactly; see the transcript with -v",
            )

    def ping(self, payload: bytes, *, timeout: float = 2.0) -> bool:
        """Sends a Ping through the library; True when the matching Pong came back in time."""
        log(f"{self.label} → Ping {escape_bytes(payload)}")
        try:
            return self.ws.ping(payload).wait(timeout)
        except ConnectionClosed as error:
            fail(f"{self.label} could not send a Ping: {closed_text(error)}")

    def close_socket(self) -> None:
        """Teardown: drop the connection without waiting for the server."""
        self.ws.close_socket()
        self.ws.recv_events_thread.join(1.0)


class ChatClient(LibClient):
    """A chat member: sends chat messages, and reads events as JSON objects checked against the schema."""

    def __init__(self, ws: ClientConnection, label: str, name: str) -> None:
        super().__init__(ws, label)
        self.name = name

    def say(self, text: str) -> None:
        self.send(json.dumps({"type": "message", "text": text}), note="chat message")

    def event(self, what: str, *, timeout: float = 2.0, hint: str | None = None) -> Event:
        message = self.recv(what, timeout=timeout, hint=hint)
        if isinstance(message, bytes):
            fail(f"{self.label} received a binary message; chat events are text messages (opcode 0x1) of JSON")
        try:
            event = json.loads(message)
        except ValueError:
            fail(f"{self.label} received a text message that is not JSON", got=escape_bytes(message.encode(), 120))
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            fail(f"{self.label} received JSON that is not an event object with a type", got=message[:200])
        if isinstance(event.get("members"), list) and all(isinstance(name, str) for name in event["members"]):
            event["members"] = sorted(event["members"])  # any order is allowed
        return event

    def expect(
        self, expected: Mapping[str, object], what: str, *, timeout: float = 2.0, hint: str | None = None
    ) -> Event:
        got = self.event(what, timeout=timeout, hint=hint)
        if got != expected:
            fail(
                f"{self.label} expected {what}",
                expected=show(expected),
                got=show(got),
                hint=hint or event_hint(expected, got, self.name),
            )
        return got


def rejection(error: InvalidHandshake) -> str:
    """Why the library refused the handshake, without header values (they depend on its random key)."""
    if isinstance(error, InvalidHeader):
        return f"the {error.name} header is missing" if error.value is None else f"the {error.name} header is wrong"
    return str(error)


def show(event: Mapping[str, object]) -> str:
    text = json.dumps(event, ensure_ascii=False)
    return text if len(text) <= 200 else text[:200] + f"… ({len(text)} characters)"


def event_hint(expected: Mapping[str, object], got: Event, receiver: str) -> str:
    if got.get("type") == "message" and got.get("name") == receiver:
        return "a chat message goes to every member except its sender"
    if got.get("type") == expected.get("type") and set(got) != set(expected):
        return f"a {expected['type']} event has exactly the fields {sorted(expected)} (README: Chat events)"
    if got.get("type") == "join" and got.get("name") == receiver:
        return "the member who joins gets the welcome event, not its own join event"
    if expected.get("type") == "welcome":
        return "the first message after the 101 response is the welcome event, with the other members' names"
    return "each member gets the room's events in the order your server handled them (README: Ordering)"


def _kind(message: str | bytes) -> str:
    return "text" if isinstance(message, str) else "binary"


def _bytes(message: str | bytes) -> bytes:
    return message.encode() if isinstance(message, str) else message
