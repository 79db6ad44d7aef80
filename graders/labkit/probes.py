"""``concurrently``: a check's independent probes at the same time, reported as if they had run one after another
(public as ``labkit.checks.concurrently``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TypeVar

from labkit import context

T = TypeVar("T")


def concurrently(probes: Mapping[str, Callable[[], T]]) -> dict[str, T]:
    """Runs each probe in a thread of its own, all at once, and returns their results by name (in the order of
    ``probes``) once all ended.

    For probes that mostly wait (on programs, sockets, a link) and share no state, such as transfers that each
    start their own programs: the check takes as long as the slowest one, not as all of them. A probe whose
    verdict rests on timing is better run alone, without others competing for the machine.

    The report reads as if the probes had run one after another, in the order of ``probes``: each probe's log
    lines reach the transcript together, under a line with its name (lines logged by threads a probe starts
    itself go straight to the transcript). When probes fail, the exception of the first one is raised once every
    probe ended, and the report keeps what that probe and those before it attached, and the stderr of the
    programs they started; the later ones' are left out."""
    names = list(probes)
    records = {name: context.ProbeRecord() for name in names}
    results: dict[str, T] = {}
    errors: dict[str, BaseException] = {}

    def run(name: str) -> None:
        with context.recording(records[name]):
            try:
                results[name] = probes[name]()
            except BaseException as error:  # a failed check, a skip, a grader bug: all reported in the check
                errors[name] = error

    threads = [threading.Thread(target=run, args=(name,), name=f"probe {name}", daemon=True) for name in names]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    finally:  # the check's timeout may end the wait: what the probes did so far still explains it
        first_failed = next((name for name in names if name in errors), None)
        reported = len(names) if first_failed is None else names.index(first_failed) + 1
        _report([records[name] for name in names], names, reported)
    if first_failed is not None:
        raise errors[first_failed]
    return {name: results[name] for name in names}


def _report(records: list[context.ProbeRecord], names: list[str], reported: int) -> None:
    """Hands every probe's lines to the transcript and the first ``reported`` probes' attachments to the check;
    the programs of the probes after those leave the check's report."""
    for name, record in zip(names, records, strict=True):
        context.log(f"{name}:")
        for line in list(record.lines):
            context.log(f"  {line}")
    check = context.current()
    for record in records[:reported]:
        for name, content, description in record.attachments:
            check.attach(name, content, description)
    left_out = {id(process) for record in records[reported:] for process in record.processes}
    check.processes = [process for process in check.processes if id(process) not in left_out]
