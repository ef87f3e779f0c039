# kubetenant: one non-recursive Makefile.
#
#   make              build $(BUILD)/kubetenant
#   make demo         install missing build dependencies, build, render examples/platform.yaml
#   make demo-login   an OIDC provider, a test API server and the proxy on 127.0.0.1 (Ctrl-C stops)
#   make check        lint, build, run every test (plain and under ASan+UBSan), print "N passed, N failed"
#   make lint         clang-format check, cppcheck, only kt_ symbols exported, no files calling each other
#   make check-fast   the same suite, plain build only
#   make check-asan   the same suite under AddressSanitizer + UndefinedBehaviorSanitizer only
#   make fuzz         build the libFuzzer targets with clang (fuzz-run FUZZ_TIME=60 runs them)
#   make bench        run the benchmarks in bench/
#   make image        build ./Dockerfile with buildah (no Docker engine) and verify the image (root)
#   make install      PREFIX=/usr/local DESTDIR=
#
# Knobs: CC=clang (C++ with clang++ then), SANITIZE=address,undefined, BUILD=dir.

PKGS    := libfyaml yaml-0.1 jansson libssl libcrypto libmicrohttpd gnutls cjose libcurl simdjson
CC      ?= cc
# The one C++ file (lib/json/simd.cc, behind kt/jview.h) is compiled by
# the C compiler's C++ sibling, so a clang build is clang throughout.
ifeq ($(origin CXX),default)
CXX     := $(if $(findstring clang,$(CC)),clang++,g++)
endif
BUILD   ?= build
PREFIX  ?= /usr/local
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2 -Wno-format-nonliteral
# pkg-config runs on first use, once: `make demo` on a fresh machine installs
# the packages (deps) before anything asks for their flags.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(shell pkg-config --libs $(PKGS)))$(PKG_LIBS)
BASIC_CFLAGS = -std=c11 -D_GNU_SOURCE -Iinclude $(WARN) $(PKG_CFLAGS)
# no exception may cross into C: simdjson is used through its error codes
BASIC_CXXFLAGS = -std=c++17 -D_GNU_SOURCE -Iinclude -Wall -Wextra -Werror -Wshadow -Wvla \
	-fno-exceptions -fno-rtti $(PKG_CFLAGS)
LIBS    = $(PKG_LIBS) -lstdc++ -lpthread -lm
ifdef SANITIZE
BASIC_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
BASIC_CXXFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS      += -fsanitize=$(SANITIZE)
endif

LIB_SRCS  := $(sort $(wildcard lib/*/*.c))
LIB_CXX_SRCS := $(sort $(wildcard lib/*/*.cc))
SERVER_SRCS := $(sort $(wildcard server/*.c server/*/*.c))
CMD_SRCS  := $(sort $(wildcard cmd/*.c))
UNIT_SRCS := $(sort $(wildcard test/unit/t_*.c))
FUZZ_SRCS := $(sort $(wildcard test/fuzz/fuzz_*.c))
BENCH_SRCS := $(sort $(wildcard bench/bench_*.c))

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(LIB_CXX_SRCS:%.cc=$(BUILD)/%.o)
SERVER_OBJS := $(SERVER_SRCS:%.c=$(BUILD)/%.o)
CMD_OBJS  := $(CMD_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS := $(UNIT_SRCS:test/unit/%.c=$(BUILD)/test/%)
REPLAY_BINS := $(FUZZ_SRCS:test/fuzz/%.c=$(BUILD)/test/replay_%)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
KT        := $(BUILD)/kubetenant

all: $(KT)

$(BUILD)/libkt.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

# server/: what `serve` and `proxy` are made of, on top of libkt
$(BUILD)/libktserver.a: $(SERVER_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

SERVER_LIBS = $(BUILD)/libktserver.a $(BUILD)/libkt.a

$(KT): $(CMD_OBJS) $(BUILD)/gen/ui_assets.o $(SERVER_LIBS)
	$(CC) $(LDFLAGS) -o $@ $(CMD_OBJS) $(BUILD)/gen/ui_assets.o $(SERVER_LIBS) $(LIBS)
# the dashboard (proxy --ui): ui/ compiled in, so there are no files to ship
UI_FILES := $(sort $(wildcard ui/*))
$(BUILD)/gen/ui_assets.c: scripts/embed.sh $(UI_FILES)
	@mkdir -p $(@D)
	scripts/embed.sh $@ $(UI_FILES)

$(BUILD)/gen/ui_assets.o: $(BUILD)/gen/ui_assets.c server/proxy/ui.h
	$(CC) $(BASIC_CFLAGS) $(CFLAGS) -I. -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(BASIC_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(BASIC_CXXFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# server/'s headers are its own: only server/, cmd/ and the tests see them (-Iserver)
$(BUILD)/server/%.o: server/%.c
	@mkdir -p $(@D)
	$(CC) $(BASIC_CFLAGS) -Iserver $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/cmd/%.o: cmd/%.c
	@mkdir -p $(@D)
	$(CC) $(BASIC_CFLAGS) -Iserver $(CFLAGS) -MMD -MP -c -o $@ $<

# unit tests: cmocka, one binary per file, TAP output
$(BUILD)/test/t_%: test/unit/t_%.c $(SERVER_LIBS)
	@mkdir -p $(@D)
	$(CC) $(BASIC_CFLAGS) -Iserver $(CFLAGS) -Itest/unit -MMD -MP -MF $@.d -o $@ $< $(SERVER_LIBS) $(LIBS) $$(pkg-config --libs cmocka) $(LDFLAGS)

# fuzz targets built with a plain main() that replays the corpus
$(BUILD)/test/replay_%: test/fuzz/%.c test/fuzz/replay.c $(SERVER_LIBS)
	@mkdir -p $(@D)
	$(CC) $(BASIC_CFLAGS) -Iserver $(CFLAGS) -o $@ $< test/fuzz/replay.c $(SERVER_LIBS) $(LIBS) $(LDFLAGS)

$(BUILD)/bench/bench_%: bench/bench_%.c $(BUILD)/libkt.a
	@mkdir -p $(@D)
	$(CC) $(BASIC_CFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libkt.a $(LIBS) $(LDFLAGS)

-include $(LIB_OBJS:.o=.d) $(SERVER_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(UNIT_BINS:=.d)

test-bins: $(KT) $(UNIT_BINS) $(REPLAY_BINS)

deps:
	scripts/install-deps.sh

demo: deps
	$(MAKE) all
	$(KT) render -f examples/platform.yaml

# Format (scripts/format.sh fixes what the check reports), cppcheck, the
# libraries' exported names, and no two files that call each other
# (docs/layout.md).  cppcheck's suppressions, each with its reason:
#  missingIncludeSystem  system headers are not analysed, only our code;
#  varFuncNullUB         NULL ends kt_log()'s list: it is (void *)0 in C on
#                        glibc, and __attribute__((sentinel)) checks each call.
CPPCHECK_FLAGS = -q --std=c11 -D_GNU_SOURCE -Iinclude --library=scripts/cppcheck.cfg \
	--enable=warning,portability,performance --inline-suppr --error-exitcode=1 \
	--suppress=missingIncludeSystem --suppress=varFuncNullUB \
	--cppcheck-build-dir=$(BUILD)/cppcheck
lint: $(BUILD)/libkt.a $(BUILD)/libktserver.a $(CMD_OBJS)
	scripts/format.sh --check
	@mkdir -p $(BUILD)/cppcheck
	cppcheck $(CPPCHECK_FLAGS) cmd lib server test/unit test/fuzz bench
	scripts/lint-symbols.sh $(BUILD)/libkt.a $(BUILD)/libktserver.a
	scripts/cycles.py $(BUILD)

demo-login: $(KT)
	KT=$(KT) scripts/demo-login.sh

# The whole suite twice: a plain -O2 build and an ASan+UBSan clang build,
# each built with a job per CPU.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check: deps
	$(MAKE) -j$(JOBS) lint
	$(MAKE) -j$(JOBS) test-bins
	$(MAKE) -j$(JOBS) BUILD=$(BUILD)/asan CC=clang CFLAGS="-O1 -g" SANITIZE=address,undefined test-bins
	test/run.sh $(BUILD) $(BUILD)/asan

check-fast:
	$(MAKE) -j$(JOBS) lint
	$(MAKE) -j$(JOBS) test-bins
	test/run.sh $(BUILD)

check-asan:
	$(MAKE) -j$(JOBS) BUILD=$(BUILD)/asan CC=clang CFLAGS="-O1 -g" SANITIZE=address,undefined test-bins
	test/run.sh $(BUILD)/asan

FUZZ_TIME ?= 60
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined
FUZZ_CXX_OBJS := $(LIB_CXX_SRCS:%.cc=$(BUILD)/fuzz/%.o)
$(BUILD)/fuzz/%.o: %.cc
	@mkdir -p $(@D)
	clang++ $(BASIC_CXXFLAGS) -O1 -g $(FUZZ_SAN) -c -o $@ $<

fuzz: $(BUILD)/gen/ui_assets.c $(FUZZ_CXX_OBJS)
	@mkdir -p $(BUILD)/fuzz
	for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); \
	  clang $(BASIC_CFLAGS) -I. -Iserver -O1 -g -fsanitize=fuzzer,address,undefined -o $(BUILD)/fuzz/$$n $$f \
	    $(LIB_SRCS) $(SERVER_SRCS) $(BUILD)/gen/ui_assets.c $(FUZZ_CXX_OBJS) $(LIBS) || exit 1; done

fuzz-run: fuzz
	for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  $(BUILD)/fuzz/$$n -max_total_time=$(FUZZ_TIME) $(BUILD)/fuzz/corpus-$$n test/fuzz/corpus/$$n || exit 1; done

bench: $(KT) $(BENCH_BINS)
	for b in $(sort $(wildcard bench/*.sh)); do echo "== $$b"; KT=$(KT) BUILD=$(BUILD) bash $$b || exit 1; done

# Not part of check: minutes on the first run, needs buildah, debootstrap, root.
image:
	scripts/build-image.sh

install: $(KT)
	install -Dm755 $(KT) $(DESTDIR)$(PREFIX)/bin/kubetenant
	ln -sf kubetenant $(DESTDIR)$(PREFIX)/bin/kubectl-tenant
	for m in man/*.1; do install -Dm644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/$$(basename $$m); done

clean:
	$(RM) -r $(BUILD)

.PHONY: all deps demo demo-login lint check check-fast check-asan test-bins fuzz fuzz-run bench image install clean
