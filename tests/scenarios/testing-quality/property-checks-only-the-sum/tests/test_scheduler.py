"""Tests of scheduler.py, rule by rule; the property test checks that the minutes add up, not where the free
slots are."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scheduler import (
    DAY_MINUTES,
    Booking,
    Conflict,
    InvalidInterval,
    InvalidRoom,
    Scheduler,
    SchedulerError,
    UnknownBooking,
)


@pytest.fixture
def scheduler() -> Scheduler:
    return Scheduler()


# S1 time ranges


@pytest.mark.parametrize(("start", "end"), [(0, 1), (0, DAY_MINUTES), (1439, 1440), (600, 660)])
def test_valid_ranges_are_booked(scheduler: Scheduler, start: int, end: int) -> None:
    booking = scheduler.book("Ada", start, end)
    assert (booking.start, booking.end, booking.room) == (start, end, "Ada")


@pytest.mark.parametrize(
    ("start", "end"),
    [(10, 10), (600, 600), (20, 10), (-1, 10), (-60, 30), (0, 1441), (1440, 1441), (10.0, 20), (10, 20.0),
     (True, 20), (0, True), ("10", 20), (None, 20)],
)  # fmt: skip
def test_invalid_ranges_raise_invalid_interval(scheduler: Scheduler, start: object, end: object) -> None:
    with pytest.raises(InvalidInterval):
        scheduler.book("Ada", start, end)  # type: ignore[arg-type]
    with pytest.raises(InvalidInterval):
        scheduler.free_slots("Ada", start, end)  # type: ignore[arg-type]
    with pytest.raises(InvalidInterval):
        scheduler.usage(start, end)  # type: ignore[arg-type]
    with pytest.raises(InvalidInterval):
        scheduler.utilization("Ada", start, end)  # type: ignore[arg-type]
    assert scheduler.bookings("Ada") == []


def test_errors_share_one_base_class() -> None:
    for error in (InvalidInterval, InvalidRoom, Conflict, UnknownBooking):
        assert issubclass(error, SchedulerError)


# S2 room names


@pytest.mark.parametrize("room", ["A", "Lovelace", "x" * 32, "Room 101", "Zürich"])
def test_valid_room_names(scheduler: Scheduler, room: str) -> None:
    assert scheduler.book(room, 60, 120).room == room
    assert [b.room for b in scheduler.bookings(room)] == [room]


@pytest.mark.parametrize("room", ["", "x" * 33, "y" * 40, " Ada", "Ada ", "\tAda", None, 7, b"Ada"])
def test_invalid_room_names_raise_invalid_room(scheduler: Scheduler, room: object) -> None:
    with pytest.raises(InvalidRoom):
        scheduler.book(room, 60, 120)  # type: ignore[arg-type]
    with pytest.raises(InvalidRoom):
        scheduler.bookings(room)  # type: ignore[arg-type]
    with pytest.raises(InvalidRoom):
        scheduler.free_slots(room, 0, 60)  # type: ignore[arg-type]
    with pytest.raises(InvalidRoom):
        scheduler.utilization(room, 0, 60)  # type: ignore[arg-type]
    assert scheduler.usage(0, DAY_MINUTES) == {}


# S3 conflicts


@pytest.mark.parametrize(("start", "end"), [(540, 600), (660, 720), (0, 600), (660, 1440)])
def test_touching_ranges_do_not_conflict(scheduler: Scheduler, start: int, end: int) -> None:
    scheduler.book("Ada", 600, 660)
    assert scheduler.book("Ada", start, end).start == start
    assert len(scheduler.bookings("Ada")) == 2


@pytest.mark.parametrize(
    ("start", "end"), [(600, 660), (590, 601), (659, 700), (610, 620), (500, 800), (0, 1440), (599, 661), (600, 601)]
)
def test_overlapping_ranges_conflict(scheduler: Scheduler, start: int, end: int) -> None:
    existing = scheduler.book("Ada", 600, 660)
    with pytest.raises(Conflict) as raised:
        scheduler.book("Ada", start, end)
    assert raised.value.existing == existing


def test_conflict_names_the_earliest_overlapped_booking(scheduler: Scheduler) -> None:
    first = scheduler.book("Ada", 100, 200)
    scheduler.book("Ada", 300, 400)
    scheduler.book("Ada", 500, 600)
    with pytest.raises(Conflict) as raised:
        scheduler.book("Ada", 150, 550)
    assert raised.value.existing == first
    with pytest.raises(Conflict) as again:
        scheduler.book("Ada", 350, 1000)
    assert again.value.existing.start == 300


def test_a_long_booking_conflicts_far_from_its_start(scheduler: Scheduler) -> None:
    long = scheduler.book("Ada", 0, 1000)
    with pytest.raises(Conflict) as raised:
        scheduler.book("Ada", 900, 950)
    assert raised.value.existing == long


# S4 rooms


def test_rooms_are_independent(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 600, 660)
    other = scheduler.book("Grace", 600, 660)
    assert other.room == "Grace"
    assert scheduler.bookings("Grace") == [other]
    assert len(scheduler.bookings("Ada")) == 1


# S5 ids


def test_ids_count_up_from_one_and_are_never_reused(scheduler: Scheduler) -> None:
    ids = [scheduler.book("Ada", n * 100, n * 100 + 50).id for n in range(12)]
    assert ids == list(range(1, 13))
    scheduler.cancel(12)
    scheduler.cancel(3)
    assert scheduler.book("Grace", 0, 10).id == 13
    assert scheduler.book("Ada", 1300, 1310).id == 14


def test_each_scheduler_numbers_its_own_bookings() -> None:
    first, second = Scheduler(), Scheduler()
    first.book("Ada", 0, 10)
    assert second.book("Ada", 0, 10).id == 1


# S6 failed calls change nothing


def test_a_failed_booking_changes_nothing(scheduler: Scheduler) -> None:
    kept = scheduler.book("Ada", 600, 660)
    for room, start, end, error in [
        ("Ada", 630, 700, Conflict),
        ("Ada", 700, 700, InvalidInterval),
        ("", 700, 760, InvalidRoom),
    ]:
        with pytest.raises(error):
            scheduler.book(room, start, end)
    assert scheduler.bookings("Ada") == [kept]
    assert scheduler.book("Ada", 700, 760).id == 2


# S7 cancel


def test_cancel_returns_the_booking_and_frees_its_time(scheduler: Scheduler) -> None:
    booking = scheduler.book("Ada", 600, 660)
    assert scheduler.cancel(booking.id) == booking
    assert scheduler.bookings("Ada") == []
    assert scheduler.book("Ada", 600, 660).id == 2


@pytest.mark.parametrize("booking_id", [0, 2, 99, -1, "1"])
def test_cancel_of_an_unknown_id_raises(scheduler: Scheduler, booking_id: object) -> None:
    scheduler.book("Ada", 600, 660)
    with pytest.raises(UnknownBooking):
        scheduler.cancel(booking_id)  # type: ignore[arg-type]
    assert len(scheduler.bookings("Ada")) == 1


def test_cancel_twice_raises(scheduler: Scheduler) -> None:
    booking = scheduler.book("Ada", 600, 660)
    scheduler.cancel(booking.id)
    with pytest.raises(UnknownBooking):
        scheduler.cancel(booking.id)
    assert scheduler.bookings("Ada") == []


# S8 bookings


def test_bookings_are_sorted_by_start(scheduler: Scheduler) -> None:
    for start in (900, 100, 500, 1300, 0):
        scheduler.book("Ada", start, start + 30)
    assert [b.start for b in scheduler.bookings("Ada")] == [0, 100, 500, 900, 1300]
    assert scheduler.bookings("Nobody") == []


def test_bookings_returns_a_new_list(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 0, 30)
    listed = scheduler.bookings("Ada")
    listed.clear()
    assert len(scheduler.bookings("Ada")) == 1
    assert scheduler.bookings("Ada") is not scheduler.bookings("Ada")


def test_bookings_are_values(scheduler: Scheduler) -> None:
    booking = scheduler.book("Ada", 10, 40)
    assert booking == Booking(1, "Ada", 10, 40)
    assert booking.minutes == 30
    assert {booking, Booking(1, "Ada", 10, 40)} == {booking}  # frozen: hashable, and unchangeable
    with pytest.raises(dataclasses.FrozenInstanceError):
        booking.start = 0  # type: ignore[misc]
    assert scheduler.bookings("Ada") == [Booking(1, "Ada", 10, 40)]


# S9 free slots


def test_free_slots_are_the_gaps_in_order(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 600, 660)
    scheduler.book("Ada", 540, 570)
    scheduler.book("Ada", 700, 720)
    assert scheduler.free_slots("Ada", 480, 1080) == [(480, 540), (570, 600), (660, 700), (720, 1080)]
    assert scheduler.free_slots("Ada", 0, DAY_MINUTES) == [(0, 540), (570, 600), (660, 700), (720, 1440)]
    assert scheduler.free_slots("Nobody", 100, 200) == [(100, 200)]


def test_free_slots_are_clipped_to_the_window(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 100, 300)
    scheduler.book("Ada", 400, 500)
    assert scheduler.free_slots("Ada", 200, 450) == [(300, 400)]
    assert scheduler.free_slots("Ada", 150, 250) == []
    assert scheduler.free_slots("Ada", 250, 350) == [(300, 350)]
    assert scheduler.free_slots("Ada", 450, 600) == [(500, 600)]


def test_free_slots_keep_only_long_enough_gaps(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 30, 60)
    scheduler.book("Ada", 90, 100)
    scheduler.book("Ada", 110, 200)
    assert scheduler.free_slots("Ada", 0, 240, min_length=30) == [(0, 30), (60, 90), (200, 240)]
    assert scheduler.free_slots("Ada", 0, 240, min_length=10) == [(0, 30), (60, 90), (100, 110), (200, 240)]
    assert scheduler.free_slots("Ada", 0, 240, min_length=40) == [(200, 240)]
    assert scheduler.free_slots("Ada", 0, 240, min_length=41) == []


@pytest.mark.parametrize("min_length", [0, -5, 1.5, True, "10"])
def test_free_slots_reject_a_bad_min_length(scheduler: Scheduler, min_length: object) -> None:
    with pytest.raises(InvalidInterval):
        scheduler.free_slots("Ada", 0, 60, min_length=min_length)  # type: ignore[arg-type]
    assert scheduler.free_slots("Ada", 0, 60, min_length=60) == [(0, 60)]


# S10 usage


def test_usage_counts_minutes_inside_the_window(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 100, 200)
    scheduler.book("Ada", 300, 310)
    scheduler.book("Grace", 150, 400)
    scheduler.book("Linus", 900, 960)
    assert scheduler.usage(0, DAY_MINUTES) == {"Ada": 110, "Grace": 250, "Linus": 60}
    assert scheduler.usage(150, 305) == {"Ada": 55, "Grace": 155}
    assert scheduler.usage(200, 300) == {"Grace": 100}
    assert scheduler.usage(199, 250) == {"Ada": 1, "Grace": 51}  # a room with a single minute is listed
    assert scheduler.usage(1000, 1100) == {}


# S11 utilization


def test_utilization_is_the_booked_fraction_of_the_window(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 0, 10)
    scheduler.book("Ada", 20, 40)
    scheduler.book("Ada", 90, 120)
    assert scheduler.utilization("Ada", 0, 100) == pytest.approx(0.4)
    assert scheduler.utilization("Ada", 0, 40) == pytest.approx(0.75)
    assert scheduler.utilization("Ada", 10, 20) == 0
    assert scheduler.utilization("Ada", 0, 10) == pytest.approx(1.0)
    assert scheduler.utilization("Grace", 0, 100) == 0


def test_utilization_is_compared_with_a_tolerance(scheduler: Scheduler) -> None:
    for start in (0, 2, 4):
        scheduler.book("Ada", start, start + 1)
    assert scheduler.utilization("Ada", 0, 10) == pytest.approx(0.3)


# S12 invariants, over any bookings and any window

bookings = st.lists(st.tuples(st.integers(0, DAY_MINUTES - 1), st.integers(1, 600)), max_size=12)
windows = st.tuples(st.integers(0, DAY_MINUTES - 1), st.integers(1, DAY_MINUTES)).map(
    lambda w: (w[0], min(DAY_MINUTES, w[0] + w[1]))
)


@given(bookings, windows)
def test_free_and_booked_minutes_fill_the_window(requests: list[tuple[int, int]], window: tuple[int, int]) -> None:
    scheduler = Scheduler()
    kept: list[Booking] = []
    for start, length in requests:
        end = min(DAY_MINUTES, start + length)
        overlaps = any(b.start < end and start < b.end for b in kept)
        try:
            kept.append(scheduler.book("Ada", start, end))
        except Conflict:
            assert overlaps
        else:
            assert not overlaps
    low, high = window
    free = scheduler.free_slots("Ada", low, high)
    booked = sum(max(0, min(b.end, high) - max(b.start, low)) for b in kept)
    assert sum(end - start for start, end in free) + booked == high - low
    assert scheduler.utilization("Ada", low, high) == pytest.approx(booked / (high - low))
