"""Stage 4: many clients at once; a stalled client must not block anyone."""

from kvwire import GET, SET, describe, request


def check_half_sent_request_does_not_block_other_clients(kv):
    """A client stalled mid-frame does not block other clients"""
    stalled = kv("stalled client")
    pending = request(SET, b"stalled", b"finally")
    stalled.tcp.send(pending[:3], note="first 3 bytes of a frame, then silence")
    others = [kv(f"client {n}") for n in range(1, 6)]
    for n, client in enumerate(others, start=1):
        client.set(b"other-%d" % n, b"value-%d" % n)
        client.get(b"other-%d" % n, b"value-%d" % n)
    stalled.tcp.send(pending[3:], note="the rest of the frame")
    stalled.expect_reply(describe(SET, b"stalled", b"finally"), 0)


def check_fifty_open_connections_are_served_in_any_order(kv):
    """Fifty open connections are all served, answered in reverse order"""
    clients = [kv(f"client {n}") for n in range(1, 51)]
    for n, client in enumerate(clients, start=1):
        client.tcp.send(request(SET, b"many-%d" % n, b"v%d" % n), note=f"SET many-{n}")
    for n, client in reversed(list(enumerate(clients, start=1))):
        client.expect_reply(describe(SET, b"many-%d" % n, b"v%d" % n), 0)


def check_clients_share_one_store(kv):
    """A value set by one client is seen by another"""
    writer, reader = kv("writer"), kv("reader")
    writer.set(b"shared", b"from the writer")
    reader.get(b"shared", b"from the writer")
    reader.call(GET, b"shared", payload=b"from the writer")
    writer.tcp.send(request(SET, b"shared", b"updated"), note=describe(SET, b"shared", b"updated"))
    writer.expect_reply(describe(SET, b"shared", b"updated"), 0)
    reader.get(b"shared", b"updated")
