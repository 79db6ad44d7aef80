"""The domain: products, orders and their rules, in plain Python."""
