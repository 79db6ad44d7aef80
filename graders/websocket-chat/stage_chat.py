"""Stage 7: the chat room: welcome and join events, messages to everyone else, leave however a member goes."""

from collections.abc import Callable

import pytest

from labkit.checks import expect, fail
from labkit.learners import LearnerProcess
from libclient import ChatClient, Event, show
from wsframes import BINARY

LEAVE_HINT = "announce a leave however the connection ends: Close frame, EOF, reset or protocol error"


@pytest.fixture
def server(learner: LearnerProcess) -> LearnerProcess:
    """Every check starts with an empty room."""
    return learner


def join_event(name: str) -> Event:
    return {"type": "join", "name": name}


def leave_event(name: str) -> Event:
    return {"type": "leave", "name": name}


def message_event(name: str, text: str) -> Event:
    return {"type": "message", "name": name, "text": text}


def room_of_three(chat: Callable[..., ChatClient]) -> tuple[ChatClient, ChatClient, ChatClient]:
    alice = chat("alice")
    bob = chat("bob", ["alice"])
    alice.expect(join_event("bob"), "the join event for bob")
    carol = chat("carol", ["alice", "bob"])
    alice.expect(join_event("carol"), "the join event for carol")
    bob.expect(join_event("carol"), "the join event for carol")
    return alice, bob, carol


def check_join_gets_welcome_and_others_get_join(chat):
    """Each joiner gets a welcome listing the others; the others get a join event"""
    room_of_three(chat)


def check_message_reaches_everyone_but_the_sender(chat):
    """A message reaches every other member with the sender's name, and never comes back to the sender"""
    alice, bob, carol = room_of_three(chat)
    text = 'Hello "room" \\ caf\u00e9 \U0001f600\nsecond line'
    alice.say(text)
    bob.expect(message_event("alice", text), "alice's message")
    carol.expect(message_event("alice", text), "alice's message")
    bob.say("hi alice")
    alice.expect(message_event("bob", "hi alice"), "bob's reply (not her own message back)")
    carol.expect(message_event("bob", "hi alice"), "bob's reply")


def check_leave_on_close_and_the_name_is_free_again(chat):
    """A member who closes is announced as leaving, and its name can join again"""
    alice = chat("alice")
    bob = chat("bob", ["alice"])
    alice.expect(join_event("bob"), "the join event for bob")
    bob.ws.close(1000)
    alice.expect(leave_event("bob"), "the leave event for bob, who closed", hint=LEAVE_HINT)
    chat("bob", ["alice"], label="bob again")
    alice.expect(join_event("bob"), "the join event for bob, back again")


def check_leave_when_the_connection_just_drops(chat, raw):
    """A member whose connection drops without a Close frame (FIN or reset) is announced as leaving"""
    alice = chat("alice")
    for name, vanish in (("dave", "closed TCP"), ("erin", "reset TCP")):
        member = raw(name, path=f"/chat?name={name}")
        member.read_frame(f"the welcome event for {name}")
        alice.expect(join_event(name), f"the join event for {name}")
        if vanish == "reset TCP":
            member.tcp.reset()
        else:
            member.tcp.close()
        alice.expect(
            leave_event(name),
            f"the leave event for {name}, whose client {vanish} without a Close frame",
            hint=LEAVE_HINT,
        )


def check_bad_names_get_400_and_a_taken_name_409(chat, raw):
    """A missing or invalid name gets 400, a name in use gets 409, a 32-character name is fine"""
    alice = chat("alice")
    name_hint = "a name is 1 to 32 characters from A-Z a-z 0-9 _ - (README: Joining)"
    for query, what in (
        ("", "no name"),
        ("?name=", "an empty name"),
        ("?name=" + "x" * 33, "a 33-character name"),
        ("?name=al%20ice", "the name al%20ice"),
        ("?name=al.ice", "the name al.ice"),
        ("?name=bob&name=bob", "the name given twice"),
        ("?name=bob&name=", "the name given twice, once empty"),
    ):
        client = raw(path=None)
        client.send_upgrade(f"/chat{query}")
        client.expect_refusal(400, f"a chat upgrade with {what}", hint=name_hint)
    twin = raw(path=None)
    twin.send_upgrade("/chat?name=alice")
    twin.expect_refusal(409, "a chat upgrade for the name alice, which is in use", hint="refuse a taken name with 409")
    longest = "L" * 32
    chat(longest, ["alice"])
    alice.expect(join_event(longest), "the join event for a member with a 32-character name")


def check_invalid_chat_messages_get_an_error_event(chat):
    """A text message that is not a valid chat message gets an error event; nobody else hears of it"""
    alice = chat("alice")
    bob = chat("bob", ["alice"])
    alice.expect(join_event("bob"), "the join event for bob")
    invalid = (
        "not json",
        "[1, 2]",
        '"message"',
        '{"type": "shout", "text": "hey"}',
        '{"type": "message", "text": 42}',
        '{"type": "message"}',
        '{"text": "no type"}',
    )
    for message in invalid:
        bob.send(message, note="an invalid chat message")
        error = bob.event(f"the error event for {message!r}", hint="answer an invalid message with an error event")
        if set(error) != {"type", "reason"} or error["type"] != "error":
            fail(
                f"bob sent {message!r} and expected an error event",
                expected='{"type": "error", "reason": "<text>"}',
                got=show(error),
                hint="the error event has exactly the fields type and reason (README: Chat events)",
            )
        expect(
            isinstance(error["reason"], str) and error["reason"] != "",
            "the reason of an error event must be a non-empty string",
        )
    bob.say("a valid one")
    alice.expect(message_event("bob", "a valid one"), "bob's valid message, and nothing from his invalid ones")


def check_binary_message_closes_with_1003(chat, raw):
    """A binary message in the chat gets Close 1003, and the others see that member leave"""
    alice = chat("alice")
    mallory = raw("mallory", path="/chat?name=mallory")
    mallory.read_frame("the welcome event for mallory")
    alice.expect(join_event("mallory"), "the join event for mallory")
    mallory.send_frame(BINARY, b"\x00\x01\x02")
    mallory.expect_close(1003, "a binary message in the chat", hint="the chat speaks text only: Close 1003")
    alice.expect(leave_event("mallory"), "the leave event for mallory", hint=LEAVE_HINT)


def check_every_name_character_and_length_joins(chat, raw):
    """Names of 1 character and of every allowed kind (A-Z a-z 0-9 _ -) join; other query parameters are ignored"""
    alice = chat("alice")
    present = ["alice"]
    for name in ("x", "Z", "7", "_", "-", "Bob_the-2nd", "0123456789"):
        chat(name, present)
        alice.expect(join_event(name), f"the join event for {name!r}", hint="a name is 1 to 32 of A-Z a-z 0-9 _ -")
        present.append(name)
    guest = raw("guest", path="/chat?lang=en&name=guest&x=")
    guest.read_frame("the welcome event for guest, who joined with other query parameters")
    alice.expect(join_event("guest"), "the join event for guest", hint="other query parameters are ignored")


def check_extra_fields_are_ignored_and_empty_text_is_forwarded(chat):
    """A chat message with extra fields is forwarded with only its text; an empty text is forwarded too"""
    alice = chat("alice")
    bob = chat("bob", ["alice"])
    alice.expect(join_event("bob"), "the join event for bob")
    bob.send('{"mood": "happy", "type": "message", "text": "", "to": "carol"}', note="a message with extra fields")
    alice.expect(message_event("bob", ""), "bob's empty message, without his extra fields")
