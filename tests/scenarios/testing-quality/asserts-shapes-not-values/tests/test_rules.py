"""The scheduler's rules as unittest cases: each checks that a call works and roughly what it returns."""

import unittest

import scheduler as sc
from hypothesis import given
from hypothesis import strategies as st


class Ranges(unittest.TestCase):
    def setUp(self) -> None:
        self.scheduler = sc.Scheduler()

    def test_an_empty_range_is_refused(self) -> None:
        with self.assertRaises(sc.InvalidInterval):
            self.scheduler.book("Ada", 5, 5)
        self.assertFalse(self.scheduler.bookings("Ada"))

    def test_a_negative_start_is_refused(self) -> None:
        with self.assertRaises(sc.InvalidInterval):
            self.scheduler.book("Ada", -1, 5)
        self.assertFalse(self.scheduler.bookings("Ada"))

    def test_a_boolean_is_refused(self) -> None:
        with self.assertRaises(sc.InvalidInterval):
            self.scheduler.book("Ada", False, 5)
        self.assertFalse(self.scheduler.bookings("Ada"))

    def test_the_whole_day_can_be_booked(self) -> None:
        self.assertTrue(self.scheduler.book("Ada", 0, 1440))

    def test_past_the_day_and_floats_are_refused(self) -> None:
        for start, end in ((0, 1441), (0.0, 5)):
            with self.assertRaises(sc.InvalidInterval):
                self.scheduler.book("Ada", start, end)
        self.assertFalse(self.scheduler.bookings("Ada"))


class Rooms(unittest.TestCase):
    def setUp(self) -> None:
        self.scheduler = sc.Scheduler()

    def test_bad_names_are_refused(self) -> None:
        for name in ("r" * 33, "Ada ", ""):
            with self.assertRaises(sc.InvalidRoom):
                self.scheduler.book(name, 0, 30)
        self.assertFalse(self.scheduler.usage(0, 30))

    def test_a_long_name_is_taken(self) -> None:
        self.assertTrue(self.scheduler.book("r" * 32, 0, 30))

    def test_rooms_are_independent(self) -> None:
        self.scheduler.book("Ada", 600, 660)
        self.assertTrue(self.scheduler.book("Grace", 600, 660))


class Conflicts(unittest.TestCase):
    def setUp(self) -> None:
        self.scheduler = sc.Scheduler()
        self.scheduler.book("Ada", 600, 660)

    def test_touching_is_no_conflict(self) -> None:
        self.assertTrue(self.scheduler.book("Ada", 660, 720))

    def test_enclosing_is_a_conflict(self) -> None:
        with self.assertRaises(sc.Conflict) as raised:
            self.scheduler.book("Ada", 500, 700)
        self.assertIsInstance(raised.exception.existing, sc.Booking)

    def test_the_earlier_booking_is_named(self) -> None:
        self.scheduler.book("Ada", 700, 800)
        with self.assertRaises(sc.Conflict) as raised:
            self.scheduler.book("Ada", 650, 750)
        self.assertLess(raised.exception.existing.start, 700)


class Ids(unittest.TestCase):
    def setUp(self) -> None:
        self.scheduler = sc.Scheduler()

    def test_ids_are_not_reused(self) -> None:
        first = self.scheduler.book("Ada", 0, 10)
        second = self.scheduler.book("Ada", 10, 20)
        self.scheduler.cancel(first.id)
        self.assertNotIn(self.scheduler.book("Ada", 0, 10).id, (first.id, second.id))

    def test_a_failed_booking_uses_no_id(self) -> None:
        first = self.scheduler.book("Ada", 0, 10)
        with self.assertRaises(sc.Conflict):
            self.scheduler.book("Ada", 5, 15)
        self.assertEqual(self.scheduler.book("Ada", 10, 20).id, first.id + 1)

    def test_a_new_scheduler_starts_low(self) -> None:
        self.assertLess(sc.Scheduler().book("Ada", 0, 10).id, 2)

    def test_an_unknown_id_is_refused(self) -> None:
        with self.assertRaises(sc.UnknownBooking):
            self.scheduler.cancel(12)
        self.assertFalse(self.scheduler.bookings("Ada"))

    def test_a_cancel_frees_the_time(self) -> None:
        self.scheduler.cancel(self.scheduler.book("Ada", 0, 10).id)
        self.assertTrue(self.scheduler.book("Ada", 0, 10))


class Listing(unittest.TestCase):
    def setUp(self) -> None:
        self.scheduler = sc.Scheduler()
        self.scheduler.book("Ada", 900, 930)
        self.scheduler.book("Ada", 100, 130)

    def test_sorted_by_start(self) -> None:
        first, second = self.scheduler.bookings("Ada")
        self.assertLess(first.start, second.start)

    def test_a_new_list_each_time(self) -> None:
        self.scheduler.bookings("Ada").clear()
        self.assertTrue(self.scheduler.bookings("Ada"))


class Figures(unittest.TestCase):
    def setUp(self) -> None:
        self.scheduler = sc.Scheduler()

    def test_a_free_room_has_a_slot(self) -> None:
        self.assertTrue(self.scheduler.free_slots("Ada", 100, 200))
        self.assertTrue(self.scheduler.free_slots("Ada", 100, 130, min_length=30))
        for min_length in (0, True):
            with self.assertRaises(sc.InvalidInterval):
                self.scheduler.free_slots("Ada", 100, 130, min_length=min_length)

    def test_usage_leaves_idle_rooms_out_and_is_clipped(self) -> None:
        self.scheduler.book("Ada", 0, 100)
        self.assertNotIn("Ada", self.scheduler.usage(200, 300))
        self.assertLess(self.scheduler.usage(50, 200)["Ada"], 100)

    def test_utilization_is_of_the_window(self) -> None:
        self.scheduler.book("Ada", 0, 40)
        self.assertGreater(self.scheduler.utilization("Ada", 0, 100), 0.1)


class Invariants(unittest.TestCase):
    @given(
        st.lists(st.tuples(st.integers(0, 1439), st.integers(1, 480)), max_size=10),
        st.integers(0, 1439),
        st.integers(1, 1440),
    )
    def test_free_and_booked_fill_the_window(self, requests: list[tuple[int, int]], low: int, size: int) -> None:
        high = min(1440, low + size)
        scheduler = sc.Scheduler()
        taken: set[int] = set()
        for start, length in requests:
            end = min(1440, start + length)
            minutes = set(range(start, end))
            try:
                scheduler.book("Ada", start, end)
            except sc.Conflict:
                self.assertTrue(minutes & taken)
            else:
                self.assertFalse(minutes & taken)
                taken |= minutes
        free = {m for s, e in scheduler.free_slots("Ada", low, high) for m in range(s, e)}
        self.assertEqual(free, set(range(low, high)) - taken)
