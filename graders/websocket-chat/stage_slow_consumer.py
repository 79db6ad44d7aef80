"""Stage 9: a member that stops reading delays nobody; once its backlog passes BACKLOG_LIMIT it is dropped."""

import json
import random
from collections.abc import Callable

import pytest

from labkit.checks import fail, log
from labkit.learners import LearnerProcess
from libclient import ChatClient, show
from rawclient import RawWebSocket
from wsframes import TEXT

MIB = 1024 * 1024
BACKLOG_LIMIT = MIB
FILLER_SIZE = 60_000
# More than any JSON encoding adds to a message event (fields, spacing) plus its frame header: with it, what the
# receiver got before the leave bounds from above what was ever queued for the stalled member.
EVENT_OVERHEAD = 1024
BATCH = 8  # messages in flight at once: about 0.5 MiB, well under the receiver's own BACKLOG_LIMIT
DELAY_LIMIT = 3.0
UNDELAYED_FLOOD = 8 * MIB  # more than the kernel buffers between the server and a client can hold
DROP_BUDGET = 16 * MIB
STALL_HINT = (
    "never block on one client's socket while delivering to the others: queue per client and write without "
    "waiting (README: Slow members)"
)
DROP_HINT = (
    "when a member already has more than BACKLOG_LIMIT (1 MiB) queued that its socket would not take, close its "
    "connection and announce its leave (README: Slow members)"
)


@pytest.fixture
def server(learner: LearnerProcess) -> LearnerProcess:
    """Every check starts with an empty room."""
    return learner


def stalled_room(
    chat: Callable[..., ChatClient], raw: Callable[..., RawWebSocket]
) -> tuple[RawWebSocket, ChatClient, RawWebSocket]:
    """A member that reads its 101 response and then nothing, a receiver, and a sender that floods."""
    # Small segments keep the kernel's share of the backlog small, so the server's own queue grows early.
    stalled = raw("stalled", path=None, recv_buffer=4096, max_segment=536)
    stalled.handshake("/chat?name=stalled")
    receiver = chat("receiver", ["stalled"], max_queue=None)
    sender = raw("sender", path="/chat?name=sender")
    receiver.expect({"type": "join", "name": "sender"}, "the join event for sender")
    return stalled, receiver, sender


def flood(
    sender: RawWebSocket, receiver: ChatClient, rng: random.Random, budget: int, *, stop_at_leave: bool
) -> int | None:
    """Sends batches of large messages and checks that each batch reaches the receiver promptly.
    Returns how many messages the receiver got before the stalled member's leave, or None if it saw no leave."""
    filler = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(FILLER_SIZE))
    sent = number = 0
    before_leave: int | None = None
    while sent < budget and not (stop_at_leave and before_leave is not None):
        texts = [f"{number + offset:05d} {filler}" for offset in range(BATCH)]
        frames = [sender.frame(TEXT, json.dumps({"type": "message", "text": text}).encode()) for text in texts]
        sender.send(b"".join(frames), note=f"flood messages {number} to {number + BATCH - 1}")
        sent += sum(map(len, frames))
        log(f"{sent / MIB:.1f} MiB sent so far")
        for offset, text in enumerate(texts):
            # Where exactly a blocking server stalls depends on kernel buffer sizes: the verdict names no number.
            what = "the next flood message from sender while 'stalled' reads nothing"
            event = receiver.event(what, timeout=DELAY_LIMIT, hint=STALL_HINT)
            if event == {"type": "leave", "name": "stalled"}:
                before_leave = number + offset
                event = receiver.event(what, timeout=DELAY_LIMIT, hint=STALL_HINT)
            if event != {"type": "message", "name": "sender", "text": text}:
                fail(f"receiver expected {what}", expected=f"the message {text[:5]} from sender", got=show(event))
        number += BATCH
    return before_leave


def most_ever_queued(messages: int) -> int:
    """An upper bound of the bytes ever queued for the stalled member before it was dropped, when the receiver got
    ``messages`` flood messages before its leave: the room's events reach every member in one order, so the
    stalled member was due at most those, after its welcome and two joins."""
    return messages * (len("00000 ") + FILLER_SIZE + EVENT_OVERHEAD) + 3 * EVENT_OVERHEAD


def check_a_stalled_member_does_not_delay_the_others(chat, raw, rng):
    """While one member reads nothing, another gets 8 MiB of messages, each within 3 s"""
    _stalled, receiver, sender = stalled_room(chat, raw)
    flood(sender, receiver, rng, UNDELAYED_FLOOD, stop_at_leave=False)


def check_a_stalled_member_is_dropped_and_its_leave_announced(chat, raw, rng):
    """A member that reads nothing is dropped once its backlog passes 1 MiB, not before, and the others see it leave"""
    stalled, receiver, sender = stalled_room(chat, raw)
    before_leave = flood(sender, receiver, rng, DROP_BUDGET, stop_at_leave=True)
    if before_leave is None:
        fail(
            f"after {DROP_BUDGET // MIB} MiB of messages that 'stalled' never read, it is still in the room",
            expected="your server drops it once more than 1 MiB is queued for it, and announces its leave",
            hint=DROP_HINT,
        )
    log(f"receiver got {before_leave} flood messages before the leave of stalled")
    if most_ever_queued(before_leave) <= BACKLOG_LIMIT:
        # How many messages it took depends on kernel buffers: the verdict names no number.
        fail(
            "your server dropped 'stalled' before its queue could pass BACKLOG_LIMIT: the flood messages receiver "
            "got before the leave, all that 'stalled' can have been due, add up to 1 MiB or less",
            expected=f"'stalled' stays in the room until more than {BACKLOG_LIMIT // 1024} KiB are queued for it",
            hint="count the bytes of the frames written for a member but not yet accepted by its socket, and drop "
            "it only once they pass 1 MiB (1048576 bytes) when another event is due (README: Slow members)",
        )
    stalled.expect_tcp_closed("drop of the member that stopped reading")
    chat("stalled", ["receiver", "sender"], label="stalled, back again")
    receiver.expect({"type": "join", "name": "stalled"}, "the join event for stalled, back again")
