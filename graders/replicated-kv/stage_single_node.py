"""Stage 1: one node alone is its own majority: get, put and compare-and-set, and retries applied once."""

from labkit.checks import expect, expect_equal

SEMANTICS_HINT = "put stores a value; get returns the last one stored; README, 'The client protocol'"
RETRY_HINT = (
    "remember the answer given to each rid: a request whose rid was already applied gets that same answer "
    "and changes nothing (README, 'Retries')"
)
LONGEST = 1024  # README: keys and values are strings of 1 to 1024 characters


def _values(rng, count):
    return [f"v{rng.randrange(10, 10_000)}-{n}" for n in range(count)]


def _longest(text):
    """``text`` padded to the README's longest key or value: 1024 characters."""
    return text.ljust(LONGEST, "z")


def check_put_then_get_returns_the_last_value(lone_kv, rng):
    """A get returns the last value put, for several keys (the shortest and longest allowed) and overwrites"""
    client = lone_kv.client()
    latest = {}
    for n in range(4):
        key = f"key-{rng.randrange(100, 1000)}-{n}"
        values = _values(rng, 2)
        if n == 2:  # the shortest keys and values: one character
            key, values = rng.choice("ABCDEFGH"), ["x", "y"]
        elif n == 3:  # request lines of about 2 KiB: keys and values may have 1024 characters
            key, values = _longest(key), [_longest(value) for value in values]
        for value in values:
            put = f"put {_short(key)}={_short(value)}"
            expect_equal(client.put(key, value, via=0).result(), "→ ok", put, hint=SEMANTICS_HINT)
            latest[key] = value
        _expect_read(client, key, latest[key], "after two puts")
    for key, value in latest.items():
        _expect_read(client, key, value, "after the other keys' puts")


def _expect_read(client, key, value, when):
    got = client.get(key, via=0).output
    expect_equal(_short(got), _short(value), f"get {_short(key)} {when}", hint=SEMANTICS_HINT)
    expect(got == value, f"get {_short(key)} {when} returned another value of the same length", hint=SEMANTICS_HINT)


def check_missing_key_is_not_found(lone_kv, rng):
    """A key never written is not_found, for get and for compare-and-set"""
    client = lone_kv.client()
    for n in range(2):
        key = f"absent-{rng.randrange(1000, 10_000)}-{n}"
        reply = client.ask(0, {"rid": client.next_rid(), "op": "get", "key": key})
        expect_equal(_error(reply), "not_found", f"the error for get {key}", hint="a missing key is not_found")
        reply = client.ask(0, {"rid": client.next_rid(), "op": "cas", "key": key, "from": "a", "to": "b"})
        expect_equal(_error(reply), "not_found", f"the error for cas {key}", hint="cas on a missing key is not_found")


def check_cas_swaps_only_on_a_match(lone_kv, rng):
    """Compare-and-set swaps when the value matches, and answers cas_mismatch with the value otherwise"""
    client = lone_kv.client()
    for n in range(3):
        key = f"counter-{n}"
        old, new, other = _values(rng, 3)
        client.put(key, old, via=0)
        reply = client.ask(0, {"rid": client.next_rid(), "op": "cas", "key": key, "from": other, "to": new})
        expect_equal(_error(reply), "cas_mismatch", f"cas {key} {other}→{new} while it holds {old}")
        expect_equal((reply or {}).get("value"), old, "the current value in the cas_mismatch reply")
        expect_equal(client.get(key, via=0).output, old, f"get {key} after a failed cas", hint=SEMANTICS_HINT)
        reply = client.ask(0, {"rid": client.next_rid(), "op": "cas", "key": key, "from": old, "to": new})
        expect_equal((reply or {}).get("ok"), True, f"cas {key} {old}→{new} while it holds {old}")
        expect_equal(client.get(key, via=0).output, new, f"get {key} after a cas", hint=SEMANTICS_HINT)


def check_retried_request_is_applied_once(lone_kv, rng):
    """A request sent again with the same rid gets its first answer and changes nothing"""
    client = lone_kv.client()
    key = f"retried-{rng.randrange(100, 1000)}"
    first, second, third = _values(rng, 3)
    put_first = {"rid": client.next_rid(), "op": "put", "key": key, "value": first}
    expect_equal((client.ask(0, put_first) or {}).get("ok"), True, f"put {key}={first}")
    client.put(key, second, via=0)
    expect_equal((client.ask(0, put_first) or {}).get("ok"), True, f"put {key}={first} sent again, same rid")
    expect_equal(client.get(key, via=0).output, second, f"get {key} after the retried put", hint=RETRY_HINT)
    swap = {"rid": client.next_rid(), "op": "cas", "key": key, "from": second, "to": third}
    expect_equal((client.ask(0, swap) or {}).get("ok"), True, f"cas {key} {second}→{third}")
    again = client.ask(0, swap)
    expect_equal(_error(again) or "ok", "ok", f"cas {key} {second}→{third} sent again, same rid", hint=RETRY_HINT)
    expect_equal(client.get(key, via=0).output, third, f"get {key} after the retried cas", hint=RETRY_HINT)
    # A cas that answered cas_mismatch was applied too: sent again once it would match, it answers as it did.
    missed = {"rid": client.next_rid(), "op": "cas", "key": key, "from": second, "to": first}
    expect_equal(_mismatch(client.ask(0, missed)), ("cas_mismatch", third), f"cas {key} {second}→{first}")
    client.put(key, second, via=0)
    retried = _mismatch(client.ask(0, missed))
    expect_equal(retried, ("cas_mismatch", third), f"cas {key} {second}→{first} sent again, same rid", hint=RETRY_HINT)
    expect_equal(client.get(key, via=0).output, second, f"get {key} after the retried cas_mismatch", hint=RETRY_HINT)


def check_malformed_requests_get_bad_request(lone_kv):
    """A malformed request is answered bad_request and the connection keeps serving"""
    client = lone_kv.client()
    malformed = {
        b"not json\n": None,
        b'{"rid": "x1", "op": "increment", "key": "k"}\n': "x1",
        b'{"rid": "x2", "op": "put"}\n': "x2",
        b'{"rid": 7, "op": "get", "key": "k"}\n': None,
    }
    for line, rid in malformed.items():
        reply = client.ask(0, line)
        expect(reply is not None, f"node 0 did not answer {line!r} within 5 s", hint="answer every line")
        expect_equal(_error(reply), "bad_request", f"the error for {line!r}", hint="README, 'The client protocol'")
        expect_equal(reply.get("rid"), rid, f"the rid of the answer to {line!r}", hint="a string rid, else null")
    extra = {"rid": client.next_rid(), "op": "put", "key": "after-bad", "value": "still-here", "trace": "t-1"}
    expect_equal((client.ask(0, extra) or {}).get("ok"), True, "a put with an extra field, on the same connection")
    expect_equal(client.get("after-bad", via=0).output, "still-here", "get after-bad")


def _short(text):
    """A value as a message shows it: the longest keys and values only by their start and length."""
    return text if not isinstance(text, str) or len(text) <= 40 else f"{text[:16]}… ({len(text)} characters)"


def _mismatch(reply):
    """(error, value) of a cas answer: ("cas_mismatch", the value it saw) for a mismatch."""
    return None if reply is None else (reply.get("error"), reply.get("value"))


def _error(reply):
    return None if reply is None else reply.get("error")
