# The two commands a newcomer needs:
#   make run    install what is missing, build, start the daemon (demo organisation, SQLite)
#   make test   install what is missing, build, run every test
BUILD_DIR  ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test run check bench clean

all: build

deps:
	@bash scripts/install-deps.sh

# The main build leaves the benchmarks to `make bench` (a Release build of its own).
configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DAPPROVAL_BUILD_BENCH=OFF $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD_DIR) --parallel $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --parallel $(JOBS)

check: build
	./$(BUILD_DIR)/approvald check workflows/ --org config/org.yaml

run: build
	./scripts/run-demo.sh $(BUILD_DIR)

bench: deps
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DAPPROVAL_BUILD_TESTS=OFF -DAPPROVAL_BUILD_BENCH=ON
	cmake --build build-bench --parallel $(JOBS)
	./bench/run.sh build-bench

clean:
	rm -rf $(BUILD_DIR) build-bench
