# Two commands on a fresh Debian 12 machine, as root:
#   make run    install what is missing, build, serve the built-in fixtures on 127.0.0.1:8080
#   make test   install what is missing, build with warnings as errors, run the whole suite
#               twice: under AddressSanitizer + UndefinedBehaviorSanitizer, then plain
# Pass flags to the server with ARGS, e.g. make run ARGS="--clock 2026-01-01T00:00:00Z".

DEPS := gcc libc6-dev make cmake pkg-config python3 \
        libcivetweb-dev liblmdb-dev libjansson-dev libcmocka-dev libssl-dev
JOBS := $(shell nproc 2>/dev/null || echo 2)
ARGS ?=

.PHONY: all deps build run test check-format bench clean

all: build

deps:
	@missing=""; for p in $(DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing (run as root, or install them)"; exit 1; fi; \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build -j$(JOBS)

run: build
	./build/understudy $(ARGS)

test: deps
	cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DEMU_SANITIZE=ON -DEMU_WERROR=ON
	cmake --build build-sanitize -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --test-dir build-sanitize --output-on-failure -j$(JOBS)
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMU_WERROR=ON
	cmake --build build -j$(JOBS)
	ctest --test-dir build --output-on-failure -j$(JOBS)

bench: build
	bench/run.sh

clean:
	rm -rf build build-sanitize
