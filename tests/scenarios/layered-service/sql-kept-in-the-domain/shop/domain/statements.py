"""The statements that store a changed product or order."""

SAVE_PRODUCT = 'UPDATE public."products" SET name = %s, price_cents = %s, stock = %s WHERE sku = %s'
SAVE_ORDER = 'UPDATE public."orders" SET status = %s WHERE order_id = %s'
