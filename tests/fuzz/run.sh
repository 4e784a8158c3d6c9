#!/bin/sh
# Runs one libFuzzer target of tests/fuzz.
#   run.sh regress BINARY NAME              every input of regressions/NAME once; fails on a crash
#   run.sh smoke BINARY NAME SECONDS WORK   a fixed number of runs (about SECONDS' worth,
#                                           SECONDS x 3 at most) from corpus/NAME with a fixed
#                                           random seed; fails at the first crash
#   run.sh hunt BINARY NAME SECONDS WORK    fuzz SECONDS in one child process that is restarted
#                                           after each crash, so every finding is collected
# New inputs go to WORK/corpus/NAME (a fresh directory for smoke; the committed seed corpus is
# only read), crashes to WORK/crashes/NAME/, temporary stores under WORK/tmp. Memory and input size are bounded per
# target; runs are under ASan+UBSan with leak detection and print libFuzzer's final statistics.
set -eu
mode=$1 bin=$2 name=$3
here=$(cd "$(dirname "$0")" && pwd)

# Per target: the longest input, and the smoke run's mutations (about 4 s each here).
case $name in
pipeline) max_len=16384 runs=600 ;;
fixtures) max_len=32768 runs=300 ;;
scenario) max_len=8192 runs=3000 ;;
rasl_list) max_len=4096 runs=800 ;;
replay) max_len=16384 runs=6000 ;;
*) echo "run.sh: unknown target $name" >&2; exit 2 ;;
esac
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
limits="-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10"

case $mode in
regress)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    export TMPDIR="$tmp"
    found=0 failed=""
    for input in "$here/regressions/$name"/*; do
        [ -f "$input" ] || continue
        found=$((found + 1))
        "$bin" $limits "$input" || failed="$failed ${input##*/}"
    done
    echo "$name: $found regression inputs${failed:+, failing:$failed}"
    [ -z "$failed" ]
    ;;
smoke)
    seconds=$4 work=$5
    mkdir -p "$work/crashes/$name" "$work/tmp"
    export TMPDIR="$work/tmp"
    fresh=$(mktemp -d "$work/tmp/corpus-XXXXXX")
    trap 'rm -rf "$fresh"' EXIT
    "$bin" $limits -max_len=$max_len -seed=1 -runs=$runs -max_total_time=$((seconds * 3)) \
        -print_final_stats=1 -artifact_prefix="$work/crashes/$name/" "$fresh" "$here/corpus/$name"
    ;;
hunt)
    seconds=$4 work=$5
    rm -rf "$work/crashes/$name" # a hunt reports its own findings
    mkdir -p "$work/corpus/$name" "$work/crashes/$name" "$work/tmp"
    export TMPDIR="$work/tmp"
    "$bin" $limits -max_len=$max_len -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/crashes/$name/" \
        "$work/corpus/$name" "$here/corpus/$name"
    ;;
*)
    echo "usage: run.sh regress|smoke|hunt BINARY NAME [SECONDS WORKDIR]" >&2
    exit 2
    ;;
esac
