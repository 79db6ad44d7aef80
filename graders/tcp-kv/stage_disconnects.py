"""Stage 7: clients that disappear at any point must never take the server down."""

from kvwire import GET, SET, expect_alive, request


def check_client_closing_mid_frame(kv, server):
    """A client that closes mid-frame does not affect others"""
    leaver = kv("leaving client")
    leaver.tcp.send(request(SET, b"gone", b"never finished")[:9], note="9 bytes of a SET, then close")
    leaver.tcp.close()
    survivor = kv("next client")
    survivor.set(b"alive", b"yes")
    expect_alive(server, "a client closed its connection mid-frame")


def check_client_resetting_mid_frame(kv, server):
    """A client that resets (RST) mid-frame does not affect others"""
    leaver = kv("resetting client")
    leaver.tcp.send(request(SET, b"gone", b"never finished")[:6], note="6 bytes of a SET, then RST")
    leaver.tcp.reset()
    kv("next client").set(b"alive", b"yes")
    expect_alive(server, "a client reset its connection mid-frame")


def check_client_resetting_before_reading_a_large_reply(kv, server, rng):
    """A client that resets before reading a 1 MiB reply does not crash the server"""
    value = rng.randbytes(1024 * 1024)
    kv("writer", timeout=5.0).set(b"large", value)
    for n in range(1, 4):
        impatient = kv(f"impatient client {n}")
        impatient.tcp.send(request(GET, b"large"), note="GET large, then RST without reading")
        impatient.tcp.reset()
    survivor = kv("next client", timeout=5.0)
    survivor.get(b"large", value)
    expect_alive(server, "clients reset their connections while a large reply was being sent")


def check_many_abrupt_disconnects_at_random_offsets(kv, server, rng):
    """Twenty clients vanishing at random offsets leave the server serving"""
    stream = request(SET, b"chaos", b"x" * 64) + request(GET, b"chaos")
    for n in range(1, 21):
        cut = rng.randint(1, len(stream) - 1)
        leaver = kv(f"vanishing client {n}")
        leaver.tcp.send(stream[:cut], note=f"first {cut} of {len(stream)} bytes")
        if rng.random() < 0.5:
            leaver.tcp.reset()
        else:
            leaver.tcp.close()
    expect_alive(server, "twenty clients disconnected abruptly")
    kv("last client").set(b"alive", b"yes")
