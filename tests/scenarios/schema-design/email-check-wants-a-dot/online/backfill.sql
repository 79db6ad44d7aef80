-- Step 2, backfill: fill first_name and last_name for rows written before the trigger existed, in batches
-- that commit one by one, so no transaction holds many row locks while the old version keeps writing.
-- Rows inserted from now on get their names from the trigger, so the loop stops at today's highest id.
DO $$
DECLARE
    last_id   bigint := 0;
    max_id    bigint := (SELECT max(id) FROM users);
    batch_end bigint;
BEGIN
    WHILE last_id < max_id LOOP
        SELECT max(id) INTO batch_end
          FROM (SELECT id FROM users WHERE id > last_id ORDER BY id LIMIT 500) AS batch;
        UPDATE users
           SET first_name = split_part(full_name, ' ', 1),
               last_name = substr(full_name, strpos(full_name, ' ') + 1)
         WHERE id > last_id AND id <= batch_end
           AND (first_name IS NULL OR last_name IS NULL);
        COMMIT;
        last_id := batch_end;
    END LOOP;
END
$$;
