"""Stage 7: a slow call stops its work when the client's deadline passes, observed through GetStats."""

import time

import grpc

from grpcwire import Message
from inventory import Inventory
from labkit.checks import expect, fail, log

STEP_S = 0.05
SLOW_REINDEX_S = 2.0  # 4 steps of 50 ms, with 1.8 s for a loaded machine: a 1 s step is 4 s
CLIENT_DEADLINE_S = 0.4
STOP_WITHIN_S = 1.0  # the README allows one step; the rest is room for a busy machine
QUIET_WINDOW_S = 0.3


def expect_reindex_stopped(inv: Inventory, before: Message, why: str) -> None:
    """After ``why``, reindex_running returns to ``before.reindex_running`` and the step counter stands still."""
    inv.wait_for_stat(
        "reindex_running",
        lambda running: running <= before.reindex_running,
        STOP_WITHIN_S,
        f"Reindex was still running {STOP_WITHIN_S:g} s after {why}",
        "check context.is_active() before every step and leave the loop once it is False",
        expected=f"reindex_running back to {before.reindex_running}",
    )
    stopped_at = inv.stats().reindex_steps_done
    time.sleep(QUIET_WINDOW_S)  # a negative check: nothing may happen in this window
    later = inv.stats().reindex_steps_done
    log(f"reindex_steps_done: {before.reindex_steps_done} before, {stopped_at} after, {later} later")
    if later != stopped_at:
        fail(
            f"Reindex work went on after {why}: reindex_steps_done kept growing",
            expected=f"reindex_steps_done unchanged for {QUIET_WINDOW_S:g} s",
            got="it grew",
            hint="the work itself must stop, not only the reply: end the loop that does the steps",
        )
    expect(
        stopped_at > before.reindex_steps_done,
        "reindex_steps_done did not count any step of the Reindex call",
        hint="add 1 to reindex_steps_done after each 50 ms step",
    )


def check_reindex_does_its_steps(inv):
    """Reindex of 4 steps takes 4 x 50 ms (at most 2 s), answers steps_done=4 and counts 4 steps"""
    before = inv.stats()
    started = time.monotonic()
    reply = inv.call("Reindex", inv.request("Reindex", steps=4), timeout=5.0)
    elapsed = time.monotonic() - started
    expect(reply.steps_done == 4, f"Reindex(steps=4) answered steps_done={reply.steps_done}")
    expect(
        elapsed >= 4 * STEP_S * 0.9,
        "Reindex(steps=4) answered sooner than 4 steps of 50 ms allow",
        hint="each step takes 50 ms (time.sleep(0.05)); the deadline checks of this stage rely on it",
    )
    if elapsed > SLOW_REINDEX_S:
        fail(
            f"Reindex(steps=4) took more than {SLOW_REINDEX_S:g} s for 4 steps of 50 ms",
            expected=f"about {4 * STEP_S:.1f} s",
            got=f"{elapsed:.2f} s",
            hint="each step is one 50 ms sleep (time.sleep(0.05)), not longer",
        )
    after = inv.stats()
    expect(
        after.reindex_steps_done - before.reindex_steps_done == 4,
        "GetStats.reindex_steps_done did not grow by exactly 4 during Reindex(steps=4)",
        hint="add 1 to reindex_steps_done after each completed step",
    )
    expect(after.reindex_running == before.reindex_running, "reindex_running did not go back down after Reindex")


def check_reindex_stops_when_the_deadline_passes(inv):
    """Reindex stops working once the client's 0.4 s deadline has passed"""
    before = inv.stats()
    request = inv.request("Reindex", steps=1000)  # the largest valid count, so its boundary is probed too
    code, _ = inv.outcome("Reindex", request, timeout=CLIENT_DEADLINE_S)
    if code != grpc.StatusCode.DEADLINE_EXCEEDED:
        fail(
            f"Reindex(steps=1000) with a {CLIENT_DEADLINE_S:g} s deadline ended with {code.name}",
            expected="DEADLINE_EXCEEDED (1000 steps, the most allowed, take 50 s)",
            got=code.name,
            hint="steps may be 1 to 1000, both included"
            if code == grpc.StatusCode.INVALID_ARGUMENT
            else "each step takes 50 ms: do the steps instead of answering at once",
        )
    expect_reindex_stopped(inv, before, "the client's deadline passed")


def check_invalid_step_counts_are_invalid_argument(inv):
    """Reindex with steps outside 1..1000 is INVALID_ARGUMENT"""
    for steps in (0, -1, 1001):
        inv.refuses("Reindex", grpc.StatusCode.INVALID_ARGUMENT, steps=steps)


def check_other_calls_are_answered_during_a_reindex(inv, client, prefix):
    """Other calls are answered quickly while a Reindex runs"""
    before = inv.stats()
    running = client(who="reindexing client")
    future = running.stub.Reindex.future(running.request("Reindex", steps=40), metadata=running.metadata, timeout=5)
    log("reindexing client → Reindex (steps: 40), without waiting for the reply")
    try:
        inv.wait_for_stat(
            "reindex_running",
            lambda value: value > before.reindex_running,
            2.0,
            "reindex_running did not count the Reindex call in progress",
            "add 1 to reindex_running when a Reindex call starts its steps, and subtract 1 when they stop",
            expected=f"reindex_running above {before.reindex_running}",
        )
        inv.call("CreateItem", inv.request("CreateItem", sku=prefix + "meanwhile", name="x"), timeout=1.0)
        inv.call("GetItem", inv.request("GetItem", sku=prefix + "meanwhile"), timeout=1.0)
    finally:
        future.cancel()
