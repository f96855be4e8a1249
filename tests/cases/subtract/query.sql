SELECT 'stock', sku, available || '/' || reserved FROM stock
UNION ALL
SELECT 'total', sku, balance::text FROM sku_totals
ORDER BY 1, 2;
