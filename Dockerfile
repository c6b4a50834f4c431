# orders-api, orders-relay and orders-cli on Debian, built from this checkout
# (docker-compose.yml runs them; the nginx front is deploy/nginx/Dockerfile).
#   build:   make install PREFIX=/usr/local DESTDIR=/out
#            -> /usr/local/bin/orders-{api,relay,cli}, /usr/local/share/orders/{www,schema},
#               /usr/local/share/man/man1
#   runtime: that tree only, run as the unprivileged user `orders`; the
#            programs find www/ and schema/ from their own location
FROM debian:bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        gcc libc6-dev make pkg-config libpq-dev libcivetweb-dev libjson-c-dev libedit-dev \
        libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make -j"$(nproc)" install PREFIX=/usr/local DESTDIR=/out

FROM debian:bookworm-slim
# curl: the healthchecks of docker-compose.yml; libssl3 and ca-certificates:
# orders-cli's https:// and wss:// against the system CA store
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpq5 libcivetweb1 libjson-c5 libedit2 libssl3 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin orders
COPY --from=build /out/ /
ENV HOST=0.0.0.0
USER orders
EXPOSE 3000 8080
# also: orders-relay, orders-api migrate, orders-cli
CMD ["orders-api"]
