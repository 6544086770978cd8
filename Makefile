# Entry points. Everything a fresh Debian 12 machine needs is installed by scripts/install-deps.sh.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= 2
LISTEN ?= 127.0.0.1:8080
DATA ?= data

.PHONY: all deps build run test bench clean

all: build

deps:
	./scripts/install-deps.sh build

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS)

run: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS) --target sluice
	mkdir -p $(DATA)
	$(BUILD_DIR)/bin/sluice serve --listen $(LISTEN) --data $(DATA) --demo

test:
	./scripts/install-deps.sh test
	$(MAKE) build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS) --timeout 600

bench:
	./scripts/install-deps.sh bench
	$(MAKE) build
	./bench/run.sh $(BUILD_DIR)
	./bench/store_bench.sh $(BUILD_DIR)
	./bench/store_pg_bench.sh $(BUILD_DIR)
	./bench/sql_bench.sh $(BUILD_DIR)
	./bench/expr_render.sh $(BUILD_DIR)
	./bench/render_bench.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
