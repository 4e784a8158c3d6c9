#!/usr/bin/env bash
# bench/all.sh: every benchmark, one after the other (what `make bench` runs), as root on
# Debian 12, loopback only. Not a test: each part prints its tables and writes its results:
#
#   bars   bench/run.sh    reads vs nginx at -c50 and -c200, writes, start-up, idle RSS
#                          -> bench/results.md                          (about 2 minutes)
#   soak   bench/soak.py   1,000,000 mixed requests, RSS at each quarter
#                          -> bench/results-soak.md            (1-5 minutes, 300 s of load at most)
#   scale  bench/scale.py  every operation at 1,000, 10,000 and 100,000 contacts
#                          -> bench/results-scale.md           (1-6 minutes, 300 s per size at most)
#
# In all at most about 15 minutes: every part bounds its own time (wrk durations,
# SOAK_MAX_SECONDS, a sample count and a time budget per operation and per size in the scale
# run). With a store that scans whole tables it took 11 minutes (bars 105 s, soak 267 s,
# scale 269 s) on a shared 2-core machine.
#
# Environment (all optional):
#   BENCH_PARTS   comma-separated parts to run (default bars,soak,scale)
#   BENCH_SIZES   sizes of the scale run (default 1000,10000,100000)
#   UNDERSTUDY    the binary (default build/understudy, built by `make bench`)
#   and each script's own variables (see their headers).
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
PARTS=",${BENCH_PARTS:-bars,soak,scale},"
export UNDERSTUDY=${UNDERSTUDY:-$ROOT/build/understudy}
[ -x "$UNDERSTUDY" ] || { echo "bench: no executable at $UNDERSTUDY (make build first)" >&2; exit 1; }
command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] || { echo "bench: wrk is missing (run as root)" >&2; exit 1; }
  apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends wrk >/dev/null; }

START=$SECONDS
declare -a DONE=()
part() { # name command...
  local name=$1 t0=$SECONDS rc=0
  shift
  case $PARTS in *",$name,"*) ;; *) return 0 ;; esac
  printf '\n======== %s: %s\n' "$name" "$*"
  "$@" || rc=$?
  DONE+=("$name: $((SECONDS - t0)) s$([ $rc = 0 ] || echo ", failed (exit $rc)")")
  return 0
}
part bars "$HERE/run.sh"
part soak python3 "$HERE/soak.py"
part scale python3 "$HERE/scale.py"

printf '\n======== bench: %d s in all (%s)\n' "$((SECONDS - START))" "$(IFS=';'; echo "${DONE[*]}")"
case "${DONE[*]}" in *failed*) exit 1 ;; esac
