-- Batches as separate statements would need to know the ids; a procedure with COMMIT does it generically.
CREATE PROCEDURE backfill_user_names(batch integer) LANGUAGE plpgsql AS $$
DECLARE
    changed integer;
BEGIN
    LOOP
        UPDATE users SET first_name = split_part(full_name, ' ', 1),
                         last_name = substr(full_name, strpos(full_name, ' ') + 1)
         WHERE id IN (SELECT id FROM users WHERE first_name IS NULL OR last_name IS NULL LIMIT batch);
        GET DIAGNOSTICS changed = ROW_COUNT;
        COMMIT;
        EXIT WHEN changed = 0;
    END LOOP;
END $$;

CALL backfill_user_names(700);
DROP PROCEDURE backfill_user_names(integer);
