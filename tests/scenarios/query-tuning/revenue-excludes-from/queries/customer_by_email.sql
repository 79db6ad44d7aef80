-- Unchanged: the expression index on lower(email) in migration.sql makes this fast.
SELECT id, email, name
FROM customers
WHERE lower(email) = lower($1);
