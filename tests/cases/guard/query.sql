SELECT id, version, value FROM versioned ORDER BY id;
