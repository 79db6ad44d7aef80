"""Tests of scheduler.py: one per way the README says it could break, each checking just that."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scheduler import DAY_MINUTES, Conflict, InvalidInterval, InvalidRoom, Scheduler, UnknownBooking


@pytest.fixture
def scheduler() -> Scheduler:
    return Scheduler()


def test_an_empty_range_is_refused(scheduler: Scheduler) -> None:
    with pytest.raises(InvalidInterval):
        scheduler.book("Ada", 10, 10)
    assert scheduler.bookings("Ada") == []


def test_the_whole_day_can_be_booked(scheduler: Scheduler) -> None:
    assert scheduler.book("Ada", 0, DAY_MINUTES).end == DAY_MINUTES


def test_a_negative_start_is_refused(scheduler: Scheduler) -> None:
    with pytest.raises(InvalidInterval):
        scheduler.book("Ada", -1, 10)
    assert scheduler.bookings("Ada") == []


def test_an_end_past_the_day_is_refused(scheduler: Scheduler) -> None:
    with pytest.raises(InvalidInterval):
        scheduler.book("Ada", 0, 1441)
    assert scheduler.bookings("Ada") == []


def test_a_float_is_refused(scheduler: Scheduler) -> None:
    with pytest.raises(InvalidInterval):
        scheduler.book("Ada", 10.0, 20)
    assert scheduler.bookings("Ada") == []


def test_a_boolean_is_refused(scheduler: Scheduler) -> None:
    with pytest.raises(InvalidInterval):
        scheduler.book("Ada", True, 10)
    assert scheduler.bookings("Ada") == []


def test_a_long_room_name_is_refused(scheduler: Scheduler) -> None:
    with pytest.raises(InvalidRoom):
        scheduler.book("x" * 33, 0, 10)
    assert scheduler.usage(0, 10) == {}


def test_a_room_name_of_32_characters_is_taken(scheduler: Scheduler) -> None:
    assert scheduler.book("x" * 32, 0, 10).room == "x" * 32


def test_an_empty_room_name_is_refused(scheduler: Scheduler) -> None:
    with pytest.raises(InvalidRoom):
        scheduler.book("", 0, 10)
    assert scheduler.usage(0, 10) == {}


def test_a_padded_room_name_is_refused(scheduler: Scheduler) -> None:
    with pytest.raises(InvalidRoom):
        scheduler.book(" Ada", 0, 10)
    assert scheduler.usage(0, 10) == {}


def test_touching_ranges_do_not_conflict(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 600, 660)
    assert scheduler.book("Ada", 660, 720).start == 660


def test_a_range_that_ends_where_another_starts_does_not_conflict(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 600, 660)
    assert scheduler.book("Ada", 540, 600).start == 540


def test_an_enclosing_range_conflicts(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 600, 660)
    with pytest.raises(Conflict):
        scheduler.book("Ada", 500, 700)
    assert len(scheduler.bookings("Ada")) == 1


def test_the_earliest_conflict_is_named(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 100, 200)
    scheduler.book("Ada", 300, 400)
    with pytest.raises(Conflict) as raised:
        scheduler.book("Ada", 150, 350)
    assert raised.value.existing.start == 100


def test_rooms_do_not_conflict(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 600, 660)
    assert scheduler.book("Grace", 600, 660).room == "Grace"


def test_ids_are_not_reused(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 0, 10)
    first = scheduler.book("Ada", 10, 20)
    scheduler.cancel(first.id)
    assert scheduler.book("Ada", 10, 20).id == 3


def test_each_scheduler_counts_its_own_ids() -> None:
    Scheduler().book("Ada", 0, 10)
    assert Scheduler().book("Ada", 0, 10).id == 1


def test_a_conflict_uses_no_id(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 0, 10)
    with pytest.raises(Conflict):
        scheduler.book("Ada", 5, 15)
    assert scheduler.book("Ada", 10, 20).id == 2


def test_an_unknown_id_cannot_be_cancelled(scheduler: Scheduler) -> None:
    with pytest.raises(UnknownBooking):
        scheduler.cancel(99)
    assert scheduler.bookings("Ada") == []


def test_a_cancelled_booking_frees_its_time(scheduler: Scheduler) -> None:
    booking = scheduler.book("Ada", 0, 10)
    scheduler.cancel(booking.id)
    assert scheduler.book("Ada", 0, 10).start == 0


def test_bookings_are_sorted_by_start(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 900, 930)
    scheduler.book("Ada", 100, 130)
    assert [b.start for b in scheduler.bookings("Ada")] == [100, 900]


def test_bookings_returns_a_copy(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 0, 10)
    scheduler.bookings("Ada").clear()
    assert len(scheduler.bookings("Ada")) == 1


def test_a_free_room_is_free_for_the_whole_window(scheduler: Scheduler) -> None:
    assert scheduler.free_slots("Ada", 100, 200) == [(100, 200)]


def test_a_slot_of_exactly_min_length_is_kept(scheduler: Scheduler) -> None:
    assert scheduler.free_slots("Ada", 100, 130, min_length=30) == [(100, 130)]


def test_a_min_length_of_zero_is_refused(scheduler: Scheduler) -> None:
    with pytest.raises(InvalidInterval):
        scheduler.free_slots("Ada", 100, 130, min_length=0)
    assert scheduler.bookings("Ada") == []


def test_a_boolean_min_length_is_refused(scheduler: Scheduler) -> None:
    with pytest.raises(InvalidInterval):
        scheduler.free_slots("Ada", 100, 130, min_length=True)
    assert scheduler.bookings("Ada") == []


def test_idle_rooms_are_left_out_of_usage(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 0, 10)
    assert "Ada" not in scheduler.usage(100, 200)


def test_usage_is_clipped_to_the_window(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 0, 100)
    assert scheduler.usage(50, 200)["Ada"] == 50


def test_utilization_is_a_fraction_of_the_window(scheduler: Scheduler) -> None:
    scheduler.book("Ada", 0, 40)
    assert scheduler.utilization("Ada", 0, 100) == pytest.approx(0.4)


requests = st.lists(st.tuples(st.integers(0, DAY_MINUTES - 1), st.integers(1, 600)), max_size=12)
windows = st.tuples(st.integers(0, DAY_MINUTES - 1), st.integers(1, DAY_MINUTES))


@given(requests, windows)
def test_free_and_booked_minutes_fill_the_window(booked: list[tuple[int, int]], window: tuple[int, int]) -> None:
    scheduler = Scheduler()
    kept = []
    for start, length in booked:
        end = min(DAY_MINUTES, start + length)
        try:
            kept.append(scheduler.book("Ada", start, end))
        except Conflict:
            assert any(b.start < end and start < b.end for b in kept)
    low, high = window[0], min(DAY_MINUTES, window[0] + window[1])
    slots = scheduler.free_slots("Ada", low, high)
    free = sum(end - start for start, end in slots)
    busy = sum(max(0, min(b.end, high) - max(b.start, low)) for b in kept)
    assert free + busy == high - low
    for start, end in slots:
        assert low <= start < end <= high
        assert not any(b.start < end and start < b.end for b in kept)
