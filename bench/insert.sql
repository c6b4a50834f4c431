-- pgbench script: the same INSERT that POST /api/orders runs, through the same triggers.
INSERT INTO orders (customer_name, product_name, status) VALUES ('Bench Customer', 'Bench Widget', 'pending') RETURNING row_to_json(orders.*)::text;
