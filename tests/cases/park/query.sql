SELECT id, total, label FROM parked_rows ORDER BY id;
SELECT stage, count(*) FROM projector.dead_letters GROUP BY stage ORDER BY stage;
