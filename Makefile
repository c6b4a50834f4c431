# orders: one non-recursive Makefile.
#   make            build everything into build/
#   make asan test  build with AddressSanitizer + UBSan into build/asan and run the suite
#   make run        private PostgreSQL under ./.data + schema + api + relay
#   make test       unit + integration tests against a throwaway PostgreSQL
#   make bench      wrk/pgbench and the relay load tool (see README)

ifneq ($(filter asan,$(MAKECMDGOALS)),)
SANITIZE ?= address,undefined
endif

ifneq ($(SANITIZE),)
BUILD ?= build/san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT ?= -O1 -g
else
BUILD ?= build
SANFLAGS :=
OPT ?= -O2 -g
endif

VERSION := 0.1.0
CC ?= cc
export SANITIZE BUILD
PKGS := libpq json-c
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libedit 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
EDIT_LIBS := $(shell pkg-config --libs libedit 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wvla -Wno-format-nonliteral
CFLAGS := -std=c11 -D_GNU_SOURCE -DORDERS_VERSION=\"$(VERSION)\" $(OPT) $(WARN) $(SANFLAGS) -MMD -MP -Icommon $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS) -pthread $(EXTRA_LDFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

COMMON_SRC := $(wildcard common/*.c)
API_SRC := $(wildcard api/*.c)
RELAY_SRC := $(wildcard relay/*.c)
CLI_SRC := $(wildcard cli/*.c)
BENCH_SRC := $(wildcard bench/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIBCOMMON := $(BUILD)/libcommon.a
API_BIN := $(BUILD)/orders-api
RELAY_BIN := $(BUILD)/orders-relay
CLI_BIN := $(BUILD)/orders-cli
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

PROGRAMS := $(if $(API_SRC),$(API_BIN)) $(if $(RELAY_SRC),$(RELAY_BIN)) $(if $(CLI_SRC),$(CLI_BIN))

.PHONY: all asan test unit integration run setup-db format format-check clean bench deps db-start db-stop db-status
all: $(PROGRAMS) $(BENCH_BINS) $(UNIT_BINS)
asan: all

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(API_BIN): $(call obj,$(API_SRC)) $(LIBCOMMON)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcivetweb $(PKG_LIBS)

$(RELAY_BIN): $(call obj,$(RELAY_SRC)) $(LIBCOMMON)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcivetweb $(PKG_LIBS)

$(CLI_BIN): $(call obj,$(CLI_SRC)) $(LIBCOMMON)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(EDIT_LIBS) $(PKG_LIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIBCOMMON)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcivetweb $(PKG_LIBS) -lm

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcivetweb $(PKG_LIBS) -lm

deps:
	$(Q)scripts/deps.sh

unit: all
	$(Q)scripts/run-unit.sh $(UNIT_BINS)

integration: all
	$(Q)ORDERS_BIN_DIR=$(CURDIR)/$(BUILD) scripts/run-integration.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/run-unit.sh $(UNIT_BINS)
	$(Q)ORDERS_BIN_DIR=$(CURDIR)/$(BUILD) scripts/run-integration.sh

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)ORDERS_BIN_DIR=$(CURDIR)/$(BUILD) scripts/run.sh

setup-db:
	$(Q)scripts/migrate.sh

db-start:
	$(Q)scripts/pg.sh start
db-stop:
	$(Q)scripts/pg.sh stop
db-status:
	$(Q)scripts/pg.sh status

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)ORDERS_BIN_DIR=$(CURDIR)/$(BUILD) scripts/bench.sh

format:
	$(Q)clang-format -i $(wildcard */*.c */*.h tests/unit/*.c tests/unit/*.h)

format-check:
	$(Q)clang-format --dry-run --Werror $(wildcard */*.c */*.h tests/unit/*.c tests/unit/*.h)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
.SECONDARY:
