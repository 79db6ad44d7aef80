"""Calling a learner's gRPC server from the grader: every call logged, every ``grpc.RpcError`` turned into a
verdict that names the method, the status code expected and the one received."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeAlias

import grpc
from google.protobuf import message as protobuf_message
from google.protobuf import text_format

from labkit.checks import fail, log

CALL_TIMEOUT_S = 2.0
SHOWN_CHARS = 120

# A message or stub of the code generated from a .proto at grading time: mypy cannot know its fields.
Message: TypeAlias = Any
Stub: TypeAlias = Any

# What a learner should look at when a call ended with this status. For the codes in BROKEN_CALL the generic
# advice beats any check-specific hint: the call did not get as far as the behaviour the check is about.
FAILURE_HINTS = {
    grpc.StatusCode.UNAVAILABLE: (
        "no gRPC server answered on 127.0.0.1:$PORT: is your program running, and does it serve gRPC "
        "(HTTP/2) rather than plain TCP or HTTP/1.1?"
    ),
    grpc.StatusCode.UNIMPLEMENTED: (
        "your server does not implement this method: register the servicer that provides it (grpc_health.v1's "
        "HealthServicer for grpc.health.v1.Health) and keep the package, service and method names of the .proto"
    ),
    grpc.StatusCode.UNKNOWN: (
        "an exception escaped your handler (gRPC reports it as UNKNOWN); your program's stderr below shows it"
    ),
    grpc.StatusCode.INTERNAL: "INTERNAL often means a handler returned something other than the declared reply type",
    grpc.StatusCode.DEADLINE_EXCEEDED: (
        "no answer in time: is a handler blocked, or are all workers busy? (A program that accepts connections "
        "but does not speak HTTP/2 looks like this too.)"
    ),
    grpc.StatusCode.UNAUTHENTICATED: "the grader sent a valid admin token (authorization: Bearer admin-secret)",
    grpc.StatusCode.PERMISSION_DENIED: "the grader's token has a role that the README allows to make this call",
}
BROKEN_CALL = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    }
)


def show(message: object) -> str:
    """A protobuf message on one line, shortened: for transcripts and verdicts."""
    if isinstance(message, protobuf_message.Message):
        text = text_format.MessageToString(message, as_one_line=True, as_utf8=True)
        text = f"{type(message).__name__} {{{text}}}"
    else:
        text = repr(message)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def status_of(error: grpc.RpcError) -> tuple[grpc.StatusCode, str]:
    return error.code(), error.details() or ""


class RequestStream:
    """The requests of a client-streaming call (an iterator, used once), shown in transcripts by what they are
    rather than by address."""

    def __init__(self, messages: list[object]) -> None:
        self.messages = messages
        self._pending = iter(messages)

    def __iter__(self) -> Iterator[object]:
        return self

    def __next__(self) -> object:
        message = next(self._pending)
        log(f"  stream → {show(message)}")
        return message

    def __repr__(self) -> str:
        kind = type(self.messages[0]).__name__ if self.messages else "request"
        return f"(a stream of {len(self.messages)} {kind} messages)"


class RpcClient:
    """Calls methods of one gRPC stub with fixed metadata. ``who`` labels the caller in transcripts."""

    def __init__(self, stub: Stub, who: str, metadata: tuple[tuple[str, str], ...] = ()) -> None:
        self.stub = stub
        self.who = who
        self.metadata = metadata

    def _invoke(self, method: str, request: object, timeout: float, quiet: bool = False) -> Message:
        if not quiet:
            log(f"{self.who} → {method} {show(request)}")
        return getattr(self.stub, method)(request, metadata=self.metadata, timeout=timeout)

    def call(
        self,
        method: str,
        request: object,
        *,
        timeout: float = CALL_TIMEOUT_S,
        hint: str | None = None,
        quiet: bool = False,
    ) -> Message:
        """Makes a call that must succeed and returns its reply; ``quiet`` leaves a successful poll out of the
        transcript."""
        try:
            reply = self._invoke(method, request, timeout, quiet)
        except grpc.RpcError as error:
            code, details = status_of(error)
            log(f"{self.who} ← {code.name} {details!r}")
            fail(
                f"{method} {show(request)} as {self.who} failed with status {code.name}",
                expected="status OK and a reply",
                got=f"{code.name}: {details}",
                hint=FAILURE_HINTS[code] if code in BROKEN_CALL else hint or FAILURE_HINTS.get(code),
            )
        if not quiet:
            log(f"{self.who} ← {show(reply)}")
        return reply

    def outcome(
        self, method: str, request: object, *, timeout: float = CALL_TIMEOUT_S
    ) -> tuple[grpc.StatusCode, object]:
        """Makes a call whose status the check judges itself: (OK, reply) or (error code, details)."""
        try:
            reply = self._invoke(method, request, timeout)
        except grpc.RpcError as error:
            code, details = status_of(error)
            log(f"{self.who} ← {code.name} {details!r}")
            return code, details
        log(f"{self.who} ← {show(reply)}")
        return grpc.StatusCode.OK, reply

    def expect_status(
        self,
        method: str,
        request: object,
        expected: grpc.StatusCode,
        *,
        timeout: float = CALL_TIMEOUT_S,
        hint: str | None = None,
        require_details: bool = True,
    ) -> str:
        """Makes a call that must end with status ``expected`` and, unless told otherwise, a non-empty details
        text; returns the text."""
        try:
            reply = self._invoke(method, request, timeout)
        except grpc.RpcError as error:
            code, details = status_of(error)
            log(f"{self.who} ← {code.name} {details!r}")
            judge_status(f"{method} {show(request)} as {self.who}", code, details, expected, hint, require_details)
            return details
        log(f"{self.who} ← {show(reply)}")
        fail(
            f"{method} {show(request)} as {self.who} succeeded, but it must fail with status {expected.name}",
            expected=expected.name,
            got=f"OK: {show(reply)}",
            hint=hint,
        )


def judge_status(
    what: str,
    code: grpc.StatusCode,
    details: str,
    expected: grpc.StatusCode,
    hint: str | None = None,
    require_details: bool = True,
) -> None:
    """The verdict on a call that failed: the right code, with a message for humans."""
    if code != expected:
        fail(
            f"{what} returned status {code.name}, expected {expected.name}",
            expected=expected.name,
            got=f"{code.name}: {details}",
            hint=mismatch_hint(code, expected) if code in BROKEN_CALL else hint,
        )
    if require_details and not details.strip():
        fail(
            f"{what} returned {code.name} without a message",
            expected=f"{expected.name} with a short, non-empty details text",
            got=f"{code.name} with empty details",
            hint="pass a message for humans: context.abort(code, 'what went wrong')",
        )


def mismatch_hint(got: grpc.StatusCode, expected: grpc.StatusCode) -> str:
    if got == grpc.StatusCode.UNKNOWN:
        return f"an exception escaped your handler (UNKNOWN): detect this case and abort with {expected.name}"
    return FAILURE_HINTS[got]
