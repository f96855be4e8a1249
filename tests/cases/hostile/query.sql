SELECT id, n, amount, coalesce(note, '-') FROM hostile_rows ORDER BY id;
SELECT stage, count(*) FROM projector.dead_letters GROUP BY stage ORDER BY stage;
SELECT sum(applied), sum(skipped), sum(dead_lettered) FROM projector.positions;
