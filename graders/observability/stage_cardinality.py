"""Stage 5: user ids and raw paths never become label values: a hundred of them create no new series."""

import random

from exposition import Exposition, scrape, shown
from labkit.checks import fail
from traffic import UNMATCHED, USERS, WORDS, Call, send, send_all

DISTINCT = 100
HINT = "label values come from a small fixed set (methods, route templates, status codes): never a raw path or id"


def expect_no_new_series(before: Exposition, after: Exposition, sent: list[str], what: str) -> None:
    new = after.series() - before.series()
    leaking = {(name, labels) for name, labels in after.series() if any(s in v for _, v in labels for s in sent)}
    if new or leaking:
        fail(
            f"{DISTINCT} distinct {what} created {len(new)} new series",
            expected="no new series, and no label value holding one of them",
            got=shown(new | leaking),
            hint=HINT,
        )


def check_user_ids_create_no_series(shop, rng: random.Random):
    """A hundred distinct user ids add no series to any family"""
    ids = [str(n) for n in rng.sample(range(10**6, 10**9), DISTINCT)]
    send(shop, Call("GET", f"/users/{rng.randrange(10, 99)}", USERS, 200))  # its series exist before the count
    before = scrape(shop)
    send_all(shop, [Call("GET", f"/users/{user_id}", USERS, 200) for user_id in ids])
    expect_no_new_series(before, scrape(shop), ids, "user ids")


def check_raw_paths_create_no_series(shop, rng: random.Random):
    """A hundred distinct unmatched paths add no series to any family"""
    paths = [f"/{rng.choice(WORDS)}-{n}/{rng.getrandbits(24):06x}" for n in range(DISTINCT)]
    send(shop, Call("GET", f"/{rng.choice(WORDS)}", UNMATCHED, 404))
    before = scrape(shop)
    send_all(shop, [Call("GET", path, UNMATCHED, 404) for path in paths])
    expect_no_new_series(before, scrape(shop), paths, "unmatched paths")
