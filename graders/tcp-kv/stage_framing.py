"""Stage 3: TCP is a byte stream: messages split across reads, and several messages in one read."""

from kvwire import GET, SET, describe, request


def check_requests_sent_one_byte_per_write(kv):
    """A request sent one byte per write is understood"""
    client = kv()
    client.tcp.send_in_pieces(request(SET, b"slow", b"drip-fed"), size=1, note="SET slow")
    client.expect_reply(describe(SET, b"slow", b"drip-fed"), 0)
    client.tcp.send_in_pieces(request(GET, b"slow"), size=1, note="GET slow")
    client.expect_reply(describe(GET, b"slow"), 0, b"drip-fed")


def check_pipelined_requests_are_answered_in_order(kv, rng):
    """Twenty requests in one write are answered in order"""
    client = kv()
    pairs = [(b"pipe-%d" % n, rng.randbytes(rng.randint(0, 64))) for n in range(10)]
    batch = b"".join(request(SET, key, value) + request(GET, key) for key, value in pairs)
    client.tcp.send(batch, note="10 x (SET, GET) in one write")
    for key, value in pairs:
        client.expect_reply(describe(SET, key, value), 0)
        client.expect_reply(describe(GET, key), 0, value)


def check_frames_split_at_awkward_places(kv, rng):
    """Frames split at random offsets across writes are reassembled"""
    client = kv()
    pairs = [(b"split-%d" % n, rng.randbytes(rng.randint(1, 300))) for n in range(8)]
    stream = b"".join(request(SET, key, value) for key, value in pairs)
    cuts = sorted(rng.sample(range(1, len(stream)), 12))
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        client.tcp.send(stream[start:end], note=f"bytes {start}..{end} of 8 SET requests")
    for key, value in pairs:
        client.expect_reply(describe(SET, key, value), 0)
    for key, value in pairs:
        client.get(key, value)
