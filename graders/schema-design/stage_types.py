"""Stage 6: types that fit the data: exact money, times with zones, integer counts, keys that match."""

from labkit.checks import fail
from pgcatalog import columns, foreign_keys

MONEY = (("products", "price"), ("order_lines", "unit_price"), ("payments", "amount"))
TIMES = (
    ("users", "created_at"),
    ("products", "created_at"),
    ("orders", "created_at"),
    ("payments", "paid_at"),
    ("reviews", "created_at"),
)
COUNTS = (("products", "stock"), ("order_lines", "quantity"), ("reviews", "rating"))
TEXTS = (
    ("users", "email"),
    ("users", "full_name"),
    ("products", "sku"),
    ("products", "title"),
    ("payments", "provider_ref"),
    ("reviews", "body"),
)
INTEGERS = ("smallint", "integer", "bigint")
KEY_TYPES = ("integer", "bigint", "uuid")
TEXT_TYPES = ("text", "character varying", "citext")


def report(problems: list[str], expected: str, hint: str) -> None:
    if problems:
        fail("\n".join(problems), expected=expected, hint=hint)


def check_money_is_exact_with_two_decimals(app, admin):
    """Money columns are numeric with 2 decimal places (precision 10 or more)"""
    found = columns(admin)
    problems = []
    for key in MONEY:
        column = found[key]
        if column.data_type != "numeric" or column.scale != 2 or (column.precision or 0) < 10:
            why = {
                "double precision": "binary floating point: 0.10 + 0.20 is not 0.30, and cents drift",
                "real": "binary floating point: 0.10 + 0.20 is not 0.30, and cents drift",
                "money": "the money type formats by the server's locale and has no currency",
            }.get(column.shown_type(), "amounts in this marketplace are currency units with exactly 2 decimals")
            problems.append(f"{column.qualified} is {column.shown_type()}: {why}")
    report(problems, "numeric(p,2) with p >= 10, e.g. numeric(12,2)", "declare money columns numeric(12,2)")


def check_times_counts_keys_and_text_have_fitting_types(app, admin):
    """Timestamps are timestamptz, counts integers, ids integer or uuid, foreign keys of their key's type"""
    found = columns(admin)
    problems = [
        f"{column.qualified} is {column.shown_type()}: it stores a wall-clock reading without saying in which zone"
        for column in (found[key] for key in TIMES)
        if column.data_type != "timestamp with time zone"
    ]
    report(problems, "timestamp with time zone (timestamptz)", "declare every point in time as timestamptz")
    problems = [
        f"{column.qualified} is {column.shown_type()}: a count is a whole number"
        for column in (found[key] for key in COUNTS)
        if column.data_type not in INTEGERS
    ]
    report(problems, "smallint, integer or bigint", "declare counts and ratings as integer (or smallint)")
    problems = [
        f"{table}.id is {found[(table, 'id')].shown_type()}"
        for table in ("users", "products", "orders", "payments", "reviews")
        if found[(table, "id")].data_type not in KEY_TYPES and found[(table, "id")].udt_name not in KEY_TYPES
    ]
    report(problems, "ids of type bigint, integer or uuid", "generate ids: bigint GENERATED ALWAYS AS IDENTITY")
    for fk in foreign_keys(admin):
        for column, ref in zip(fk.columns, fk.ref_columns, strict=True):
            mine, theirs = found.get((fk.table, column)), found.get((fk.ref_table, ref))
            if mine and theirs and (mine.data_type, mine.udt_name) != (theirs.data_type, theirs.udt_name):
                problems.append(
                    f"{mine.qualified} is {mine.shown_type()} but it references {theirs.qualified}, "
                    f"which is {theirs.shown_type()}"
                )
    report(problems, "each foreign key column has the type of the column it references", "use the same type")
    problems = [
        f"{column.qualified} is {column.shown_type()}"
        + (": char(n) pads with spaces and compares strangely" if column.data_type == "character" else "")
        for column in (found[key] for key in TEXTS)
        if column.data_type not in TEXT_TYPES and column.udt_name not in TEXT_TYPES
    ]
    report(problems, "text, varchar(n) or citext", "declare strings as text")
