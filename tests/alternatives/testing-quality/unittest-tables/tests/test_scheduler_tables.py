"""The scheduler's rules as tables, checked by unittest classes: one row per case, each row names its rule."""

import unittest

import scheduler as sc
from hypothesis import given, settings
from hypothesis import strategies as st

# (rule, room, start, end, error or None)
BOOKING_INPUTS = [
    ("S1 shortest", "Ada", 0, 1, None),
    ("S1 whole day", "Ada", 0, 1440, None),
    ("S1 last minute", "Ada", 1439, 1440, None),
    ("S1 empty", "Ada", 300, 300, sc.InvalidInterval),
    ("S1 reversed", "Ada", 301, 300, sc.InvalidInterval),
    ("S1 negative", "Ada", -1, 300, sc.InvalidInterval),
    ("S1 far negative", "Ada", -90, 300, sc.InvalidInterval),
    ("S1 past midnight", "Ada", 1000, 1441, sc.InvalidInterval),
    ("S1 float", "Ada", 0.0, 30, sc.InvalidInterval),
    ("S1 bool", "Ada", False, 30, sc.InvalidInterval),
    ("S1 bool end", "Ada", 0, True, sc.InvalidInterval),
    ("S2 longest", "r" * 32, 0, 30, None),
    ("S2 inner space", "Room 7", 0, 30, None),
    ("S2 empty", "", 0, 30, sc.InvalidRoom),
    ("S2 too long", "r" * 33, 0, 30, sc.InvalidRoom),
    ("S2 leading space", " Ada", 0, 30, sc.InvalidRoom),
    ("S2 trailing newline", "Ada\n", 0, 30, sc.InvalidRoom),
    ("S2 not a str", 42, 0, 30, sc.InvalidRoom),
]

# existing 600-660 in "Ada"; (rule, start, end, conflicts)
AGAINST_ONE = [
    ("S3 touches before", 500, 600, False),
    ("S3 touches after", 660, 700, False),
    ("S3 same", 600, 660, True),
    ("S3 first minute", 599, 601, True),
    ("S3 last minute", 659, 661, True),
    ("S3 inside", 620, 640, True),
    ("S3 encloses", 590, 670, True),
    ("S3 whole day", 0, 1440, True),
]

# bookings (room, start, end); (rule, room, window, min_length, slots)
LAYOUT = [("Ada", 60, 120), ("Ada", 200, 260), ("Ada", 265, 300), ("Ada", 1000, 1440), ("Bob", 0, 720)]
SLOTS = [
    ("S9 whole day", "Ada", (0, 1440), 1, [(0, 60), (120, 200), (260, 265), (300, 1000)]),
    ("S9 clipped at both ends", "Ada", (90, 230), 1, [(120, 200)]),
    ("S9 window inside a booking", "Ada", (70, 110), 1, []),
    ("S9 window inside a gap", "Ada", (130, 150), 1, [(130, 150)]),
    ("S9 ends in a booking", "Ada", (900, 1100), 1, [(900, 1000)]),
    ("S9 exact min length", "Ada", (0, 1440), 60, [(0, 60), (120, 200), (300, 1000)]),
    ("S9 one over", "Ada", (0, 1440), 61, [(120, 200), (300, 1000)]),
    ("S9 five-minute gap", "Ada", (250, 280), 5, [(260, 265)]),
    ("S9 other room", "Bob", (600, 800), 1, [(720, 800)]),
    ("S9 unknown room", "Cy", (10, 20), 1, [(10, 20)]),
]
USAGE = [
    ("S10 whole day", (0, 1440), {"Ada": 60 + 60 + 35 + 440, "Bob": 720}),
    ("S10 clipped", (100, 210), {"Ada": 30, "Bob": 110}),
    ("S10 idle rooms left out", (800, 900), {}),
    ("S10 one room", (721, 1001), {"Ada": 1}),
]
UTILIZATION = [
    ("S11 half", "Bob", (0, 1440), 0.5),
    ("S11 thirds", "Ada", (60, 240), 100 / 180),
    ("S11 none", "Ada", (130, 150), 0.0),
    ("S11 full", "Ada", (1000, 1440), 1.0),
]


def laid_out() -> sc.Scheduler:
    scheduler = sc.Scheduler()
    for room, start, end in LAYOUT:
        scheduler.book(room, start, end)
    return scheduler


class TestValidation(unittest.TestCase):
    def test_booking_inputs(self) -> None:
        for rule, room, start, end, error in BOOKING_INPUTS:
            scheduler = sc.Scheduler()
            if error is None:
                booking = scheduler.book(room, start, end)
                self.assertEqual((booking.room, booking.start, booking.end), (room, start, end), rule)
            else:
                with self.assertRaises(error, msg=rule):
                    scheduler.book(room, start, end)
                self.assertEqual(scheduler.usage(0, 1440), {}, rule)

    def test_every_call_checks_its_range(self) -> None:
        scheduler = laid_out()
        for start, end in [(5, 5), (-2, 10), (10, 1441), (10, 9), (True, 9), (1.0, 9)]:
            for call, args in (
                (scheduler.free_slots, ("Ada", start, end)),
                (scheduler.usage, (start, end)),
                (scheduler.utilization, ("Ada", start, end)),
            ):
                with self.assertRaises(sc.InvalidInterval):
                    call(*args)
        self.assertEqual(len(scheduler.bookings("Ada")), 4)

    def test_every_call_checks_its_room(self) -> None:
        scheduler = laid_out()
        for room in ["", "Ada ", "x" * 33, None]:
            for call, args in (
                (scheduler.bookings, (room,)),
                (scheduler.free_slots, (room, 0, 10)),
                (scheduler.utilization, (room, 0, 10)),
            ):
                with self.assertRaises(sc.InvalidRoom):
                    call(*args)
        self.assertIn("Ada", scheduler.usage(0, 1440))

    def test_min_length_must_be_a_positive_int(self) -> None:
        scheduler = laid_out()
        for min_length in [0, -1, 2.0, False, True]:
            with self.assertRaises(sc.InvalidInterval):
                scheduler.free_slots("Ada", 0, 60, min_length=min_length)
        self.assertEqual(scheduler.free_slots("Ada", 0, 60, min_length=1), [(0, 60)])


class TestConflicts(unittest.TestCase):
    def test_against_one_booking(self) -> None:
        for rule, start, end, conflicts in AGAINST_ONE:
            scheduler = sc.Scheduler()
            existing = scheduler.book("Ada", 600, 660)
            if conflicts:
                with self.assertRaises(sc.Conflict, msg=rule) as raised:
                    scheduler.book("Ada", start, end)
                self.assertEqual(raised.exception.existing, existing, rule)
                self.assertEqual(scheduler.bookings("Ada"), [existing], rule)
            else:
                self.assertEqual(scheduler.book("Ada", start, end).id, 2, rule)

    def test_earliest_overlapped_is_named(self) -> None:
        scheduler = laid_out()
        with self.assertRaises(sc.Conflict) as raised:
            scheduler.book("Ada", 100, 1200)
        self.assertEqual((raised.exception.existing.start, raised.exception.existing.id), (60, 1))

    def test_long_booking_far_back(self) -> None:
        scheduler = laid_out()
        with self.assertRaises(sc.Conflict) as raised:
            scheduler.book("Ada", 1400, 1420)
        self.assertEqual(raised.exception.existing.start, 1000)

    def test_rooms_do_not_conflict(self) -> None:
        scheduler = laid_out()
        self.assertEqual(scheduler.book("Cy", 60, 120).room, "Cy")
        self.assertEqual([b.room for b in scheduler.bookings("Cy")], ["Cy"])


class TestLifecycle(unittest.TestCase):
    def test_ids_and_cancel(self) -> None:
        scheduler = laid_out()
        self.assertEqual([b.id for b in scheduler.bookings("Ada")], [1, 2, 3, 4])
        with self.assertRaises(sc.Conflict):
            scheduler.book("Bob", 10, 20)
        cancelled = scheduler.cancel(5)
        self.assertEqual(cancelled, sc.Booking(5, "Bob", 0, 720))
        self.assertEqual(scheduler.book("Bob", 10, 20).id, 6)
        self.assertEqual(scheduler.free_slots("Bob", 0, 30), [(0, 10), (20, 30)])
        for unknown in (5, 0, 7, 100):
            with self.assertRaises(sc.UnknownBooking):
                scheduler.cancel(unknown)
        self.assertEqual(len(scheduler.bookings("Ada")), 4)

    def test_listing_is_sorted_and_fresh(self) -> None:
        scheduler = sc.Scheduler()
        for start in (700, 20, 400, 1100):
            scheduler.book("Ada", start, start + 10)
        listed = scheduler.bookings("Ada")
        self.assertEqual([b.start for b in listed], [20, 400, 700, 1100])
        listed.pop()
        self.assertEqual(len(scheduler.bookings("Ada")), 4)
        self.assertEqual(scheduler.bookings("Nobody"), [])


class TestQueries(unittest.TestCase):
    def test_free_slots(self) -> None:
        scheduler = laid_out()
        for rule, room, (start, end), min_length, slots in SLOTS:
            self.assertEqual(scheduler.free_slots(room, start, end, min_length), slots, rule)

    def test_usage(self) -> None:
        scheduler = laid_out()
        for rule, (start, end), expected in USAGE:
            self.assertDictEqual(scheduler.usage(start, end), expected, rule)

    def test_utilization(self) -> None:
        scheduler = laid_out()
        for rule, room, (start, end), expected in UTILIZATION:
            self.assertAlmostEqual(scheduler.utilization(room, start, end), expected, places=9, msg=rule)


class TestInvariants(unittest.TestCase):
    @settings(max_examples=60)
    @given(
        st.lists(st.tuples(st.integers(0, 1439), st.integers(1, 480)), max_size=10),
        st.integers(0, 1439),
        st.integers(1, 1440),
    )
    def test_window_is_split_into_free_and_booked(self, requests: list[tuple[int, int]], low: int, size: int) -> None:
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
