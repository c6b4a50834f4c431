-- wrk script: POST /api/orders with a fixed valid body.
wrk.method = "POST"
wrk.body = '{"customer_name":"Bench Customer","product_name":"Bench Widget"}'
wrk.headers["Content-Type"] = "application/json"
