-- Step 3, contract: the old version is gone; remove what only it needed and tighten the new columns.

-- SET NOT NULL would scan the whole table under an ACCESS EXCLUSIVE lock. Instead: a CHECK added NOT VALID
-- (instant), validated under a lock that lets writes through, which SET NOT NULL then trusts without a scan.
ALTER TABLE users
    ADD CONSTRAINT users_first_name_present CHECK (first_name IS NOT NULL) NOT VALID,
    ADD CONSTRAINT users_last_name_present CHECK (last_name IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_first_name_present;
ALTER TABLE users VALIDATE CONSTRAINT users_last_name_present;

-- One transaction, so no writer ever sees the trigger gone while full_name still demands a value.
BEGIN;
DROP TRIGGER users_sync_names ON users;
DROP FUNCTION users_sync_names();
ALTER TABLE users DROP COLUMN full_name;
ALTER TABLE users ALTER COLUMN first_name SET NOT NULL, ALTER COLUMN last_name SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_first_name_present, DROP CONSTRAINT users_last_name_present;
COMMIT;
