"""Stage 10: secrets sent with requests appear in no log line, span, metric label or downstream request."""

import random
from dataclasses import dataclass

import pytest

from collector import SPAN_KIND_SERVER
from exposition import scrape
from labkit.checks import fail
from logs import StdoutLog
from shopclient import Shop
from spans import in_trace
from traffic import CHECKOUT, Call, new_trace, order, send, unmatched, user

HINT = "log and trace only what the README lists: the path without its query, never headers or bodies wholesale"


@dataclass(frozen=True)
class Secrets:
    by_channel: dict[str, str]  # where the secret was sent -> its value
    stdout: str
    stderr: str


def canary(rng: random.Random, channel: str) -> str:
    return f"canary{channel[:3]}{rng.getrandbits(64):016x}"


@pytest.fixture
def secrets(service, collector, rng: random.Random) -> Secrets:
    values = {
        "the Authorization header": canary(rng, "aut"),
        "the Cookie header": canary(rng, "coo"),
        "the token query parameter": canary(rng, "tok"),
        "the checkout body's password": canary(rng, "pas"),
        "the checkout body's card_number": canary(rng, "car"),
    }
    token, password, card = (values[k] for k in list(values)[2:])
    headers = {"Authorization": f"Bearer {values['the Authorization header']}",
               "Cookie": f"session={values['the Cookie header']}"}  # fmt: skip
    item = f"item-{rng.getrandbits(32):08x}"
    calls = [
        user(rng, query=f"?token={token}"),
        Call("POST", f"/checkout?token={token}", CHECKOUT, 200, order(item, 2, password=password, card_number=card)),
        Call("POST", "/checkout", CHECKOUT, 400, order(item, 0, password=password, card_number=card)),
        unmatched(rng),
    ]
    stdout = StdoutLog(service)
    shop = Shop(service.port or 0)
    mark = collector.mark()
    traces = [new_trace(rng) for _ in calls]
    for call, (_, _, header) in zip(calls, traces, strict=True):
        send(shop, call.with_headers(traceparent=header, **headers))
    for trace_id, _, _ in traces:
        in_trace(collector, mark, trace_id, SPAN_KIND_SERVER, hint="export a server span for every request")
    stdout.requests(len(calls))
    stderr = service.stderr_path.read_text(errors="replace") if service.stderr_path.exists() else ""
    return Secrets(values, stdout.text(), stderr)


def leaks(text: str, secrets: Secrets, where: str) -> list[str]:
    found = []
    for channel, value in secrets.by_channel.items():
        for line in text.splitlines():
            if value in line:
                found.append(f"the secret from {channel} is in {where}: {line.strip()[:240]}")
                break
    return found


def report(found: list[str]) -> None:
    if found:
        fail(
            f"{len(found)} secret(s) leaked",
            expected="no secret in stdout, stderr, spans, metric labels or the downstream request",
            got="\n".join(found),
            hint=HINT,
        )


def check_no_secret_in_logs(secrets: Secrets):
    """No secret appears on stdout or stderr"""
    report(leaks(secrets.stdout, secrets, "stdout") + leaks(secrets.stderr, secrets, "stderr"))


def check_no_secret_in_spans_metrics_or_downstream(secrets: Secrets, shop, collector, downstream):
    """No secret appears in any span, any metric label or the request to the downstream"""
    spans = "\n".join(f"span {span.name!r}: {span.text}" for span in collector.spans())
    calls = "\n".join(charge.text.replace("\n", " | ") for charge in downstream.charges())
    report(
        leaks(spans, secrets, "a span")
        + leaks(scrape(shop).text, secrets, "/metrics")
        + leaks(calls, secrets, "the request to the downstream")
    )
