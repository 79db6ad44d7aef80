"""The replicated-kv grader's linearizability checker and timeline, on histories whose verdict is known: the
classic stale-read and lost-write shapes, concurrency that allows several orders, indefinite operations, a
definite failure whose write was seen anyway, and a search that runs out of time."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from support import KIT, grade_json

GRADER = KIT / "graders" / "replicated-kv"


@pytest.fixture(scope="module")
def lab() -> Iterator[dict[str, ModuleType]]:
    """The lab's helper modules, imported as its stages import them, and forgotten afterwards."""
    sys.path.insert(0, str(GRADER))
    try:
        import history
        import linearizability
        import timeline

        yield {"history": history, "lin": linearizability, "timeline": timeline}
    finally:
        sys.path.remove(str(GRADER))
        for name in ("history", "linearizability", "timeline"):
            sys.modules.pop(name, None)


def ops(lab: dict[str, ModuleType], *rows: tuple[object, ...]) -> list[object]:
    """Operations from rows (kind, key, invoked, completed, value, expected, output), numbered in order."""
    op = lab["lin"].Op
    return [
        op(n, key, kind, start, end, value, expected, output)
        for n, (kind, key, start, end, value, expected, output) in enumerate(rows)
    ]


def verdict(lab: dict[str, ModuleType], *rows: tuple[object, ...], budget: float = 5.0) -> object:
    return lab["lin"].check(ops(lab, *rows), budget)


def test_sequential_history_is_linearizable(lab: dict[str, ModuleType]) -> None:
    result = verdict(
        lab,
        ("get", "k", 0, 1, None, None, None),
        ("put", "k", 2, 3, "v10", None, None),
        ("cas", "k", 4, 5, "v11", "v10", True),
        ("cas", "k", 6, 7, "v12", "v10", False),
        ("get", "k", 8, 9, None, None, "v11"),
    )
    assert result.status == "linearizable"


def test_wrong_cas_outcome_is_caught(lab: dict[str, ModuleType]) -> None:
    result = verdict(
        lab,
        ("put", "k", 0, 1, "v10", None, None),
        ("cas", "k", 2, 3, "v11", "v10", False),  # no swap although the key held v10
    )
    invented = verdict(lab, ("put", "k", 0, 1, "v10", None, None), ("cas", "k", 2, 3, "v11", "v99", True))
    assert (result.status, result.culprits) == ("not linearizable", (0, 1))
    assert (invented.status, invented.culprits) == ("not linearizable", (1,)), "swapped from a value never written"


def test_overlapping_operations_may_take_either_order(lab: dict[str, ModuleType]) -> None:
    # The read overlaps both writes, so it may see either; the second read comes after both and agrees with it.
    result = verdict(
        lab,
        ("put", "k", 0, 10, "a", None, None),
        ("put", "k", 1, 9, "b", None, None),
        ("get", "k", 2, 8, None, None, "a"),
        ("get", "k", 11, 12, None, None, "a"),
    )
    assert result.status == "linearizable"
    reversed_order = verdict(
        lab,
        ("put", "k", 0, 10, "a", None, None),
        ("put", "k", 1, 9, "b", None, None),
        ("get", "k", 2, 8, None, None, "a"),
        ("get", "k", 8.5, 8.7, None, None, "b"),
        ("get", "k", 11, 12, None, None, "a"),  # b was last, then a again: impossible
    )
    assert reversed_order.status == "not linearizable"


def test_stale_read_names_both_writes_and_the_read(lab: dict[str, ModuleType]) -> None:
    result = verdict(
        lab,
        ("put", "k", 0, 1, "old", None, None),
        ("get", "other", 0.5, 1.5, None, None, None),
        ("put", "k", 2, 3, "new", None, None),
        ("get", "k", 4, 5, None, None, "old"),  # began after "new" was acknowledged
    )
    assert (result.status, result.key, result.culprits) == ("not linearizable", "k", (0, 2, 3))


def test_lost_write_names_the_write_and_the_read(lab: dict[str, ModuleType]) -> None:
    result = verdict(
        lab,
        ("put", "a", 0, 1, "kept", None, None),
        ("put", "b", 2, 3, "lost", None, None),
        ("get", "a", 4, 5, None, None, "kept"),
        ("get", "b", 6, 7, None, None, None),  # not found after an acknowledged write
    )
    assert (result.status, result.key, result.culprits) == ("not linearizable", "b", (1, 3))


def test_indefinite_write_may_take_effect_late_or_never(lab: dict[str, ModuleType]) -> None:
    late = verdict(
        lab,
        ("put", "k", 0, 1, "first", None, None),
        ("put", "k", 2, None, "maybe", None, None),
        ("get", "k", 5, 6, None, None, "first"),
        ("get", "k", 7, 8, None, None, "maybe"),  # took effect after the first read
    )
    never = verdict(
        lab, ("put", "k", 0, 1, "first", None, None), ("put", "k", 2, None, "maybe", None, "ignored"),
        ("get", "k", 7, 8, None, None, "first"),
    )  # fmt: skip
    flip_flop = verdict(
        lab,
        ("put", "k", 0, 1, "first", None, None),
        ("put", "k", 2, None, "maybe", None, None),
        ("get", "k", 5, 6, None, None, "maybe"),
        ("get", "k", 7, 8, None, None, "first"),  # nothing wrote "first" again
    )
    assert (late.status, never.status, flip_flop.status) == ("linearizable", "linearizable", "not linearizable")


def test_definite_failure_that_took_effect_is_not_linearizable(lab: dict[str, ModuleType]) -> None:
    history = lab["history"].History()
    put = history.invoke(0, "put", "k", "v10")
    history.complete(put, "ok")
    doomed = history.invoke(0, "put", "k", "v11")
    doomed.replies.append("node 1: unavailable")
    history.complete(doomed, "fail")  # a definite error: left out, as if it never happened
    read = history.invoke(1, "get", "k")
    history.complete(read, "ok", "v11")
    result = history.verdict()
    assert (result.status, result.culprits) == ("not linearizable", (read.id,))


def test_search_past_its_budget_is_unknown(lab: dict[str, ModuleType]) -> None:
    # Twenty overlapping writes and a read of a value nobody wrote: proving it impossible means trying every
    # order of the writes, far more than a millisecond allows.
    rows = [("put", "k", 0, 100, f"v{n}", None, None) for n in range(20)]
    rows.append(("get", "k", 1, 99, None, None, "never-written"))
    result = verdict(lab, *rows, budget=0.001)
    assert (result.status, result.key) == ("unknown", "k")


def test_keys_are_checked_apart(lab: dict[str, ModuleType]) -> None:
    # Per key each read is fine; as one register the reads would contradict each other.
    result = verdict(
        lab,
        ("put", "a", 0, 1, "x", None, None),
        ("put", "b", 2, 3, "y", None, None),
        ("get", "a", 4, 5, None, None, "x"),
        ("get", "b", 6, 7, None, None, "y"),
    )
    assert result.status == "linearizable"


def stale_read_history(lab: dict[str, ModuleType]) -> tuple[object, tuple[int, ...]]:
    history = lab["history"].History()
    steps = [(0, "put", "k", "old", "ok", None), (1, "put", "k", "new", "ok", None), (2, "get", "k", None, "ok", "old"),
             (2, "get", "other", None, "info", None)]  # fmt: skip
    for client, kind, key, value, outcome, output in steps:
        record = history.invoke(client, kind, key, value)
        record.replies.append(f"node {client}: {outcome}")
        history.complete(record, outcome, output)
    result = history.verdict()
    assert result.status == "not linearizable"
    return history, result.culprits


def test_timeline_marks_the_culprits(lab: dict[str, ModuleType]) -> None:
    history, culprits = stale_read_history(lab)
    page = lab["timeline"].render(history.records, set(culprits), "stale read")
    assert page.count('class="op ok violation"') == 3
    assert 'class="op info"' in page and "→ ? (unknown)" in page
    assert "get k → old" in page


def test_timeline_opens_in_headless_chromium(lab: dict[str, ModuleType], tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no chromium binary on PATH (apt-get install chromium)")
    history, culprits = stale_read_history(lab)
    page_file = tmp_path / "timeline.html"
    page_file.write_text(lab["timeline"].render(history.records, set(culprits), "stale read"))
    assert_timeline_in_chromium(sync_api, chromium, page_file, {"put k=old → ok", "put k=new → ok", "get k → old"})


def assert_timeline_in_chromium(sync_api: ModuleType, chromium: str, page_file: Path, marked: set[str]) -> None:
    """Opens the page: the marked bars are exactly ``marked`` (by their label), visible, and laid out in time."""
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        page = browser.new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(page_file.as_uri())
        bars = page.locator(".op.violation")
        labels = {bars.nth(n).inner_text() for n in range(bars.count())}
        boxes = [bars.nth(n).bounding_box() for n in range(bars.count())]
        assert all(box is not None and box["width"] > 0 and box["height"] > 0 for box in boxes)
        assert page.locator(".op").count() > bars.count(), "the other operations are drawn too"
        assert page.locator("tr.violation").count() == len(marked)
        browser.close()
    assert labels == marked
    assert problems == []


def test_stale_read_scenario_attaches_a_timeline_that_marks_it(tmp_path: Path) -> None:
    """Graded to its stage, the leader that answers reads locally fails with the culprits named, and its
    timeline opens in headless Chromium with exactly those operations marked."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no chromium binary on PATH (apt-get install chromium)")
    scenario = KIT / "tests" / "scenarios" / "replicated-kv" / "leader-local-reads"
    artifacts = tmp_path / "artifacts"
    code, result = grade_json("replicated-kv", scenario, "--stage", "stale-reads", "--artifacts", str(artifacts))
    assert code == 1
    stage = result["labs"][0]["stages"][-1]
    failed = [check for check in stage["checks"] if check["status"] == "failed"]
    assert stage["slug"] == "stale-reads" and failed, stage
    pages = sorted(artifacts.rglob("timeline.html"))
    assert pages, f"no timeline among {sorted(artifacts.rglob('*'))}"
    culprits = {line.split("] ", 1)[1].split(": ", 1)[1] for line in failed[0]["got"].splitlines()[1:]}
    assert any(culprit.startswith("get stale-") for culprit in culprits), culprits
    assert_timeline_in_chromium(sync_api, chromium, pages[0], culprits)
