# The two commands a newcomer needs:
#   make run    install what is missing, build, start the daemon (demo organisation, SQLite)
#   make test   install what is missing, build, run every test
#   make test SANITIZE=1   the same, under AddressSanitizer (leaks included) and
#                          UndefinedBehaviorSanitizer, in build-sanitize/ (what CI runs)
JOBS       ?= $(shell nproc)
CMAKE_FLAGS ?=
BUILD_TYPE ?= RelWithDebInfo

# SANITIZE=1: -O1 with line tables keeps the instrumented build quick; one
# ctest test per GoogleTest binary, because every process start under ASan
# costs about a second; UB aborts the test on the first finding.
ifeq ($(SANITIZE),1)
BUILD_DIR  ?= build-sanitize
SAN_CMAKE  := -DAPPROVAL_SANITIZE=ON -DAPPROVAL_TESTS_PER_BINARY=ON \
              "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1"
export ASAN_OPTIONS  ?= detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS ?= halt_on_error=1:print_stacktrace=1
else
SAN_CMAKE  :=
endif
BUILD_DIR  ?= build

.PHONY: all deps configure build test run check bench soak fuzz fuzz-build test-sanitize clean

all: build

deps:
	@bash scripts/install-deps.sh

# The main build leaves the benchmarks to `make bench` (a Release build of its own).
configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DAPPROVAL_BUILD_BENCH=OFF \
	  $(SAN_CMAKE) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD_DIR) --parallel $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --parallel $(JOBS)

check: build
	./$(BUILD_DIR)/approvald check workflows/ --org config/org.yaml

run: build
	./scripts/run-demo.sh $(BUILD_DIR)

bench:
	@bash scripts/install-deps.sh --bench
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DAPPROVAL_BUILD_TESTS=OFF -DAPPROVAL_BUILD_BENCH=ON
	cmake --build build-bench --parallel $(JOBS)
	./bench/run.sh build-bench

# Several minutes of mixed HTTP + WebSocket load on loopback (SOAK_SECONDS,
# default 300); prints p99 latency and the daemon's memory curve.
soak: deps
	./scripts/soak.sh build-soak

# libFuzzer targets (tests/fuzz), built with clang 19 + ASan/UBSan in a build
# of their own; each runs FUZZ_SECONDS (CI: 25). Crash inputs land in
# $(FUZZ_DIR)/fuzz/<target>/; tests/fuzz/run.sh says what to do with them.
FUZZ_DIR     ?= build-fuzz
FUZZ_SECONDS ?= 300
FUZZ_TARGETS ?= workflow_loader expr json_request http_request audit_bundle
fuzz-build:
	@bash scripts/install-deps.sh --fuzz
	cmake -S . -B $(FUZZ_DIR) -DCMAKE_CXX_COMPILER=clang++-19 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DAPPROVAL_FUZZ=ON -DAPPROVAL_BUILD_TESTS=OFF -DAPPROVAL_BUILD_BENCH=OFF
	cmake --build $(FUZZ_DIR) --target fuzz_all --parallel $(JOBS)

fuzz: fuzz-build
	./tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The whole test suite under the sanitizers (see SANITIZE=1 above).
test-sanitize:
	$(MAKE) test SANITIZE=1

clean:
	rm -rf build build-sanitize build-bench build-soak $(FUZZ_DIR)
