"""Stage 5: values up to the frame limit, which exposes partial sends and partial reads."""

from kvwire import MAX_FRAME


def check_one_mib_value_round_trips(kv, rng):
    """A 1 MiB value comes back byte for byte"""
    client = kv(timeout=5.0)
    value = rng.randbytes(1024 * 1024)
    client.set(b"big", value)
    client.get(b"big", value)


def check_largest_allowed_frame_is_accepted(kv, rng):
    """A request of exactly MAX_FRAME bytes is accepted; its reply, read slowly, and the next request too"""
    # A small receive window: the reply outgrows the kernel's buffers, so the server has to wait for the client
    # to read (and must then go on reading this connection's next requests).
    client = kv(timeout=8.0, receive_buffer=4096)
    key = b"largest"
    value = rng.randbytes(MAX_FRAME - 3 - len(key))
    client.set(key, value)
    client.get(key, value)
    client.set(b"after-largest", b"next request, same connection")
    client.get(b"after-largest", b"next request, same connection")


def check_several_large_replies_in_a_row(kv, rng):
    """Three 512 KiB values requested back to back arrive intact"""
    client = kv(timeout=5.0)
    values = [rng.randbytes(512 * 1024) for _ in range(3)]
    for n, value in enumerate(values):
        client.set(b"half-%d" % n, value)
    for n, value in enumerate(values):
        client.get(b"half-%d" % n, value)
