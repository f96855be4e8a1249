CREATE TABLE IF NOT EXISTS counters (
    id text PRIMARY KEY,
    n bigint,
    total numeric(12, 3),
    hi int,
    lo int,
    seen jsonb,
    first_note text,
    last_note text,
    items int,
    qty numeric,
    skus text[],
    src text
);
