"""The SQL the grader runs before any learner code: the documented schema, created as the learner's role so that
the learner owns those tables and ``migrate()`` can add constraints to them, and the grader's own instruments.
"""

RECORDED_ATTEMPTS = 8  # attempts per operation whose start the chaos trigger records: the most a call may make

SCHEMA = """
CREATE TABLE accounts (
    id            bigint PRIMARY KEY,
    owner         text   NOT NULL,
    balance_cents bigint NOT NULL
);
CREATE TABLE transfers (
    id              bigserial   PRIMARY KEY,
    from_id         bigint      NOT NULL REFERENCES accounts (id),
    to_id           bigint      NOT NULL REFERENCES accounts (id),
    amount_cents    bigint      NOT NULL CHECK (amount_cents > 0),
    idempotency_key text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE seats (
    event_id bigint NOT NULL,
    seat     text   NOT NULL,
    PRIMARY KEY (event_id, seat)
);
CREATE TABLE bookings (
    id        bigserial   PRIMARY KEY,
    event_id  bigint      NOT NULL,
    seat      text        NOT NULL,
    user_id   bigint      NOT NULL,
    booked_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (event_id, seat) REFERENCES seats (event_id, seat)
);
CREATE TABLE shifts (
    id bigint PRIMARY KEY
);
CREATE TABLE on_call (
    shift_id  bigint  NOT NULL REFERENCES shifts (id),
    doctor_id bigint  NOT NULL,
    on_call   boolean NOT NULL,
    PRIMARY KEY (shift_id, doctor_id)
);
"""

# The grader's instruments, in a schema the learner's role cannot read. ``writes`` records every committed
# UPDATE of a balance or an on-call flag (which transaction, which connection, which isolation level), so the
# anomaly demonstrations can be verified rather than believed. ``chaos`` makes chosen operations fail with
# 40001/40P01 a planned number of times; attempts and their times live in sequences because sequences are the
# one thing a rolled-back transaction cannot undo.
INSTRUMENTS = """
CREATE SCHEMA labkit_grader;
REVOKE ALL ON SCHEMA labkit_grader FROM PUBLIC;

CREATE TABLE labkit_grader.writes (
    seq       bigserial PRIMARY KEY,
    row_kind  text   NOT NULL,
    row_key   text   NOT NULL,
    old_value bigint NOT NULL,
    new_value bigint NOT NULL,
    txid      bigint NOT NULL,
    backend   int    NOT NULL,
    isolation text   NOT NULL
);

CREATE FUNCTION labkit_grader.record_balance() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO labkit_grader.writes (row_kind, row_key, old_value, new_value, txid, backend, isolation)
    VALUES ('account', OLD.id::text, OLD.balance_cents, NEW.balance_cents, txid_current(), pg_backend_pid(),
            current_setting('transaction_isolation'));
    RETURN NULL;
END $$;

CREATE FUNCTION labkit_grader.record_on_call() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO labkit_grader.writes (row_kind, row_key, old_value, new_value, txid, backend, isolation)
    VALUES ('on_call', OLD.shift_id || '/' || OLD.doctor_id, OLD.on_call::int, NEW.on_call::int, txid_current(),
            pg_backend_pid(), current_setting('transaction_isolation'));
    RETURN NULL;
END $$;

CREATE TABLE labkit_grader.chaos_plan (
    target   text PRIMARY KEY,
    slot     int  NOT NULL,
    failures int  NOT NULL  -- how many first attempts fail; -1: every attempt
);

CREATE FUNCTION labkit_grader.chaos(p_target text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    planned labkit_grader.chaos_plan;
    attempt bigint;
BEGIN
    SELECT * INTO planned FROM labkit_grader.chaos_plan WHERE target = p_target;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    attempt := nextval(format('labkit_grader.attempts_%s', planned.slot)::regclass);
    IF attempt <= {recorded} THEN
        PERFORM setval(format('labkit_grader.attempt_%s_%s', planned.slot, attempt)::regclass,
                       (extract(epoch FROM clock_timestamp()) * 1000000)::bigint);
    END IF;
    IF planned.failures >= 0 AND attempt > planned.failures THEN
        RETURN;
    END IF;
    IF planned.failures >= 0 AND attempt % 4 = 2 THEN
        RAISE EXCEPTION 'deadlock detected (injected by the grader, attempt %)', attempt USING ERRCODE = '40P01';
    ELSIF planned.failures >= 0 AND attempt % 4 = 3 THEN
        PERFORM set_config('labkit_grader.fail_at_commit', 'on', true);
    ELSE
        RAISE EXCEPTION 'could not serialize access due to concurrent update (injected by the grader, attempt %)',
            attempt USING ERRCODE = '40001';
    END IF;
END $$;

CREATE FUNCTION labkit_grader.chaos_transfer() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM labkit_grader.chaos('transfer:' || NEW.idempotency_key);
    RETURN NEW;
END $$;

CREATE FUNCTION labkit_grader.chaos_booking() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM labkit_grader.chaos('booking:' || NEW.event_id || '/' || NEW.seat);
    RETURN NEW;
END $$;

CREATE FUNCTION labkit_grader.chaos_off_call() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM labkit_grader.chaos('off-call:' || NEW.shift_id || '/' || NEW.doctor_id);
    RETURN NEW;
END $$;

CREATE FUNCTION labkit_grader.chaos_at_commit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF current_setting('labkit_grader.fail_at_commit', true) = 'on' THEN
        PERFORM set_config('labkit_grader.fail_at_commit', 'off', true);
        RAISE EXCEPTION 'could not serialize access due to read/write dependencies among transactions '
                        '(injected by the grader at commit)' USING ERRCODE = '40001';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER labkit_record_balance AFTER UPDATE ON public.accounts
    FOR EACH ROW EXECUTE FUNCTION labkit_grader.record_balance();
CREATE TRIGGER labkit_record_on_call AFTER UPDATE ON public.on_call
    FOR EACH ROW EXECUTE FUNCTION labkit_grader.record_on_call();
CREATE TRIGGER labkit_chaos BEFORE INSERT ON public.transfers
    FOR EACH ROW EXECUTE FUNCTION labkit_grader.chaos_transfer();
CREATE TRIGGER labkit_chaos BEFORE INSERT ON public.bookings
    FOR EACH ROW EXECUTE FUNCTION labkit_grader.chaos_booking();
CREATE TRIGGER labkit_chaos BEFORE UPDATE ON public.on_call
    FOR EACH ROW EXECUTE FUNCTION labkit_grader.chaos_off_call();
CREATE CONSTRAINT TRIGGER labkit_chaos_at_commit AFTER INSERT ON public.transfers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION labkit_grader.chaos_at_commit();
CREATE CONSTRAINT TRIGGER labkit_chaos_at_commit AFTER INSERT ON public.bookings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION labkit_grader.chaos_at_commit();
CREATE CONSTRAINT TRIGGER labkit_chaos_at_commit AFTER UPDATE ON public.on_call
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION labkit_grader.chaos_at_commit();
""".replace("{recorded}", str(RECORDED_ATTEMPTS))

GRADER_TRIGGERS = {
    ("accounts", "labkit_record_balance"),
    ("on_call", "labkit_record_on_call"),
    ("transfers", "labkit_chaos"),
    ("bookings", "labkit_chaos"),
    ("on_call", "labkit_chaos"),
    ("transfers", "labkit_chaos_at_commit"),
    ("bookings", "labkit_chaos_at_commit"),
    ("on_call", "labkit_chaos_at_commit"),
}
