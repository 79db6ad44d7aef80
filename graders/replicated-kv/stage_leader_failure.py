"""Stage 4: the leader dies: the others elect a new one within 5 s, and no acknowledged write is lost."""

from helpers import expect_all_read, leader_of, values, write_all
from labkit.checks import expect_equal, log

ROUNDS = 2
RETRY_HINT = (
    "the answers given to request ids are part of the replicated state: a retry that reaches the new leader gets "
    "the first answer and changes nothing (README, 'Retries')"
)


def check_leaders_fail_one_after_another(cluster, kv, rng):
    """The leader is killed right after acknowledging writes, twice: each time the others serve and nothing is lost"""
    client = kv.client()
    written = {}
    for round_number in range(1, ROUNDS + 1):
        leader = leader_of(kv, f"round {round_number}")
        pairs = values(rng, f"round-{round_number}", 8)
        retried = {"rid": client.next_rid(), "op": "put", "key": f"retried-{round_number}", "value": "first"}
        expect_equal((client.ask(leader, retried) or {}).get("ok"), True, f"round {round_number}: {_put(retried)}")
        pairs[retried["key"]] = "second"
        write_all(client, pairs, f"round {round_number}: writes to the leader")
        written.update(pairs)
        cluster.kill(leader)
        log(f"round {round_number}: killed node {leader}, the leader, right after its last acknowledgement")
        situation = f"round {round_number}, after the leader was killed"
        successor = leader_of(kv, situation, [node for node in range(3) if node != leader])
        expect_all_read(client, written, situation)
        again = client.ask(successor, retried)
        expect_equal((again or {}).get("ok"), True, f"{situation}: {_put(retried)} sent again to the new leader")
        expect_all_read(client, {retried["key"]: "second"}, f"{situation}, after the retry", hint=RETRY_HINT)
        cluster.restart(leader)


def _put(request):
    return f"put {request['key']}={request['value']} (rid {request['rid']})"
