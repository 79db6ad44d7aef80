"""The rules of labs/testing-quality/README.md, by id: a surviving hidden variant is reported by the rule it breaks."""

RULES = {
    "S1": "S1 time ranges: integer minutes (not bool), 0 <= start < end <= 1440, else InvalidInterval",
    "S2": "S2 room names: a str of 1 to 32 characters without surrounding whitespace, else InvalidRoom",
    "S3": "S3 conflicts: half-open ranges in one room may touch but not overlap; Conflict names the earliest",
    "S4": "S4 rooms are independent",
    "S5": "S5 booking ids: 1, 2, 3, ... never reused, even after a cancel",
    "S6": "S6 a failed call changes nothing",
    "S7": "S7 cancel: returns the booking and frees its time; an unknown or cancelled id raises UnknownBooking",
    "S8": "S8 bookings(room): sorted by start, a new list on every call",
    "S9": "S9 free_slots: maximal gaps inside the window, in order, at least min_length long",
    "S10": "S10 usage: minutes booked inside the window per room, rooms with none left out",
    "S11": "S11 utilization: the booked fraction of the window",
    "S12": "S12 invariants: free and booked minutes fill the window, free slots lie inside it, clear of bookings",
}
