SELECT id, n, total, hi, lo, seen::text, coalesce(first_note, '-'), coalesce(last_note, '-'),
       items, qty, skus::text, src
FROM counters ORDER BY id;
