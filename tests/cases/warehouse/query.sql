-- Stock per (sku, warehouse), the reservations left, and whether the reserved quantities are
-- exactly those of the open reservations and nothing went negative.
SELECT 'stock', sku || '/' || warehouse, on_hand || ' ' || reserved || ' ' || shipped FROM stock_level
UNION ALL
SELECT 'reservation', reservation_id, sku || '/' || warehouse || ' ' || qty || ' ' || status FROM reservation
UNION ALL
SELECT 'consistent', '',
       ((SELECT sum(reserved) FROM stock_level) =
        (SELECT coalesce(sum(qty), 0) FROM reservation WHERE status = 'OPEN')
        AND NOT EXISTS (SELECT FROM stock_level WHERE on_hand < 0 OR reserved < 0))::text
ORDER BY 1, 2;
