-- Fill the new columns.
UPDATE users
   SET first_name = split_part(full_name, ' ', 1),
       last_name = substr(full_name, strpos(full_name, ' ') + 1)
 WHERE first_name IS NULL OR last_name IS NULL;
