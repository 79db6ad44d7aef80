"""Stage 4: a seat is sold once, however many people ask for it at the same moment."""

from bankdb import Booking
from labkit.checks import expect_equal, fail
from labkit.pool import call
from verdicts import expect_int_id, expect_int_ids

EVENT = 1
OTHER_EVENT = 12  # has a seat of the same name: a seat is booked once per event
TAKEN_HINT = "a seat that already has a booking raises SeatTaken, whoever asks"
DOUBLE_HINT = (
    "checking for a booking and then inserting is a race: add a UNIQUE constraint on bookings (event_id, seat) "
    "in migrate() and turn the conflict into SeatTaken (INSERT ... ON CONFLICT DO NOTHING RETURNING id), or lock "
    "the seat row (SELECT ... FROM seats ... FOR UPDATE) before checking"
)


def check_second_booking_of_a_seat_is_refused(bank):
    """A booked seat raises SeatTaken; other seats, and the same seat of another event, stay bookable"""
    bank.db.add_seats(EVENT, ["A1", "A2"])
    bank.db.add_seats(OTHER_EVENT, ["A1"])
    first = bank.returns("book_seat", EVENT, "A1", 10)
    expect_int_id("book_seat", first, "booking id")
    expect_equal(bank.db.bookings(), [Booking(first, EVENT, "A1", 10)], "the bookings table after one booking")
    bank.raises("SeatTaken", "book_seat", EVENT, "A1", 11, hint=TAKEN_HINT)
    bank.expect_no_open_transactions(after="book_seat() raised SeatTaken")
    second = bank.returns("book_seat", EVENT, "A2", 11)
    elsewhere_outcome = bank.outcome("book_seat", OTHER_EVENT, "A1", 12)
    if elsewhere_outcome.raised == "SeatTaken":
        fail(
            f"book_seat({OTHER_EVENT}, 'A1', 12) raised SeatTaken, but only seat A1 of event {EVENT} is booked",
            hint="a seat is its event and its name together: the unique constraint (or the lock) covers "
            "(event_id, seat), not the seat's name alone",
        )
    bank.expect_answers([elsewhere_outcome])
    elsewhere = elsewhere_outcome.value
    expect_equal(
        bank.db.bookings(),
        [Booking(first, EVENT, "A1", 10), Booking(second, EVENT, "A2", 11), Booking(elsewhere, OTHER_EVENT, "A1", 12)],
        f"the bookings table after booking A1 and A2 of event {EVENT} and A1 of event {OTHER_EVENT}",
    )


CONTESTS = {"A1": (11, 12, 13, 14), "B1": (21, 22, 23, 24)}  # seat: users who all want it


def check_concurrent_bookings_have_one_winner(bank):
    """Four people booking the same seat at once: exactly one gets it"""
    bank.db.add_seats(EVENT, [*CONTESTS, "C1"])
    calls = [call("book_seat", EVENT, seat, user) for seat, users in CONTESTS.items() for user in users]
    outcomes = bank.race(calls, seats=[(EVENT, seat) for seat in CONTESTS])
    bank.expect_answers(outcomes, allowed={"SeatTaken"})
    expect_int_ids(outcomes, "booking id")
    bookings = bank.db.bookings()
    for seat, users in CONTESTS.items():
        holders = sorted(booking.user_id for booking in bookings if booking.seat == seat)
        if len(holders) > 1:
            fail(
                f"double booking: seat {seat} of event {EVENT} has {len(holders)} bookings (users "
                f"{', '.join(map(str, holders))})",
                hint=DOUBLE_HINT,
            )
        winners = [o for o in outcomes if o.returned and o.call.args[1] == seat]
        if len(winners) != 1:
            fail(
                f"{len(winners)} of {len(users)} concurrent bookings of seat {seat} succeeded; exactly one must, "
                "the others raise SeatTaken",
                hint=DOUBLE_HINT,
            )
        winner = winners[0]
        if [Booking(winner.value, EVENT, seat, winner.call.args[2])] != [b for b in bookings if b.seat == seat]:
            fail(
                f"the booking of seat {seat} in the bookings table is not the one book_seat() returned",
                got=f"returned {winner}; table: {[b for b in bookings if b.seat == seat]}",
                hint="return the id of the row you inserted, for the user who asked",
            )
    bank.expect_no_open_transactions(after="the bookings returned")
