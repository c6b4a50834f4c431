# orders: one non-recursive Makefile.
#   make            build everything into build/
#   make asan test  build with AddressSanitizer + UBSan into build/san and run the suite
#   make run        private PostgreSQL under ./.data + schema + api + relay
#   make test       unit tests, a short fuzz run, integration tests against a throwaway PostgreSQL
#   make fuzz       each libFuzzer harness for FUZZ_TIME seconds (clang; see README)
#   make bench      wrk/pgbench and the relay load tool (see README)
#   make install    programs, man pages, www/ and schema/ under $(DESTDIR)$(PREFIX)
#   make compose-test  docker compose up for real (../shared/tools/compose-check.sh, root)

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
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libedit openssl 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
EDIT_LIBS := $(shell pkg-config --libs libedit 2>/dev/null)
SSL_LIBS := $(or $(shell pkg-config --libs openssl 2>/dev/null),-lssl -lcrypto)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wvla -Wno-format-nonliteral
CFLAGS := -std=c11 -D_GNU_SOURCE -DORDERS_VERSION=\"$(VERSION)\" $(OPT) $(WARN) $(SANFLAGS) -MMD -MP -Icommon $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS) -pthread $(EXTRA_LDFLAGS)

# make install: PREFIX (default /usr/local) and DESTDIR. The programs find
# www/ and schema/ next to themselves (build tree or <prefix>/share/orders);
# ORDERS_DATADIR is the compiled-in last resort.
PREFIX ?= /usr/local
DATADIR := $(PREFIX)/share/orders
CFLAGS += -DORDERS_DATADIR=\"$(DATADIR)\"

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Each program's folder builds into its own archive (every .c but main.c;
# in bench/, every .c but the tools); a program links its main.o, its
# archive and libcommon.a. common/ holds only what two programs share, so
# an archive never needs another program's.
COMMON_SRC := $(wildcard common/*.c)
API_SRC := $(filter-out api/main.c,$(wildcard api/*.c))
RELAY_SRC := $(filter-out relay/main.c,$(wildcard relay/*.c))
CLI_SRC := $(filter-out cli/main.c,$(wildcard cli/*.c))
BENCH_TOOLS := bench/wsload.c
BENCH_SRC := $(filter-out $(BENCH_TOOLS),$(wildcard bench/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIBCOMMON := $(BUILD)/libcommon.a
LIBAPI := $(BUILD)/libapi.a
LIBRELAY := $(BUILD)/librelay.a
LIBCLI := $(BUILD)/libcli.a
LIBBENCH := $(BUILD)/libbench.a
API_BIN := $(BUILD)/orders-api
RELAY_BIN := $(BUILD)/orders-relay
CLI_BIN := $(BUILD)/orders-cli
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_TOOLS))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

PROGRAMS := $(API_BIN) $(RELAY_BIN) $(CLI_BIN)

# A program's folder is on the include path where its modules or its unit
# tests are compiled, nowhere else.
$(BUILD)/api/%.o: CFLAGS += -Iapi
$(BUILD)/relay/%.o: CFLAGS += -Irelay
$(BUILD)/cli/%.o: CFLAGS += -Icli
$(BUILD)/bench/%.o: CFLAGS += -Ibench

# tests/unit/test_<module>.c tests the module <module>.c of common/ or of
# one program's folder; it links that program's archive (none for a
# module of common/) before libcommon.a, and that folder is on its
# include path.
PROGRAM_DIRS := api relay cli bench
UNIT_NAMES := $(patsubst tests/unit/%.c,%,$(UNIT_SRC))
unit_module = $(patsubst test_%,%,$(1))
unit_home = $(patsubst %/,%,$(dir $(firstword $(wildcard \
	$(addsuffix /$(call unit_module,$(1)).c,$(PROGRAM_DIRS))))))
unit_archive = $(if $(call unit_home,$(1)),$(BUILD)/lib$(call unit_home,$(1)).a)
$(foreach t,$(UNIT_NAMES),\
	$(if $(wildcard $(addsuffix /$(call unit_module,$(t)).c,common $(PROGRAM_DIRS))),,\
		$(error tests/unit/$(t).c: no module $(call unit_module,$(t)).c to test))\
	$(if $(call unit_home,$(t)),\
		$(eval $(BUILD)/tests/unit/$(t).o: CFLAGS += -I$(call unit_home,$(t)))))

# civetweb is linked only into what calls it: orders-api and the unit
# tests whose subject reaches common/http.c. The relay has its own server
# (relay/server.h says why); the CLI, the bench tool and the other tests
# link without it.
UNIT_LIBS_test_query := -lcivetweb
UNIT_LIBS_test_security := -lcivetweb
# OpenSSL likewise: orders-cli's connections (cli/http_socket.c, TLS for
# https:// and wss://) are reached from its command table, so orders-cli
# and the unit tests that link libcli.a take it; nothing else does.

.PHONY: all asan test unit integration run setup-db format format-check clean bench deps db-start db-stop db-status \
	fuzz fuzz-build fuzz-smoke
all: $(PROGRAMS) $(BENCH_BINS) $(UNIT_BINS)
asan: all

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
$(LIBAPI): $(call obj,$(API_SRC))
$(LIBRELAY): $(call obj,$(RELAY_SRC))
$(LIBCLI): $(call obj,$(CLI_SRC))
$(LIBBENCH): $(call obj,$(BENCH_SRC))
# Made afresh, also when the Makefile changes: a module moved to another
# folder must leave its old archive.
$(BUILD)/lib%.a: Makefile
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $(filter %.o,$^)

$(API_BIN): $(BUILD)/api/main.o $(LIBAPI) $(LIBCOMMON)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcivetweb $(PKG_LIBS)

$(RELAY_BIN): $(BUILD)/relay/main.o $(LIBRELAY) $(LIBCOMMON)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(CLI_BIN): $(BUILD)/cli/main.o $(LIBCLI) $(LIBCOMMON)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(EDIT_LIBS) $(SSL_LIBS) $(PKG_LIBS)

$(BENCH_BINS): $(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIBBENCH) $(LIBCOMMON)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

.SECONDEXPANSION:
$(UNIT_BINS): $(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $$(call unit_archive,$$*) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LIBS_$*) $(if $(filter $(LIBCLI),$^),$(SSL_LIBS)) \
		$(PKG_LIBS) -lm

# Fuzzing: tests/fuzz/fuzz_<target>.c is a libFuzzer harness (clang and
# Debian's libclang-rt-14-dev) built into build/fuzz/fuzz_<target> with
# ASan + UBSan, against clang builds of common/ and of the program folders
# named by FUZZ_LIBS_<target> (their archives, as for the unit tests). A
# new harness is its file plus, if it tests a program's module, one
# FUZZ_LIBS_ line. Seeds: tests/fuzz/corpus/<target>/, read-only; what a
# run finds goes to build/fuzz/corpus/<target>/, crashes to
# build/fuzz/crashes/<target>/ (scripts/run-fuzz.sh).
#   make fuzz [FUZZ_TIME=60] [FUZZ_TARGETS="route cli"]
# `make test` fuzzes each for FUZZ_SMOKE_TIME seconds; `make asan test`
# (the fuzzers are sanitizer builds either way) only replays the corpora.
FUZZ_CC ?= clang
FUZZ_BUILD := build/fuzz
FUZZ_TIME ?= 60
FUZZ_SMOKE_TIME ?= $(if $(SANITIZE),0,3)
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_LIBS_query := api
FUZZ_LIBS_origin := api
FUZZ_LIBS_route := api
FUZZ_LIBS_cli := cli
FUZZ_LIBS_http_request := relay

FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -DORDERS_VERSION=\"$(VERSION)\" \
	-DORDERS_DATADIR=\"$(DATADIR)\" -O1 -g $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
	-MMD -MP -Icommon $(PKG_CFLAGS)
FUZZ_BINS := $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_TARGETS))
fuzz_obj = $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(1))

$(FUZZ_BUILD)/api/%.o: FUZZ_CFLAGS += -Iapi
$(FUZZ_BUILD)/relay/%.o: FUZZ_CFLAGS += -Irelay
$(FUZZ_BUILD)/cli/%.o: FUZZ_CFLAGS += -Icli
$(foreach t,$(FUZZ_TARGETS),$(eval \
	$(FUZZ_BUILD)/tests/fuzz/fuzz_$(t).o: FUZZ_CFLAGS += $(addprefix -I,$(FUZZ_LIBS_$(t)))))

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/libcommon.a: $(call fuzz_obj,$(COMMON_SRC))
$(FUZZ_BUILD)/libapi.a: $(call fuzz_obj,$(API_SRC))
$(FUZZ_BUILD)/librelay.a: $(call fuzz_obj,$(RELAY_SRC))
$(FUZZ_BUILD)/libcli.a: $(call fuzz_obj,$(CLI_SRC))
$(FUZZ_BUILD)/lib%.a: Makefile
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $(filter %.o,$^)

$(FUZZ_BINS): $(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o \
		$$(addprefix $(FUZZ_BUILD)/lib,$$(addsuffix .a,$$(FUZZ_LIBS_$$*))) $(FUZZ_BUILD)/libcommon.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ -lcivetweb $(PKG_LIBS) -lm

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)scripts/run-fuzz.sh $(FUZZ_TIME) $(FUZZ_BINS)

fuzz-smoke: fuzz-build
	$(Q)scripts/run-fuzz.sh $(FUZZ_SMOKE_TIME) $(FUZZ_BINS)

deps:
	$(Q)scripts/deps.sh

unit: all
	$(Q)scripts/run-unit.sh $(UNIT_BINS)

integration: all
	$(Q)ORDERS_BIN_DIR="$(CURDIR)/$(BUILD)" scripts/run-integration.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/run-unit.sh $(UNIT_BINS)
	$(Q)$(MAKE) --no-print-directory fuzz-smoke
	$(Q)ORDERS_BIN_DIR="$(CURDIR)/$(BUILD)" scripts/run-integration.sh

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)ORDERS_BIN_DIR="$(CURDIR)/$(BUILD)" scripts/run.sh

setup-db: $(API_BIN)
	$(Q)ORDERS_BIN_DIR="$(CURDIR)/$(BUILD)" scripts/migrate.sh

# INSTALL_FROM=DIR installs the programs already built in DIR (no build),
# e.g. build/san; else those of $(BUILD), built first. www/ and schema/ are
# replaced as a whole, so no file of an older version lingers.
INSTALL_FROM ?=
MAN_PAGES := api/orders-api.1 relay/orders-relay.1 cli/orders-cli.1
.PHONY: install uninstall
install: $(if $(INSTALL_FROM),,$(API_BIN) $(RELAY_BIN) $(CLI_BIN))
	$(Q)for p in orders-api orders-relay orders-cli; do \
		install -D -m 755 "$(or $(INSTALL_FROM),$(BUILD))/$$p" "$(DESTDIR)$(PREFIX)/bin/$$p" || exit 1; \
	done
	$(Q)for m in $(MAN_PAGES); do \
		install -D -m 644 "$$m" "$(DESTDIR)$(PREFIX)/share/man/man1/$${m#*/}" || exit 1; \
	done
	$(Q)rm -rf "$(DESTDIR)$(DATADIR)/www" "$(DESTDIR)$(DATADIR)/schema"
	$(Q)find www -type f ! -path '*/.*' | while IFS= read -r f; do \
		install -D -m 644 "$$f" "$(DESTDIR)$(DATADIR)/$$f" || exit 1; \
	done
	$(Q)for f in schema/[0-9]*.sql; do \
		install -D -m 644 "$$f" "$(DESTDIR)$(DATADIR)/$$f" || exit 1; \
	done
	@echo "  INSTALL $(DESTDIR)$(PREFIX): bin/orders-{api,relay,cli}, share/man/man1, share/orders/{www,schema}"

uninstall:
	$(Q)rm -f "$(DESTDIR)$(PREFIX)/bin/orders-api" "$(DESTDIR)$(PREFIX)/bin/orders-relay" \
		"$(DESTDIR)$(PREFIX)/bin/orders-cli"
	$(Q)for m in $(MAN_PAGES); do rm -f "$(DESTDIR)$(PREFIX)/share/man/man1/$${m#*/}"; done
	$(Q)rm -rf "$(DESTDIR)$(DATADIR)"

# docker compose up for real, in a private Docker engine (the team's
# shared tool; needs root, about 1.5 minutes): compose: N passed, M failed.
COMPOSE_CHECK ?= ../shared/tools/compose-check.sh
.PHONY: compose-test
compose-test:
	$(Q)[ -x "$(COMPOSE_CHECK)" ] || { echo "compose-test: $(COMPOSE_CHECK) not found" >&2; exit 2; }
	$(Q)if [ "$$(id -u)" -eq 0 ]; then "$(COMPOSE_CHECK)" "$(CURDIR)"; \
	else sudo "$(COMPOSE_CHECK)" "$(CURDIR)"; fi

db-start:
	$(Q)scripts/pg.sh start
db-stop:
	$(Q)scripts/pg.sh stop
db-status:
	$(Q)scripts/pg.sh status

bench:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory all
	$(Q)ORDERS_BIN_DIR="$(CURDIR)/$(BUILD)" scripts/bench.sh

FORMAT_FILES := $(wildcard */*.c */*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h)
format:
	$(Q)clang-format -i $(FORMAT_FILES)

format-check:
	$(Q)clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
.SECONDARY:
