# netproc — each target is a thin wrapper around commands CI also runs (CONTRIBUTING.md).
# GNU make. `make help` lists the targets.

PREFIX     ?= /usr/local
DESTDIR    ?=
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
LISPDIR    ?= $(PREFIX)/share/emacs/site-lisp/netproc
CARGO      ?= cargo
CC         ?= cc
# make predefines CXX=g++, so `?=` alone would never apply.
ifeq ($(origin CXX),default)
CXX := c++
endif

# X.Y.Z from the `version =` line of [package] in Cargo.toml.
VERSION := $(shell sed -n '/^\[package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml)
REALNAME := libnetproc.so.$(VERSION)

TARGET_DIR  := $(or $(CARGO_TARGET_DIR),target)
# The soname rule lives in build.rs, which links the library with it and leaves it in
# $(SONAME_FILE). Read when a recipe runs (`=`), so after cargo-build has written it.
SONAME_FILE := $(TARGET_DIR)/netproc.soname
SONAME       = $(shell cat $(SONAME_FILE) 2>/dev/null)
RELEASE_DIR := $(TARGET_DIR)/release
GEN_HEADER  := $(TARGET_DIR)/netproc.h
STAGE       := build

# C tests and the demo: -D_GNU_SOURCE for fork/mkdtemp/nftw under -std=c11.
STRICT_CFLAGS := -std=c11 -Wall -Wextra -Wpedantic -Werror -g -D_GNU_SOURCE -Iinclude
# The TLS tests make their certificates at run time with examples/test-certs.rs.
TEST_CERTS    := $(abspath $(RELEASE_DIR))/examples/test-certs
C_TEST_CFLAGS := $(STRICT_CFLAGS) -Ic-tests -DNETPROC_CARGO_VERSION='"$(VERSION)"' \
                 -DNETPROC_TEST_CERTS='"$(TEST_CERTS)"'
C_TEST_LIBS   := -L$(STAGE)/lib -lnetproc -Wl,-rpath,$(abspath $(STAGE)/lib) -lpthread
ASAN_FLAGS    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
C_TEST_DEPS   := $(wildcard c-tests/*.h) include/netproc.h $(STAGE)/lib/libnetproc.so

C_TESTS     := $(patsubst c-tests/%.c,%,$(wildcard c-tests/test_*.c))
C_TEST_BINS := $(addprefix c-tests/bin/,$(C_TESTS))
ASAN_BINS   := $(addprefix c-tests/bin-asan/,$(C_TESTS))
HEADER_BINS := c-tests/bin/header_c99 c-tests/bin/header_cxx

# No --trace-children: valgrind follows fork() anyway (the cases run in forked
# children and are checked); that flag only matters for exec, e.g. of emacs.
VALGRIND ?= valgrind -q --error-exitcode=1 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect --track-fds=no
# What `make test` runs under valgrind (about a minute; `make test-valgrind` runs them all):
# the C boundary (NULLs, bad handles, stale and forged handles, strings, lengths, threads),
# lifecycle and teardown, threads and wake-ups, resolver threads, errors, both ends of TCP,
# the host-driven loop, TLS clients against real servers and against broken peers.
VALGRIND_SUBSET := $(addprefix c-tests/bin/,test_api test_boundary test_lifecycle test_wakeup \
                   test_resolve test_errors test_tcp_client test_tcp_server test_embed test_tls \
                   test_tls_faults)
VALGRIND_BINS ?= $(C_TEST_BINS)
# ring's assembly (SHA-2, AES-GCM) is beyond memcheck's definedness tracking: the handshake
# hash, and every key and record derived from it, show up as uninitialised although real
# peers check them byte for byte. So the TLS tests run with --undef-value-errors=no; invalid
# accesses and leaks are still errors (and ASan runs them in full). --show-possibly-lost=no:
# the process-wide caches (rustls configurations, x509-parser's tables) are hash tables,
# reachable only through pointers into their middle when a case's child exits.
TLS_TEST_BINS := $(filter c-tests/bin/test_tls%,$(C_TEST_BINS))
VALGRIND_TLS  := $(VALGRIND) --undef-value-errors=no --show-possibly-lost=no
# Canaries: one bad thing each, which the checkers must report (c-tests/sanitizer_canary.sh).
CANARY_BINS := c-tests/bin-asan/sanitizer_canary c-tests/bin/sanitizer_canary

# Loom (stable Rust): every interleaving of the resolver pool and the Emacs watcher's
# handshake (the loom_tests modules), in a target dir of its own so that the --cfg does
# not rebuild the main one; the preemption bound keeps it to seconds.
LOOM_MAX_PREEMPTIONS ?= 3
# ThreadSanitizer (nightly only, not in `make test`): the real threads of the resolver,
# the Emacs watcher and the waker. std is not rebuilt (no rust-src), hence tests/tsan.supp.
TSAN_CARGO  = CARGO_TARGET_DIR=$(TARGET_DIR)/tsan \
              RUSTFLAGS="-Zsanitizer=thread -Cunsafe-allow-abi-mismatch=sanitizer" \
              $(CARGO) +nightly test --release --target $(shell rustc -vV | sed -n 's/^host: //p')
TSAN_ENV   := TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(abspath tests/tsan.supp)"

# A failed recipe must not leave a half-written target that looks up to date.
.DELETE_ON_ERROR:

.PHONY: bench-tls bench-mode bench-responsive bench-alloc bench-instructions emacs-package
.PHONY: all stage emacs-module cargo-build test-certs header check-header lint c-tests test test-asan \
        test-valgrind test-fuzz-corpus test-loom test-tsan test-stress bench bench-quick bench-coding demo demo-emacs install uninstall clean help

all: stage emacs-module

# The Emacs module is the same library: link it beside netproc.el so that
# `emacs -Q -L lisp --eval "(require 'netproc)"` finds it (gitignored, as *.so).
emacs-module: stage
	ln -sf ../$(STAGE)/lib/$(REALNAME) lisp/netproc-module.so
	@if command -v $(EMACS) >/dev/null 2>&1; then $(MAKE) --no-print-directory $(LISP_ELC); fi
	@if command -v $(EMACS) >/dev/null 2>&1; then $(MAKE) --no-print-directory $(MODE_ELC) $(MODE_TRAMPOLINES); fi

# netproc-versions.el, netproc.el, netproc-api.el and netproc-tls.el byte-compiled (gitignored): the dispatch runs them for every
# wake-up, where interpreted Lisp costs microseconds.
EMACS    ?= emacs
LISP_EL  := lisp/netproc-versions.el lisp/netproc.el lisp/netproc-api.el lisp/netproc-tls.el
LISP_ELC := $(LISP_EL:.el=.elc)
$(LISP_ELC): $(LISP_EL)
	$(EMACS) -Q --batch -L lisp -f batch-byte-compile $(LISP_EL)

# netproc-mode advises ~55 primitives; natively compiled callers reach the advice through
# a trampoline per primitive, a third of a second each to compile. They are compiled here,
# into lisp/eln/<this Emacs's comp-native-version-dir>/ (gitignored), so that turning the
# mode on takes a tenth of a second. Redone when netproc-mode.el changes, compiling only
# the trampolines missing.
MODE_ELC         := lisp/netproc-mode.elc
MODE_TRAMPOLINES := lisp/eln/.stamp
$(MODE_ELC): lisp/netproc-mode.el $(LISP_ELC)
	$(EMACS) -Q --batch -L lisp -f batch-byte-compile lisp/netproc-mode.el

$(MODE_TRAMPOLINES): lisp/netproc-mode.el $(MODE_ELC)
	$(EMACS) -Q --batch -L lisp -l netproc-mode \
	  --eval '(message "netproc-mode: %d trampolines compiled" (netproc-mode-compile-trampolines))'
	@mkdir -p $(@D) && touch $@

stage: cargo-build $(STAGE)/native-static-libs
	@test -n "$(VERSION)" || { echo "cannot read version from Cargo.toml" >&2; exit 1; }
	@test -n "$(SONAME)" || { echo "$(SONAME_FILE) missing: build.rs did not run" >&2; exit 1; }
	@test -f include/netproc.h || { echo "include/netproc.h missing: run make header" >&2; exit 1; }
	mkdir -p $(STAGE)/lib/pkgconfig $(STAGE)/include
	@# Another version's library and links (after a version change) would only mislead.
	find $(STAGE)/lib -maxdepth 1 -name 'libnetproc.so.*' ! -name $(REALNAME) ! -name $(SONAME) -delete
	install -p -m 755 $(RELEASE_DIR)/libnetproc.so $(STAGE)/lib/$(REALNAME)
	ln -sf $(REALNAME) $(STAGE)/lib/$(SONAME)
	ln -sf $(SONAME) $(STAGE)/lib/libnetproc.so
	install -p -m 644 $(RELEASE_DIR)/libnetproc.a $(STAGE)/lib/libnetproc.a
	install -p -m 644 include/netproc.h $(STAGE)/include/netproc.h
	@# The soname comes from build.rs; make sure the linker really took it.
	@readelf -d $(STAGE)/lib/$(REALNAME) | grep -q 'SONAME.*\[$(SONAME)\]' || \
	  { echo "$(REALNAME): soname is not $(SONAME)" >&2; exit 1; }
	@# Relocatable: build/ works as an uninstalled prefix via PKG_CONFIG_PATH.
	$(call gen_pc,$${pcfiledir}/../..,$${prefix}/lib,$${prefix}/include,$(STAGE)/lib/pkgconfig/netproc.pc)

# Cargo decides what is stale, so always ask it.
cargo-build:
	$(CARGO) build --release

# Libs.private: what a static link of libnetproc.a needs. Only Cargo.toml and
# Cargo.lock can change it, so it is cached rather than recomputed every make.
$(STAGE)/native-static-libs: Cargo.toml $(wildcard Cargo.lock)
	mkdir -p $(STAGE)
	$(CARGO) rustc --release --lib --crate-type staticlib -- --print native-static-libs \
	  > $@.log 2>&1 || { cat $@.log >&2; exit 1; }
	sed -n 's/.*native-static-libs: *//p' $@.log | tail -n 1 > $@.tmp
	@test -s $@.tmp || { echo "no native-static-libs note from rustc, see $@.log" >&2; exit 1; }
	mv $@.tmp $@

# $(call gen_pc,prefix,libdir,includedir,output): fill in netproc.pc.in.
gen_pc = sed -e 's|@PREFIX@|$(1)|' -e 's|@LIBDIR@|$(2)|' -e 's|@INCLUDEDIR@|$(3)|' \
	-e 's|@VERSION@|$(VERSION)|' -e "s|@LIBS_PRIVATE@|$$(cat $(STAGE)/native-static-libs)|" \
	netproc.pc.in > $(4)

# Staged files are rewritten by `stage`, but `install -p` keeps their mtimes, so
# the C tests relink only when cargo really relinked the library.
$(STAGE)/lib/libnetproc.so: stage ; @:

# ---- header ---------------------------------------------------------------
# build.rs writes the header to $(GEN_HEADER); a cbindgen failure leaves none.
define need_gen_header
@test -f $(GEN_HEADER) || { echo "$(GEN_HEADER) missing: cbindgen failed, see the cargo warnings above" >&2; exit 1; }
endef

header: cargo-build
	$(need_gen_header)
	cp $(GEN_HEADER) include/netproc.h

# rustfmt and clippy with warnings as errors: every target with the fuzz bodies, and the
# library without the Emacs module (what `--no-default-features` builds).
lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets --features fuzzing -- -D warnings
	$(CARGO) clippy --release --lib --no-default-features -- -D warnings
	@# No import cycles inside src/core, src/ffi or src/emacs (tests/module_graph.rs).
	$(CARGO) test --release --test module_graph

check-header: cargo-build
	$(need_gen_header)
	@cmp -s $(GEN_HEADER) include/netproc.h || \
	  { echo "include/netproc.h is stale: run make header" >&2; exit 1; }
	@echo "include/netproc.h is up to date"

# ---- C tests ----------------------------------------------------------------
c-tests: $(C_TEST_BINS) $(HEADER_BINS) test-certs

c-tests/bin/%: c-tests/%.c $(C_TEST_DEPS)
	@mkdir -p $(@D)
	$(CC) $(C_TEST_CFLAGS) $(CFLAGS) -o $@ $< $(C_TEST_LIBS) $(LDFLAGS)

# The TLS tests run $(TEST_CERTS); cargo decides whether it is stale (order-only: a rebuilt
# example does not relink the tests).
$(filter c-tests/bin/test_tls%,$(C_TEST_BINS)) $(filter c-tests/bin-asan/test_tls%,$(ASAN_BINS)): | test-certs

test-certs: cargo-build
	$(CARGO) build --release --example test-certs

c-tests/bin-asan/%: c-tests/%.c $(C_TEST_DEPS)
	@mkdir -p $(@D)
	$(CC) $(C_TEST_CFLAGS) $(ASAN_FLAGS) $(CFLAGS) -o $@ $< $(C_TEST_LIBS) $(LDFLAGS)

# The header alone, as C99 and as C++11; linking proves the extern "C" guards.
c-tests/bin/header_c99: c-tests/header_c99.c $(C_TEST_DEPS)
	@mkdir -p $(@D)
	$(CC) -std=c99 -Wall -Wextra -Wpedantic -Werror -Iinclude -o $@ $< $(C_TEST_LIBS)

c-tests/bin/header_cxx: c-tests/header_cxx.cpp $(C_TEST_DEPS)
	@mkdir -p $(@D)
	$(CXX) -std=c++11 -Wall -Wextra -Wpedantic -Werror -Iinclude -o $@ $< $(C_TEST_LIBS)

# ---- test targets -----------------------------------------------------------
# Sequential on purpose; run.sh goes last because CI reads its closing line. The
# sanitizer and valgrind runs each end with their own run.sh summary and stop `make test`
# on a failure, so the last line counts the plain run and means every run passed.
# The ERT suite and the package test run twice: with $(EMACS) and with Emacs 30.1, which
# tools/emacs30.sh fetches once into .cache/emacs-30.1 (the twins follow the Emacs they
# run in; lisp/netproc-versions.el).
test: all
	$(MAKE) --no-print-directory lint
	$(CARGO) test --release
	$(MAKE) --no-print-directory test-fuzz-corpus
	$(MAKE) --no-print-directory test-loom
	$(MAKE) --no-print-directory check-header
	$(MAKE) --no-print-directory test-certs
	$(MAKE) --no-print-directory c-tests
	$(MAKE) --no-print-directory test-asan
	$(MAKE) --no-print-directory test-valgrind VALGRIND_BINS="$(VALGRIND_SUBSET)"
	c-tests/run.sh $(C_TEST_BINS) c-tests/readme_example.sh c-tests/ert.sh c-tests/ert30.sh \
	  c-tests/emacs_own_tests.sh c-tests/emacs_own_tests30.sh c-tests/install_test.sh \
	  c-tests/emacs_package_test.sh \
	  c-tests/emacs_package_test30.sh

# The canaries go first: a checker that misses them makes its silence meaningless.
test-asan: $(ASAN_BINS) $(CANARY_BINS)
	@# An uninstrumented binary would pass silently: prove ASan was linked in.
	@for b in $(ASAN_BINS); do \
	  nm $$b | grep -q '__asan_init' || { echo "$$b: __asan_init missing, not built with ASan" >&2; exit 1; }; \
	done
	VALGRIND="$(VALGRIND)" ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  c-tests/run.sh c-tests/sanitizer_canary.sh $(ASAN_BINS)

# run.sh without programs would run them all, hence the $(if)s.
test-valgrind: c-tests
	$(if $(filter-out $(TLS_TEST_BINS),$(VALGRIND_BINS)),RUNNER="$(VALGRIND)" CHECK_TIMEOUT_SCALE=10 \
	  c-tests/run.sh $(filter-out $(TLS_TEST_BINS),$(VALGRIND_BINS)))
	$(if $(filter $(TLS_TEST_BINS),$(VALGRIND_BINS)),RUNNER="$(VALGRIND_TLS)" CHECK_TIMEOUT_SCALE=10 \
	  c-tests/run.sh $(filter $(TLS_TEST_BINS),$(VALGRIND_BINS)))

# The fuzz corpus replayed through the fuzz bodies (cargo feature `fuzzing`), in a target
# dir of its own so that the feature does not rebuild the library `make` stages.
test-fuzz-corpus:
	CARGO_TARGET_DIR=$(TARGET_DIR)/fuzzing $(CARGO) test --release --features fuzzing --test fuzz_corpus

test-loom:
	CARGO_TARGET_DIR=$(TARGET_DIR)/loom RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=$(LOOM_MAX_PREEMPTIONS) \
	  $(CARGO) test --release --lib loom_tests

# Needs the nightly toolchain (its TSan runtime; no rust-src needed). The canary, a
# deliberate race, must be reported before the real tests' silence counts.
test-tsan:
	@$(CARGO) +nightly --version >/dev/null 2>&1 || { echo "test-tsan needs the nightly toolchain" >&2; exit 1; }
	@$(TSAN_CARGO) --test cross_thread --no-run
	@echo "# TSan canary: a deliberate data race must be reported"
	@if $(TSAN_ENV) $(TSAN_CARGO) --test cross_thread -- --ignored --exact tsan_canary \
	    >$(TARGET_DIR)/tsan/canary.log 2>&1; then \
	  echo "test-tsan: the canary race was not reported: TSan is not working" >&2; exit 1; \
	elif ! grep -q 'ThreadSanitizer: data race' $(TARGET_DIR)/tsan/canary.log; then \
	  cat $(TARGET_DIR)/tsan/canary.log >&2; echo "test-tsan: the canary failed without a TSan report" >&2; exit 1; \
	fi
	$(TSAN_ENV) $(TSAN_CARGO) --lib --test cross_thread --test core_stream -- resolve channel wakeup nowait tcp

# ---- load with integrity (issue 7): c-tests/stress_*.c, not part of `make test` ---------
# 1,000 clients x 1 MiB through a netproc echo server over TCP and unix sockets, 100,000
# connect/accept/close cycles, 100,000 datagrams: every byte checked on both sides, digests
# per client, descriptors and the process list back to where they started. Each program
# prints its figures and has its own alarm(); then the same programs run again with
# ASan+UBSan+LSan in the C code (the leak checker sees the library's allocations too).
# Optimised: the checking itself must not be the bottleneck.
STRESS_PROGS := $(patsubst c-tests/%.c,%,$(wildcard c-tests/stress_*.c))
STRESS_RUNS  := "stress_echo tcp" "stress_echo unix" "stress_cycles" "stress_datagram"

c-tests/bin/stress_%: c-tests/stress_%.c $(C_TEST_DEPS)
	@mkdir -p $(@D)
	$(CC) $(C_TEST_CFLAGS) -O2 $(CFLAGS) -o $@ $< $(C_TEST_LIBS) $(LDFLAGS)

c-tests/bin-asan/stress_%: c-tests/stress_%.c $(C_TEST_DEPS)
	@mkdir -p $(@D)
	$(CC) $(C_TEST_CFLAGS) -O1 $(ASAN_FLAGS) $(CFLAGS) -o $@ $< $(C_TEST_LIBS) $(LDFLAGS)

test-stress: all $(addprefix c-tests/bin/,$(STRESS_PROGS)) $(addprefix c-tests/bin-asan/,$(STRESS_PROGS))
	@for p in $(STRESS_PROGS); do \
	  nm c-tests/bin-asan/$$p | grep -q '__asan_init' || { echo "c-tests/bin-asan/$$p: not built with ASan" >&2; exit 1; }; \
	done
	@set -e; start=$$(date +%s); \
	for run in $(STRESS_RUNS); do nice -n 10 c-tests/bin/$$run; done; \
	for run in $(STRESS_RUNS); do \
	  echo "# with ASan+UBSan+LSan: $$run"; \
	  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 nice -n 10 c-tests/bin-asan/$$run; \
	done; \
	echo "test-stress: every run passed, plain and under ASan, in $$(( $$(date +%s) - start )) s"

# ---- benchmarks: timings live here, never in test asserts (CONTRIBUTING.md) ------
# Issue 6's suite: plain-C peers (bench/peer_*.c) against each system under test
# (bench/sut_netproc.c, bench/sut_epoll.c, bench/sut_libuv.c, bench/sut_emacs.el in
# emacs --batch with the built-ins or the netproc twins); bench/run.py runs them, prints one
# table and writes bench/RESULTS.md. BENCH_ARGS passes options, e.g. BENCH_ARGS="--workloads W1,W2".
BENCH_PEERS := $(addprefix bench/bin/peer_,sender echo connector scale udp)
BENCH_SUTS  := $(addprefix bench/bin/sut_,netproc epoll libuv) bench/bin/tls_client
BENCH_BINS  := $(BENCH_PEERS) $(BENCH_SUTS)

bench: emacs-module $(BENCH_BINS) test-certs
	python3 bench/run.py $(BENCH_ARGS)
	python3 bench/tls.py
	python3 bench/mode.py
	python3 bench/responsive.py $(BENCH_RESPONSIVE_ARGS)
	$(MAKE) --no-print-directory bench-alloc

# Heap allocations per message of a steady ping-pong, counted by a counting global
# allocator (examples/alloc_pingpong.rs; fails if a message costs one).
bench-alloc:
	$(CARGO) run --release --quiet --example alloc_pingpong $(BENCH_ALLOC_ARGS)

# User-space instructions per event (W2, W3, W5 unpaced) counted by callgrind, for
# netproc, libuv and the plain epoll loop: steadier than CPU time on a busy machine
# (bench/instructions.sh; prints a table, writes nothing).
bench-instructions: $(BENCH_BINS)
	bash bench/instructions.sh

# Issue 14, item 5: a 10 ms timer's lateness (max, p99) while one filter receives 256 MiB
# from bench/peer_sender, the twin against the built-in, waiting in accept-process-output
# and in Emacs's own loop (bench/responsive.py; writes bench/RESULTS-responsive.md).
# BENCH_RESPONSIVE_ARGS="--runs 1 --bytes 67108864" for a quick one.
bench-responsive: emacs-module bench/bin/peer_sender
	python3 bench/responsive.py $(BENCH_RESPONSIVE_ARGS)

# What turning netproc-mode on costs, with and without the trampolines `make` compiles
# (bench/mode.py; writes bench/RESULTS-mode.md).
bench-mode: emacs-module
	python3 bench/mode.py $(BENCH_MODE_ARGS)

# Issue 13's TLS figures alone: handshake CPU against Emacs's GnuTLS, bulk receive against
# openssl s_client (bench/tls.py; --quick for a short run).
bench-tls: emacs-module $(BENCH_BINS) test-certs
	python3 bench/tls.py $(BENCH_TLS_ARGS)

# Scaled-down sizes, one run per cell, under two minutes; writes bench/RESULTS-quick.md.
bench-quick: emacs-module $(BENCH_BINS)
	python3 bench/run.py --quick $(BENCH_ARGS)

# Filter throughput, :coding utf-8 against binary, 1 GiB per run (W6 of the suite, alone);
# BENCH_CODING_ARGS="64 3" for a quick one (MiB per run, runs).
bench-coding: bench/bin/coding
	bench/bin/coding $(BENCH_CODING_ARGS)

# The peers are plain C, linked with nothing but libc.
bench/bin/peer_%: bench/peer_%.c bench/common.h
	@mkdir -p $(@D)
	$(CC) $(STRICT_CFLAGS) -O2 $(CFLAGS) -o $@ $< $(LDFLAGS)

bench/bin/sut_libuv: bench/sut_libuv.c bench/common.h
	@mkdir -p $(@D)
	$(CC) $(STRICT_CFLAGS) -O2 $(CFLAGS) $$(pkg-config --cflags libuv) -o $@ $< $$(pkg-config --libs libuv) $(LDFLAGS)

bench/bin/sut_epoll: bench/sut_epoll.c bench/common.h
	@mkdir -p $(@D)
	$(CC) $(STRICT_CFLAGS) -O2 $(CFLAGS) -o $@ $< $(LDFLAGS)

bench/bin/%: bench/%.c bench/common.h include/netproc.h $(STAGE)/lib/libnetproc.so
	@mkdir -p $(@D)
	$(CC) $(STRICT_CFLAGS) -O2 $(CFLAGS) -o $@ $< $(C_TEST_LIBS) $(LDFLAGS)

demo: all
	@test -f examples/demo_host.c || { echo "examples/demo_host.c does not exist yet: no demo to run" >&2; exit 1; }
	$(MAKE) --no-print-directory examples/demo_host
	./examples/demo_host

# An echo server and three clients in emacs --batch, through the module.
demo-emacs: all
	emacs -Q --batch -L lisp -l tests/emacs/netproc-demo.el

examples/demo_host: examples/demo_host.c $(C_TEST_DEPS)
	$(CC) $(STRICT_CFLAGS) $(CFLAGS) -o $@ $< $(C_TEST_LIBS) $(LDFLAGS)

# ---- fuzzing (issue 7): cargo-fuzz targets in fuzz/, nightly + `cargo install cargo-fuzz` ----
# Each target runs FUZZ_SECONDS, one after another, on one core at the lowest priority;
# new inputs land in fuzz/corpus/<target>/, crashes in fuzz/artifacts/<target>/ (gitignored).
# `make fuzz-cmin` shrinks the corpus before it is committed. `make test` replays every
# corpus file on stable (tests/fuzz_corpus.rs), so no nightly is needed for that.
FUZZ_TARGETS := $(basename $(notdir $(wildcard fuzz/fuzz_targets/*.rs)))
FUZZ_SECONDS ?= 30

.PHONY: fuzz fuzz-cmin
fuzz:
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  nice -n 19 $(CARGO) +nightly fuzz run -O $$t -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done

fuzz-cmin:
	cd fuzz && for t in $(FUZZ_TARGETS); do nice -n 19 $(CARGO) +nightly fuzz cmin -O $$t || exit 1; done

# ---- install ------------------------------------------------------------------
# The .pc gets the real paths; libdir/includedir stay relative to ${prefix}
# when they lie under it, so `pkg-config --define-prefix` keeps working.
install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	install -m 755 $(STAGE)/lib/$(REALNAME) $(DESTDIR)$(LIBDIR)/$(REALNAME)
	ln -sf $(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libnetproc.so
	install -m 644 $(STAGE)/lib/libnetproc.a $(DESTDIR)$(LIBDIR)/libnetproc.a
	install -m 644 $(STAGE)/include/netproc.h $(DESTDIR)$(INCLUDEDIR)/netproc.h
	$(call gen_pc,$(PREFIX),$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR)),$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR)),$(DESTDIR)$(LIBDIR)/pkgconfig/netproc.pc)
	@# The Lisp files and the module beside them, where netproc.el loads it from: a copy of
	@# the library (Emacs loads it by this name; a link would break under DESTDIR staging).
	install -d $(DESTDIR)$(LISPDIR)
	install -m 644 lisp/*.el $(DESTDIR)$(LISPDIR)/
	@# netproc-mode's trampolines, for this Emacs only (its comp-native-version-dir).
	if [ -d lisp/eln ]; then cp -R lisp/eln $(DESTDIR)$(LISPDIR)/; fi
	install -m 755 $(STAGE)/lib/$(REALNAME) $(DESTDIR)$(LISPDIR)/netproc-module.so

# A package for `package-install-file' (module included): build/netproc-X.Y.Z.tar.
PACKAGE := netproc-$(VERSION)
emacs-package: all
	rm -rf $(STAGE)/$(PACKAGE) $(STAGE)/$(PACKAGE).tar
	install -d $(STAGE)/$(PACKAGE)
	install -m 644 lisp/*.el $(STAGE)/$(PACKAGE)/
	if [ -d lisp/eln ]; then cp -R lisp/eln $(STAGE)/$(PACKAGE)/; fi
	install -m 755 $(STAGE)/lib/$(REALNAME) $(STAGE)/$(PACKAGE)/netproc-module.so
	printf '(define-package "netproc" "%s" "Emacs network processes on the netproc library" (quote ((emacs "28.1"))))\n' \
	  $(VERSION) > $(STAGE)/$(PACKAGE)/netproc-pkg.el
	tar -C $(STAGE) -cf $(STAGE)/$(PACKAGE).tar $(PACKAGE)
	@echo "built $(STAGE)/$(PACKAGE).tar: M-x package-install-file RET $(STAGE)/$(PACKAGE).tar"

# The soname link is named after what the installed library says, so no build is needed.
uninstall:
	soname=$$(readelf -d $(DESTDIR)$(LIBDIR)/$(REALNAME) 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'); \
	rm -f $(DESTDIR)$(LIBDIR)/$(REALNAME) $${soname:+$(DESTDIR)$(LIBDIR)/$$soname} \
	      $(DESTDIR)$(LIBDIR)/libnetproc.so $(DESTDIR)$(LIBDIR)/libnetproc.a \
	      $(DESTDIR)$(LIBDIR)/pkgconfig/netproc.pc $(DESTDIR)$(INCLUDEDIR)/netproc.h
	rm -rf $(DESTDIR)$(LISPDIR)

clean:
	$(CARGO) clean
	rm -rf $(STAGE) c-tests/bin c-tests/bin-asan bench/bin examples/demo_host
	rm -f lisp/netproc-module.so lisp/*.elc
	rm -rf lisp/eln
	@# .cache/emacs-30.1 (tools/emacs30.sh) stays: it is a download, not a build.

help:
	@echo "all (default)  cargo build --release; stage lib, header and netproc.pc in $(STAGE)/"
	@echo "header         regenerate include/netproc.h;  check-header: fail if it is stale"
	@echo "test           cargo test, loom, check-header, C tests (plain, ASan+UBSan, valgrind subset), ERT and package test (Emacs 28.2 and 30.1), install test"
	@echo "demo-emacs     an echo server and clients in emacs --batch, through the module"
	@echo "test-asan      C tests with ASan+UBSan+LSan;  test-valgrind: C tests under valgrind"
	@echo "test-fuzz-corpus replay fuzz/corpus/ through the fuzz bodies, stable Rust (in make test)"
	@echo "test-loom      loom models of the resolver pool and the Emacs watcher (in make test)"
	@echo "test-tsan      ThreadSanitizer on the cross-thread tests (nightly; not in make test)"
	@echo "test-stress    load with integrity: 1,000 x 1 MiB echo (TCP, unix), 100,000 cycles, datagrams; then under ASan"
	@echo "bench          issue 6's suite: netproc, epoll, libuv, Emacs built-in and twins; writes bench/RESULTS.md"
	@echo "bench-quick    the same, scaled down (< 2 min); bench-coding: utf-8 vs binary throughput alone"
	@echo "bench-mode     what turning netproc-mode on costs, with and without lisp/eln's trampolines"
	@echo "bench-responsive  a 10 ms timer's lateness while a filter receives 256 MiB, twin vs built-in"
	@echo "demo           build and run examples/demo_host"
	@echo "fuzz           each cargo-fuzz target for FUZZ_SECONDS (nightly); fuzz-cmin: shrink the corpus"
	@echo "install        PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) LIBDIR=$(LIBDIR) INCLUDEDIR=$(INCLUDEDIR)"
	@echo "uninstall, clean"
