SELECT 'account', id, owner FROM accounts
UNION ALL
SELECT 'owner', owner, opened || '/' || pings FROM owner_stats
ORDER BY 1, 2;
