#!/bin/sh
# The orders front: switch the TLS server (orders/tls.conf) on when a
# certificate and its key are mounted, then run the command (nginx).
#   docker run -v "$PWD/deploy/tls:/etc/nginx/orders/tls:ro" ...   cert.pem + key.pem
# ORDERS_NGINX_DIR: the orders/ folder of the configuration (tests point it
# at a private copy).
set -eu
dir=${ORDERS_NGINX_DIR:-/etc/nginx/orders}
mkdir -p "$dir/tls.d"
rm -f "$dir/tls.d/orders-tls.conf"
if [ -s "$dir/tls/cert.pem" ] && [ -s "$dir/tls/key.pem" ]; then
	cp "$dir/tls.conf" "$dir/tls.d/orders-tls.conf"
	echo "front: TLS on: https and wss on 443 with $dir/tls/cert.pem" >&2
elif [ -e "$dir/tls/cert.pem" ] || [ -e "$dir/tls/key.pem" ]; then
	echo "front: TLS off: $dir/tls needs both cert.pem and key.pem (non-empty)" >&2
else
	echo "front: TLS off: no cert.pem and key.pem in $dir/tls (plain http on 80)" >&2
fi
[ $# -gt 0 ] || set -- nginx -g 'daemon off;'
exec "$@"
