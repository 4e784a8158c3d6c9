# Two commands on a fresh Debian 12 machine, as root:
#   make run    install what is missing, build, serve the built-in fixtures on 127.0.0.1:8080
#   make test   install what is missing, build with warnings as errors, run the whole suite
#               twice: under AddressSanitizer + UndefinedBehaviorSanitizer, then plain; in
#               between, the fuzz targets' regression inputs and a few seconds of each target
#   make fuzz   build the libFuzzer targets (clang) and run each for FUZZ_SECONDS (60), going on
#               past crashes; findings land in build-fuzz/fuzz-work/crashes/<target>/
#   make bench  build, then every benchmark (bench/all.sh): the read and write bars against
#               nginx, the 1,000,000-request soak and the scale run at 1,000, 10,000 and
#               100,000 contacts; 5-15 minutes. BENCH_PARTS=bars,soak,scale and
#               BENCH_SIZES=1000,10000 pick a subset; results land in bench/results*.md
#   make container-check      build the Dockerfile with podman, run it, check health and stop
#   make fresh-machine-check  run `make test` on a clean clone in a brand-new Debian 12 container
# Pass flags to the server with ARGS, e.g. make run ARGS="--clock 2026-01-01T00:00:00Z".

DEPS := gcc libc6-dev make cmake pkg-config python3 \
        libcivetweb-dev liblmdb-dev libjansson-dev libcmocka-dev libssl-dev \
        clang libclang-rt-14-dev
JOBS := $(shell nproc 2>/dev/null || echo 2)
# Most tests spend their time waiting on a server they started, so ctest runs two per core.
TEST_JOBS := $(shell echo $$(( $(JOBS) * 2 )))
ARGS ?=
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := pipeline fixtures scenario rasl_list replay

.PHONY: all deps build build-fuzz run test fuzz check-format bench clean container-check \
        fresh-machine-check

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
	    ctest --test-dir build-sanitize --output-on-failure -j$(TEST_JOBS)
	$(MAKE) --no-print-directory build-fuzz
	ctest --test-dir build-fuzz --output-on-failure -j$(JOBS)
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMU_WERROR=ON
	cmake --build build -j$(JOBS)
	ctest --test-dir build --output-on-failure -j$(TEST_JOBS)

build-fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DEMU_FUZZ=ON -DEMU_BUILD_TESTS=OFF -DEMU_WERROR=ON
	cmake --build build-fuzz -j$(JOBS)

fuzz: build-fuzz
	@failed=""; for t in $(FUZZ_TARGETS); do \
	    echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	    tests/fuzz/run.sh hunt build-fuzz/tests/fuzz/fuzz_$$t $$t $(FUZZ_SECONDS) \
	        build-fuzz/fuzz-work 2>&1 | grep -a -E '^#[0-9]+|stat::|SUMMARY|fuzz:|ERROR' | tail -n 8; \
	done; \
	for t in $(FUZZ_TARGETS); do \
	    n=$$(ls build-fuzz/fuzz-work/crashes/$$t 2>/dev/null | wc -l); \
	    echo "fuzz_$$t: $$n finding(s) in build-fuzz/fuzz-work/crashes/$$t/"; \
	    [ $$n = 0 ] || failed="$$failed $$t"; \
	done; \
	[ -z "$$failed" ] || { echo "findings in:$$failed"; exit 1; }

bench: build
	bench/all.sh

container-check:
	tools/container-check

fresh-machine-check:
	tools/fresh-machine-check

clean:
	rm -rf build build-sanitize build-fuzz
