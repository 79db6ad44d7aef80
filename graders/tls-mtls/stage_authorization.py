"""Stage 5: what a caller may do follows from the identity in its certificate, looked up in ROLES_FILE."""

import string

from labkit.checks import expect, expect_equal

KEY_CHARS = string.ascii_letters + string.digits + "._-"
VALUE_CHARS = "".join(chr(code) for code in range(0x21, 0x7F))
FORBIDDEN = "403 forbidden"
NON_ASCII_HINT = "a request is ASCII: a byte from 80 to ff makes it malformed, so 400, and the connection stays open"
ROLE_HINT = (
    "look the certificate's identity up in ROLES_FILE for every command: a valid certificate is not a permission"
)


def _key(rng, size=8):
    return "".join(rng.choice(KEY_CHARS) for _ in range(size))


def _name(rng, size):
    """A DNS name of exactly ``size`` characters: letters, with a dot every 50 (labels stay under 63)."""
    return "".join("." if n % 50 == 49 and n < size - 1 else rng.choice(string.ascii_lowercase) for n in range(size))


def _value(rng, size=12):
    return "".join(rng.choice(VALUE_CHARS) for _ in range(size))


def check_whoami_reports_identity_and_role(connect, clients):
    """WHOAMI reports the identity and role of a reader, a writer, an operator and an unlisted identity"""
    callers = ((clients.operator, "operator"), (clients.stranger, "none"), (clients.writer, "writer"),
               (clients.reader, "reader"))  # fmt: skip
    for identity, role in callers:
        session = connect(f"the {role if role != 'none' else 'unlisted'} client", identity)
        expect_equal(
            session.request("WHOAMI"),
            f"200 {identity.name} {role}",
            "the reply to WHOAMI",
            hint="the identity is the DNS name in the subjectAltName; the role comes from ROLES_FILE, or is none",
        )


def check_writers_write_and_readers_read(connect, clients, rng):
    """A writer stores values every client with a role reads; a reader's PUT is forbidden"""
    writer, reader = connect("writer", clients.writer), connect("reader", clients.reader)
    key, first, second = _key(rng), _value(rng), _value(rng, 200)
    expect_equal(reader.request(f"GET {key}"), "404 not found", "a GET of a key never stored")
    expect_equal(writer.request(f"PUT {key} {first}"), "200 stored", "the reply to the writer's PUT", hint=ROLE_HINT)
    expect_equal(reader.request(f"GET {key}"), f"200 {first}", "the reader's GET of what the writer stored")
    expect_equal(writer.request(f"PUT {key} {second}"), "200 stored", "the reply to a second PUT of the key")
    expect_equal(writer.request(f"GET {key}"), f"200 {second}", "the writer's GET after the value was replaced")
    expect_equal(reader.request(f"GET {key}"), f"200 {second}", "the reader's GET after the value was replaced")
    expect_equal(reader.request(f"PUT {key} {_value(rng)}"), FORBIDDEN, "the reply to a reader's PUT", hint=ROLE_HINT)
    expect_equal(reader.request(f"GET {key}"), f"200 {second}", "the value after the reader's forbidden PUT")


def check_roles_limit_calls_and_unlisted_identities(connect, clients, names, rng):
    """Only operators CALL; an identity with no role may only PING and WHOAMI"""
    target = f"CALL {names.upstreams[0]} {rng.randrange(20000, 60000)}"
    for label, identity in (("reader", clients.reader), ("writer", clients.writer)):
        expect_equal(
            connect(label, identity).request(target), FORBIDDEN, f"the reply to a {label}'s CALL", hint=ROLE_HINT
        )
    stranger = connect("unlisted client", clients.stranger)
    for line in (f"GET {_key(rng)}", f"PUT {_key(rng)} {_value(rng)}", target):
        expect_equal(
            stranger.request(line),
            FORBIDDEN,
            f"the reply to {line.split()[0]} from an unlisted identity",
            hint=ROLE_HINT,
        )
    expect_equal(stranger.request("PING"), "200 PONG", "the reply to PING from an unlisted identity")


def check_common_name_is_not_an_identity(service, connector, pki, names, rng):
    """A certificate whose CN names a writer but whose subjectAltName does not gets no writer rights"""
    unlisted = f"cn-{rng.randrange(16**6):06x}.clients.test"
    session = connector(service.port)("client with a writer's CN", pki.issue(unlisted, cn=names.writer))
    expect_equal(
        session.request("WHOAMI"),
        f"200 {unlisted} none",
        "the reply to WHOAMI",
        hint="read the identity from the subjectAltName's DNS name, never from the subject's common name",
    )
    expect_equal(session.request(f"PUT {_key(rng)} {_value(rng)}"), FORBIDDEN, "the reply to its PUT", hint=ROLE_HINT)


def check_malformed_requests_get_400_before_authorization(connect, clients, names, rng):
    """Malformed requests, non-ASCII ones too, get 400 whoever sends them; arguments at their limits are accepted"""
    reader, writer = connect("reader", clients.reader), connect("writer", clients.writer)
    malformed = [
        f"PUT {_key(rng)}", f"PUT {_key(rng, 33)} {_value(rng)}", f"PUT {_key(rng)} {_value(rng, 201)}",
        f"GET {_key(rng)} extra", "GET bad/key", f"CALL {names.upstreams[0]} 0", f"CALL {names.upstreams[0]} 65536",
        f"CALL {names.upstreams[0]}", f"CALL bad_name {rng.randrange(1, 65536)}",
        f"GET {_key(rng, 33)}", f"PUT {_key(rng)} caf\x7f", f"GET  {_key(rng)}",
    ]  # fmt: skip
    for line in malformed:
        reply = reader.request(line)
        expect(
            reply.startswith("400 "),
            f"the reader's {line!r} got {reply!r}, not 400",
            hint="parse and validate the request first (400), then authorize it (403)",
        )
    # Bytes above 7f make a request malformed too: no command, key or value holds them.
    non_ascii = [
        f"PUT {_key(rng)} caf\u00e9".encode(), f"GET {_key(rng)}".encode() + bytes([rng.randrange(0x80, 0x100)]),
        b"PING" + bytes([rng.randrange(0x80, 0x100)]), f"WHOAMI \u2014 {_key(rng)}".encode(),
    ]  # fmt: skip
    for line in rng.sample(non_ascii, len(non_ascii)):
        reader.send(line + b"\n")
        reply = reader.reply(f"a 400 reply to {line!r}", hint=NON_ASCII_HINT)
        expect(reply.startswith("400 "), f"the reader's {line!r} got {reply!r}, not 400", hint=NON_ASCII_HINT)
    key = _key(rng, 32)
    value = _value(rng, 200)
    expect_equal(
        writer.request(f"PUT {key} {value}"), "200 stored", "a PUT of a 32-character key and 200-character value"
    )
    expect_equal(reader.request(f"GET {key}"), f"200 {value}", "a GET of the 32-character key")
    short_key, short_value = rng.choice(KEY_CHARS), rng.choice(VALUE_CHARS)
    expect_equal(writer.request(f"PUT {short_key} {short_value}"), "200 stored", "a PUT of a 1-character key and value")
    expect_equal(reader.request(f"GET {short_key}"), f"200 {short_value}", "a GET of the 1-character key")
    # Well-formed at every limit, so the reader's CALL is parsed and then forbidden: 403, not 400.
    # 248 characters: the longest name a 256-byte line can carry (the 253 of the name rule never fit).
    for size, port in ((248, 1), (1, 65535)):
        expect_equal(
            reader.request(f"CALL {_name(rng, size)} {port}"),
            FORBIDDEN,
            f"a reader's CALL of a {size}-character name at port {port}",
            hint="a port is 1 to 65535 and a name up to 253 characters: inclusive limits, then authorization",
        )
