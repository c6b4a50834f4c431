# orders-api and orders-relay on Debian, built from this checkout.
FROM debian:bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        gcc make pkg-config libpq-dev libcivetweb-dev libjson-c-dev libedit-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make clean && make build/orders-api build/orders-relay build/orders-cli

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpq5 libcivetweb1 libjson-c5 libedit2 postgresql-client \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/build/orders-api /src/build/orders-relay /src/build/orders-cli /usr/local/bin/
COPY schema ./schema
COPY scripts/migrate.sh ./scripts/migrate.sh
COPY www ./www
ENV HOST=0.0.0.0
