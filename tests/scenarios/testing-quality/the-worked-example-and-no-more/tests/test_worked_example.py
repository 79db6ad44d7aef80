"""The README's worked example, step by step, and the cases it leaves out that a rule names."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scheduler import Booking, Conflict, InvalidInterval, InvalidRoom, Scheduler, UnknownBooking


@pytest.fixture
def example() -> Scheduler:
    """The scheduler of the worked example after its first three bookings."""
    scheduler = Scheduler()
    scheduler.book("Ada", 600, 660)
    scheduler.book("Ada", 660, 720)
    scheduler.book("Grace", 650, 700)
    return scheduler


def test_bookings_are_numbered_and_may_touch() -> None:
    scheduler = Scheduler()
    assert scheduler.book("Ada", 600, 660) == Booking(1, "Ada", 600, 660)
    assert scheduler.book("Ada", 660, 720).id == 2


def test_an_overlap_conflicts_and_uses_no_id() -> None:
    scheduler = Scheduler()
    scheduler.book("Ada", 600, 660)
    scheduler.book("Ada", 660, 720)
    with pytest.raises(Conflict) as raised:
        scheduler.book("Ada", 650, 700)
    assert raised.value.existing.id == 1
    assert scheduler.book("Grace", 650, 700).id == 3


def test_free_slots(example: Scheduler) -> None:
    assert example.free_slots("Ada", 540, 780) == [(540, 600), (720, 780)]
    assert example.free_slots("Ada", 540, 780, min_length=61) == []
    assert example.free_slots("Ada", 540, 780, min_length=60) == [(540, 600), (720, 780)]


def test_usage(example: Scheduler) -> None:
    assert example.usage(630, 690) == {"Ada": 60, "Grace": 40}
    assert example.usage(0, 600) == {}


def test_utilization(example: Scheduler) -> None:
    assert example.utilization("Ada", 0, 1440) == pytest.approx(0.08333333333333333)
    assert example.utilization("Ada", 0, 720) == pytest.approx(120 / 720)


def test_cancel(example: Scheduler) -> None:
    assert example.cancel(1) == Booking(1, "Ada", 600, 660)
    with pytest.raises(UnknownBooking):
        example.cancel(1)
    assert example.book("Ada", 600, 660).id == 4


# What the example does not show


@pytest.mark.parametrize(("start", "end"), [(10, 10), (-30, 10), (True, 10), (0, 1441), (10.0, 20)])
def test_bad_ranges(start: int, end: int) -> None:
    scheduler = Scheduler()
    with pytest.raises(InvalidInterval):
        scheduler.book("Ada", start, end)
    assert scheduler.bookings("Ada") == []


def test_the_whole_day() -> None:
    assert Scheduler().book("Ada", 0, 1440).end == 1440


def test_a_32_character_room() -> None:
    assert Scheduler().book("x" * 32, 0, 10).room == "x" * 32


@pytest.mark.parametrize("min_length", [0, True])
def test_bad_min_lengths(example: Scheduler, min_length: int) -> None:
    with pytest.raises(InvalidInterval):
        example.free_slots("Ada", 540, 780, min_length=min_length)
    assert len(example.bookings("Ada")) == 2


@pytest.mark.parametrize("room", ["x" * 33, "Ada ", ""])
def test_bad_rooms(room: str) -> None:
    scheduler = Scheduler()
    with pytest.raises(InvalidRoom):
        scheduler.book(room, 0, 10)
    assert scheduler.usage(0, 10) == {}


def test_an_enclosing_booking_conflicts_with_the_earliest(example: Scheduler) -> None:
    with pytest.raises(Conflict) as raised:
        example.book("Ada", 500, 800)
    assert raised.value.existing.start == 600


def test_ids_are_never_reused(example: Scheduler) -> None:
    example.cancel(1)
    assert example.book("Ada", 0, 10).id == 4


def test_bookings_by_start_in_a_new_list(example: Scheduler) -> None:
    example.book("Ada", 0, 10)
    listed = example.bookings("Ada")
    assert [b.start for b in listed] == [0, 600, 660]
    listed.clear()
    assert len(example.bookings("Ada")) == 3


@given(st.lists(st.tuples(st.integers(0, 1439), st.integers(1, 600)), max_size=12), st.integers(0, 1439))
def test_free_and_booked_minutes_fill_the_window(requests: list[tuple[int, int]], low: int) -> None:
    scheduler = Scheduler()
    kept = []
    for start, length in requests:
        end = min(1440, start + length)
        try:
            kept.append(scheduler.book("Ada", start, end))
        except Conflict:
            assert any(b.start < end and start < b.end for b in kept)
    high = min(1440, low + 300)
    slots = scheduler.free_slots("Ada", low, high)
    free = sum(end - start for start, end in slots)
    busy = sum(max(0, min(b.end, high) - max(b.start, low)) for b in kept)
    assert free + busy == high - low
    for start, end in slots:
        assert low <= start < end <= high
        assert not any(b.start < end and start < b.end for b in kept)
