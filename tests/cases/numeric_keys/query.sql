SELECT id, n FROM hits ORDER BY id;
