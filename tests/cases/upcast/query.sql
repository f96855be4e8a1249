SELECT 'order', order_id, customer_id || ' ' || total_amount || ' ' || currency || ' ' || line_count || ' ' || quantity FROM order_read
UNION ALL
SELECT 'payment', order_id, amount || ' ' || method FROM payment_read
UNION ALL
SELECT 'dead', convert_from(key, 'UTF8'), stage || ': ' || regexp_replace(error, '^.*?: \$', '$') FROM projector.dead_letters
ORDER BY 1, 2;
