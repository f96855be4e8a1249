SELECT 'copy', id, label FROM copies
UNION ALL
SELECT 'item', id, label FROM item
ORDER BY 1, 2;
