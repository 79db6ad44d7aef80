"""Stage 6: stdout is a log of JSON objects, with one request line per request."""

import random
import re

from exposition import scrape
from labkit.checks import fail
from logs import REQUEST_ID, StdoutLog, validate_request_line
from traffic import Call, mixed, send, send_all, slow_checkout, user

LEVELS = {2: "info", 3: "info", 4: "warn", 5: "error"}
SLOW_FLOOR_S, SLOW_CEILING_S = 0.3, 10.0


def request_id(rng: random.Random, n: int) -> str:
    return f"req-{rng.getrandbits(40):010x}.{n}_{rng.choice('ABCxyz')}"


def by_id_sent(calls: list[Call]) -> set[str]:
    return {call.headers["X-Request-ID"] for call in calls}


def check_every_line_is_a_json_object(service, shop, rng: random.Random):
    """Every line on stdout since the start is one JSON object with time, level and msg"""
    send_all(shop, mixed(rng, users=2, unmatched_calls=1, ok=1, invalid=1, failing=1))
    whole = StdoutLog(service)
    whole.start = 0
    lines = whole.requests(1)
    if not lines:
        fail(
            'no line with "msg": "request" on stdout',
            expected="one JSON request line per request served",
            got=whole.text()[-400:] or "(nothing on stdout)",
            hint='print one JSON object per request, with "msg": "request", and flush stdout',
        )


def check_one_request_line_per_request(shop, stdout: StdoutLog, rng: random.Random):
    """Each request has exactly one request line, valid against the schema, with its own fields and level"""
    calls = [*mixed(rng, users=4, unmatched_calls=3, ok=2, invalid=2, failing=2), slow_checkout(rng)]
    calls[0] = user(rng, query=f"?q={rng.getrandbits(20)}")
    calls = [call.with_headers(**{"X-Request-ID": request_id(rng, n)}) for n, call in enumerate(calls)]
    send_all(shop, calls[:3])
    scrape(shop)  # not a request line
    send_all(shop, calls[3:])
    lines = stdout.requests(len(calls))
    for line in lines:
        validate_request_line(line)
    by_id: dict[str, list[int]] = {}
    for line in lines:
        by_id.setdefault(line.record["request_id"], []).append(line.number)
    for call in calls:
        rid = call.headers["X-Request-ID"]
        numbers = by_id.get(rid, [])
        if len(numbers) != 1:
            fail(
                f"{call} (X-Request-ID: {rid}) has {len(numbers)} request lines",
                expected="exactly one line with msg 'request' and this request_id",
                got=f"lines {numbers}" if numbers else "\n".join(line.text[:200] for line in lines[-3:]) or "none",
                hint="log each request once, with the request id it arrived with",
            )
        line = next(line for line in lines if line.number == numbers[0])
        wanted = {
            "method": call.method,
            "route": call.route,
            "path": call.path,
            "status": call.status,
            "level": LEVELS[call.status // 100],
        }
        wrong = {key: line.record.get(key) for key, value in wanted.items() if line.record.get(key) != value}
        if wrong:
            fail(
                f"the request line of {call} has wrong field(s): {', '.join(wrong)}",
                expected=", ".join(f"{key}={value!r}" for key, value in wanted.items()),
                got=line.text[:400],
                hint="route is the template, path has no query string, level follows the status (README.md, Logs)",
            )
    if len(lines) != len(calls):
        fail(
            f"{len(lines)} request lines for {len(calls)} requests and a scrape of /metrics",
            expected=f"{len(calls)} request lines: one per request, none for GET /metrics",
            got="\n".join(line.text[:160] for line in lines if line.record["request_id"] not in by_id_sent(calls)),
            hint="GET /metrics is neither counted, logged nor traced",
        )
    slow = next(line for line in lines if line.record["request_id"] == calls[-1].headers["X-Request-ID"])
    logged = slow.record["duration_seconds"]
    if not SLOW_FLOOR_S <= logged <= SLOW_CEILING_S:
        fail(
            f"a checkout that took {SLOW_FLOOR_S:g} s or more logged a duration_seconds out of range",
            expected=f"a number of seconds between {SLOW_FLOOR_S:g} and {SLOW_CEILING_S:g}",
            got=slow.text[:400],
            hint="log the duration in seconds, as the histogram observes it",
        )


def check_request_id_used_or_generated(shop, stdout: StdoutLog, rng: random.Random):
    """A valid X-Request-ID is used and echoed; a missing or invalid one is replaced by a fresh, unique id"""
    given = request_id(rng, 0)
    invalid = rng.choice(["has space", "x" * 65, "slash/in/it", "semi;colon"])
    cases = [
        ("a valid X-Request-ID", user(rng).with_headers(**{"X-Request-ID": given}), given),
        ("no X-Request-ID", user(rng), None),
        ("no X-Request-ID", user(rng), None),
        (f"X-Request-ID: {invalid!r}", user(rng).with_headers(**{"X-Request-ID": invalid}), None),
    ]
    seen: set[str] = set()
    for label, call, wanted in cases:
        echoed = send(shop, call).headers.get("x-request-id", "")
        ok = echoed == wanted if wanted else bool(re.fullmatch(REQUEST_ID, echoed)) and echoed not in seen
        if not ok:
            fail(
                f"{call} with {label}: the response's X-Request-ID is {echoed!r}",
                expected=wanted or f"a fresh id matching {REQUEST_ID}, different from {sorted(seen) or 'the others'}",
                got=echoed or "(no X-Request-ID header)",
                hint="reuse a valid incoming X-Request-ID; otherwise generate one (uuid4().hex) and send it back",
            )
        seen.add(echoed)
    logged = {line.record.get("request_id") for line in stdout.requests(len(cases))}
    missing = seen - logged
    if missing:
        fail(
            "the request ids sent back are not the ones logged",
            expected=f"request lines with request_id {sorted(seen)}",
            got=f"request_id values logged: {sorted(str(v) for v in logged)}",
            hint="log the same request id that the response carries",
        )
