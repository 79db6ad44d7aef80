"""Stage 7: clients that disappear at any point must never take the server down."""

from kvwire import GET, SET, expect_served_after, request


def check_client_closing_mid_frame(kv, server):
    """A client that closes mid-frame does not affect others"""
    leaver = kv("leaving client")
    leaver.tcp.send(request(SET, b"gone", b"never finished")[:9], note="9 bytes of a SET, then close")
    leaver.tcp.close()
    after = "a client closed its connection mid-frame"
    expect_served_after(server, after, lambda: kv("next client").set(b"alive", b"yes"))


def check_client_resetting_mid_frame(kv, server):
    """A client that resets (RST) mid-frame does not affect others"""
    leaver = kv("resetting client")
    leaver.tcp.send(request(SET, b"gone", b"never finished")[:6], note="6 bytes of a SET, then RST")
    leaver.tcp.reset()
    after = "a client reset its connection mid-frame"
    expect_served_after(server, after, lambda: kv("next client").set(b"alive", b"yes"))


def check_client_resetting_before_reading_a_large_reply(kv, server, rng):
    """A client that resets before reading a 1 MiB reply does not crash the server"""
    value = rng.randbytes(1024 * 1024)
    kv("writer", timeout=5.0).set(b"large", value)
    for n in range(1, 4):
        impatient = kv(f"impatient client {n}")
        impatient.tcp.send(request(GET, b"large"), note="GET large, then RST without reading")
        impatient.tcp.reset()
    expect_served_after(
        server,
        "clients reset their connections while a large reply was being sent",
        lambda: kv("next client", timeout=5.0).get(b"large", value),
    )


def check_many_abrupt_disconnects_at_random_offsets(kv, server, rng):
    """Twenty clients vanishing at random offsets leave the server serving"""
    stream = request(SET, b"chaos", b"x" * 64) + request(GET, b"chaos")
    after = "clients disconnected abruptly at random offsets"
    for n in range(1, 21):
        cut = rng.randint(1, len(stream) - 1)

        def vanish(n: int = n, cut: int = cut) -> None:
            leaver = kv(f"vanishing client {n}")
            leaver.tcp.send(stream[:cut], note=f"first {cut} of {len(stream)} bytes")
            if rng.random() < 0.5:
                leaver.tcp.reset()
            else:
                leaver.tcp.close()

        expect_served_after(server, after, vanish)
    expect_served_after(server, after, lambda: kv("last client").set(b"alive", b"yes"))
