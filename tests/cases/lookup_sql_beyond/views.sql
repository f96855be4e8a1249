-- sql actions whose writes reach beyond the tables their plans name: a trigger on touch_log and a
-- function called by the statement on bump_log both change item, the table a lookup reads; and
-- one on note_log, which changes nothing else.
CREATE TABLE IF NOT EXISTS item (id text PRIMARY KEY, label text NOT NULL);
CREATE TABLE IF NOT EXISTS touch_log (id text PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS bump_log (id text PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS note_log (id text PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS copies (id text PRIMARY KEY, label text);
CREATE OR REPLACE FUNCTION touch_item() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE item SET label = label || '+t' WHERE id = NEW.id;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS touch_log_item ON touch_log;
CREATE TRIGGER touch_log_item AFTER INSERT OR UPDATE ON touch_log
    FOR EACH ROW EXECUTE FUNCTION touch_item();
CREATE OR REPLACE FUNCTION bump_item(item_id text) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    UPDATE item SET label = label || '+f' WHERE id = item_id;
    RETURN 1;
END $$;
