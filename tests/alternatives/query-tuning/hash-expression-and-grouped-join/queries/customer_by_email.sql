select id, email, name from customers where lower(email) = lower($1)
