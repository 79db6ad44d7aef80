-- Step 1, expand: only add. The old version keeps writing full_name; the trigger derives first_name and
-- last_name from it, and full_name from them when the new version writes, so both versions can run at once.

-- Nullable, no default: adding such a column only changes the catalog (a brief lock, no table rewrite).
ALTER TABLE users ADD COLUMN first_name text, ADD COLUMN last_name text;

CREATE FUNCTION users_sync_names() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.full_name IS NULL THEN
            NEW.full_name := NEW.first_name || ' ' || NEW.last_name;
        ELSE
            NEW.first_name := split_part(NEW.full_name, ' ', 1);
            NEW.last_name := substr(NEW.full_name, strpos(NEW.full_name, ' ') + 1);
        END IF;
    ELSIF NEW.full_name IS DISTINCT FROM OLD.full_name THEN
        -- the old version renamed the user
        NEW.first_name := split_part(NEW.full_name, ' ', 1);
        NEW.last_name := substr(NEW.full_name, strpos(NEW.full_name, ' ') + 1);
    ELSIF NEW.first_name IS DISTINCT FROM OLD.first_name OR NEW.last_name IS DISTINCT FROM OLD.last_name THEN
        -- the new version (or the backfill) wrote the parts
        NEW.full_name := NEW.first_name || ' ' || NEW.last_name;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_sync_names
    BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_sync_names();

-- The new version looks users up by last name. CONCURRENTLY builds the index without blocking writes
-- (it must run outside BEGIN ... COMMIT).
CREATE INDEX CONCURRENTLY users_last_name_idx ON users (last_name);
