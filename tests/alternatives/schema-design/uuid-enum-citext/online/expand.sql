-- Two one-directional triggers instead of one, and the last_name index is left for the contract step.
ALTER TABLE users ADD COLUMN first_name text;
ALTER TABLE users ADD COLUMN last_name text;

CREATE OR REPLACE FUNCTION users_names_from_full() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.full_name IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.full_name IS DISTINCT FROM OLD.full_name) THEN
        NEW.first_name := split_part(NEW.full_name, ' ', 1);
        NEW.last_name := substr(NEW.full_name, strpos(NEW.full_name, ' ') + 1);
    ELSIF NEW.first_name IS NOT NULL AND NEW.last_name IS NOT NULL THEN
        NEW.full_name := NEW.first_name || ' ' || NEW.last_name;
    END IF;
    RETURN NEW;
END $$;

BEGIN;
CREATE TRIGGER users_names_sync_insert BEFORE INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION users_names_from_full();
CREATE TRIGGER users_names_sync_update BEFORE UPDATE OF full_name, first_name, last_name ON users
    FOR EACH ROW EXECUTE FUNCTION users_names_from_full();
COMMIT;
