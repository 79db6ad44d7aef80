"""Stage 8: twenty members: every event reaches every member once, in order."""

from collections.abc import Callable

import pytest

from labkit.checks import fail
from labkit.learners import LearnerProcess
from libclient import ChatClient, show

MEMBERS = 20
ORDER_HINT = "each member gets the room's events in the order the room handled them, each exactly once"


@pytest.fixture
def server(learner: LearnerProcess) -> LearnerProcess:
    """Every check starts with an empty room."""
    return learner


def fill_room(chat: Callable[..., ChatClient], size: int, prefix: str = "m") -> list[ChatClient]:
    """Joins ``size`` members one after the other; each earlier member must see every later join."""
    members: list[ChatClient] = []
    for number in range(size):
        name = f"{prefix}{number + 1:02d}"
        newcomer = chat(name, [member.name for member in members])
        for member in members:
            member.expect({"type": "join", "name": name}, f"the join event for {name}", hint=ORDER_HINT)
        members.append(newcomer)
    return members


def check_twenty_members_hear_every_other(chat):
    """Twenty members each send a message; each hears the nineteen others once, and not itself"""
    members = fill_room(chat, MEMBERS)
    for member in members:
        member.say(f"hello from {member.name}")
    for member in members:
        expected: dict[object, str] = {
            f"hello from {other.name}": other.name for other in members if other is not member
        }
        for count in range(1, MEMBERS):
            event = member.event(f"message {count} of the {MEMBERS - 1} from the others", hint=ORDER_HINT)
            text = event.get("text")
            if event.get("type") != "message" or expected.pop(text, None) != event.get("name"):
                fail(
                    f"{member.name} expected the others' messages, each once, but got an unexpected event",
                    expected=f"one message from each of {sorted(expected.values())}"[:200],
                    got=show(event),
                    hint="a message goes to every member except its sender, once"
                    if event.get("name") != member.name
                    else "a chat message goes to every member except its sender",
                )


def check_each_senders_messages_keep_their_order(chat):
    """Two members send 30 messages each, interleaved; the others get each sender's messages in order"""
    members = fill_room(chat, 5, prefix="o")
    senders, listeners = members[:2], members[2:]
    for number in range(30):
        for sender in senders:
            sender.say(f"{sender.name} #{number}")
    for listener in listeners:
        next_number = {sender.name: 0 for sender in senders}
        for _ in range(60):
            event = listener.event("the next of the 60 messages", hint=ORDER_HINT)
            name = event.get("name")
            if name not in next_number or event.get("text") != f"{name} #{next_number[name]}":
                expected = " or ".join(f'"{sender} #{number}"' for sender, number in next_number.items())
                fail(
                    f"{listener.name} got the messages of one sender out of order, or an unexpected event",
                    expected=f"text {expected}",
                    got=show(event),
                    hint=ORDER_HINT,
                )
            next_number[name] += 1


def check_large_message_reaches_everyone(chat, rng):
    """A 200 000-character message reaches nine members intact"""
    members = fill_room(chat, 10, prefix="l")
    text = "".join(rng.choice("abcdefghij \u00e9\u20ac\U0001f680") for _ in range(200_000))
    members[0].say(text)
    for member in members[1:]:
        member.expect(
            {"type": "message", "name": members[0].name, "text": text},
            "the 200 000-character message",
            hint="a broadcast frame of more than 65535 bytes needs the 64-bit length, written completely",
        )


def check_leave_reaches_everyone(chat):
    """When one of twenty members leaves, the nineteen others are told"""
    members = fill_room(chat, MEMBERS, prefix="v")
    leaver = members.pop(7)
    leaver.ws.close(1000)
    for member in members:
        member.expect({"type": "leave", "name": leaver.name}, f"the leave event for {leaver.name}", hint=ORDER_HINT)
