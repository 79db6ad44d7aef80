"""Stage 8: a cancelled stream or call, or a closed connection, frees the server side."""

import time

from inventory import Inventory
from labkit.checks import expect, log

FREED_WITHIN_S = 2.0
QUIET_WINDOW_S = 0.3


def expect_watchers_back_to(inv: Inventory, count: int, why: str) -> None:
    inv.wait_for_stat(
        "active_watchers",
        lambda value: value <= count,
        FREED_WITHIN_S,
        f"{why}, but GetStats.active_watchers did not go back down within {FREED_WITHIN_S:g} s",
        "a handler waiting for the next change does not notice the cancellation: wake it with "
        "context.add_callback(...), and unregister the watcher in a finally block",
        expected=f"active_watchers back to {count}",
    )


def check_cancelled_watch_streams_are_unregistered(inv, watches, prefix):
    """Three cancelled Watch streams leave active_watchers where it was"""
    before = inv.stats().active_watchers
    streams = [watches(prefix, label=f"watcher {n}") for n in range(1, 4)]
    inv.wait_for_watchers(before + 3, streams)
    for stream in streams:
        stream.cancel()
    expect_watchers_back_to(inv, before, "the grader cancelled three Watch streams and changed nothing")


def check_closed_connection_unregisters_its_watchers(inv, watches, channels, prefix):
    """Closing the client's connection frees its Watch streams"""
    before = inv.stats().active_watchers
    connection = channels()
    streams = [watches(prefix, label=f"watcher {n}", channel=connection) for n in (1, 2)]
    inv.wait_for_watchers(before + 2, streams)
    connection.close()
    log("closed the connection that carried both Watch streams")
    expect_watchers_back_to(inv, before, "the client closed the connection carrying two Watch streams")


def check_watch_ends_at_its_deadline(inv, watches, prefix):
    """A Watch stream whose deadline passes is unregistered"""
    before = inv.stats().active_watchers
    stream = watches(prefix, label="watcher with a 0.3 s deadline", timeout=0.3)
    inv.wait_for_watchers(before + 1, [stream])
    expect_watchers_back_to(inv, before, "the Watch stream's 0.3 s deadline passed")


def check_many_cancelled_streams_leave_the_server_serving(inv, watches, prefix):
    """Forty Watch streams opened and cancelled: the server still answers and counts them all gone"""
    before = inv.stats().active_watchers
    for round_ in range(2):
        streams = [watches(prefix, label=f"watcher {round_ * 20 + n}") for n in range(1, 21)]
        inv.wait_for_watchers(before + 20, streams)
        for stream in streams:
            stream.cancel()
        expect_watchers_back_to(inv, before, f"the grader cancelled 20 Watch streams (round {round_ + 1} of 2)")
    inv.create(prefix + "still-serving")


def check_cancelled_reindex_stops_its_work(inv, client):
    """Cancelling a Reindex call stops its steps"""
    before = inv.stats()
    caller = client(who="reindexing client")
    future = caller.stub.Reindex.future(caller.request("Reindex", steps=200), metadata=caller.metadata, timeout=10)
    log("reindexing client → Reindex (steps: 200), without waiting for the reply")
    inv.wait_for_stat(
        "reindex_steps_done",
        lambda done: done > before.reindex_steps_done,
        2.0,
        "Reindex did not count any step",
        "add 1 to reindex_steps_done after each 50 ms step",
        expected="reindex_steps_done growing while Reindex runs",
    )
    future.cancel()
    log("reindexing client: cancelled the Reindex call")
    inv.wait_for_stat(
        "reindex_running",
        lambda running: running <= before.reindex_running,
        FREED_WITHIN_S,
        f"Reindex was still running {FREED_WITHIN_S:g} s after the client cancelled it",
        "check context.is_active() before every step: a cancelled call is no longer active",
        expected=f"reindex_running back to {before.reindex_running}",
    )
    stopped_at = inv.stats().reindex_steps_done
    time.sleep(QUIET_WINDOW_S)  # a negative check: no step may complete in this window
    expect(
        inv.stats().reindex_steps_done == stopped_at,
        "Reindex work went on after the client cancelled the call: reindex_steps_done kept growing",
        hint="end the loop that does the steps, not just the reply",
    )
