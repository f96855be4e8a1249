-- The ceiling that scripts/bench compares the projector with: how many rows per second this
-- PostgreSQL writes with set-based upserts of the same rows the projector wrote.
-- Load it into a fresh database migrated from the same views, after copying the projected
-- rows of each table T into staging_T (same columns, no keys). Then
--   CALL bench_ceiling(ARRAY['order_detail', 'customer_summary'], TARGET);
-- repeats, each statement in its own transaction, for each table T in turn,
--   INSERT INTO T SELECT * FROM staging_T
--     ON CONFLICT (<primary key>) DO UPDATE SET <every non-key column> = EXCLUDED.<column>
-- until the rows written reach TARGET (the first pass inserts, later passes update). It returns
-- the rows written, the seconds the statements took (each with its COMMIT, timed with
-- clock_timestamp() inside the session, so no connection setup) and the passes made.
-- Call it outside a transaction block (psql's default autocommit does), so COMMIT works.

CREATE PROCEDURE bench_ceiling(tables text[], target bigint,
                               INOUT rows_written bigint DEFAULT 0,
                               INOUT seconds float8 DEFAULT 0,
                               INOUT passes int DEFAULT 0)
LANGUAGE plpgsql AS $$
DECLARE
    stmts text[] := '{}';
    t text;
    stmt text;
    keys text;
    sets text;
    started timestamptz;
    n bigint;
    pass_rows bigint;
BEGIN
    -- One upsert per table, its key and columns read from the catalog.
    FOREACH t IN ARRAY tables LOOP
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                   FILTER (WHERE a.attnum = ANY (i.indkey)),
               string_agg(format('%1$I = EXCLUDED.%1$I', a.attname), ', ' ORDER BY a.attnum)
                   FILTER (WHERE NOT a.attnum = ANY (i.indkey))
          INTO keys, sets
          FROM pg_attribute a
          JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
         WHERE a.attrelid = t::regclass AND a.attnum > 0 AND NOT a.attisdropped;
        IF keys IS NULL THEN
            RAISE EXCEPTION 'bench_ceiling: table % has no primary key', t;
        END IF;
        stmts := stmts || format('INSERT INTO %I SELECT * FROM %I ON CONFLICT (%s) DO UPDATE SET %s',
                                 t, 'staging_' || t, keys, coalesce(sets, ''));
    END LOOP;
    COMMIT;

    WHILE rows_written < target LOOP
        passes := passes + 1;
        pass_rows := 0;
        FOREACH stmt IN ARRAY stmts LOOP
            started := clock_timestamp();
            EXECUTE stmt;
            GET DIAGNOSTICS n = ROW_COUNT;
            COMMIT;
            seconds := seconds + extract(epoch FROM clock_timestamp() - started);
            pass_rows := pass_rows + n;
        END LOOP;
        IF pass_rows = 0 THEN
            RAISE EXCEPTION 'bench_ceiling: the staging tables are empty';
        END IF;
        rows_written := rows_written + pass_rows;
    END LOOP;
END
$$;
