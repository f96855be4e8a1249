SELECT 'log', string_agg(basket_id || '=' || items, ' ' ORDER BY seq) FROM basket_log
UNION ALL
SELECT 'items', string_agg(basket_id || '/' || sku || '@' || added_at, ' ' ORDER BY basket_id, sku)
FROM basket_items;
