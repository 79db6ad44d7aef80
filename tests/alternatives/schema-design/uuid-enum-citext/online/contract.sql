CREATE INDEX CONCURRENTLY IF NOT EXISTS users_by_last_name ON users (last_name, first_name);

ALTER TABLE users ADD CONSTRAINT first_name_nn CHECK (first_name IS NOT NULL) NOT VALID;
ALTER TABLE users ADD CONSTRAINT last_name_nn CHECK (last_name IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT first_name_nn;
ALTER TABLE users VALIDATE CONSTRAINT last_name_nn;

BEGIN;
DROP TRIGGER users_names_sync_insert ON users;
DROP TRIGGER users_names_sync_update ON users;
ALTER TABLE users DROP COLUMN full_name;
ALTER TABLE users ALTER COLUMN first_name SET NOT NULL;
ALTER TABLE users ALTER COLUMN last_name SET NOT NULL;
COMMIT;

DROP FUNCTION users_names_from_full();
-- The checks stay: they are redundant with NOT NULL but harmless (and NOT NULL fires first: 23502).
