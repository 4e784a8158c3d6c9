#!/usr/bin/env python3
"""Groups a fuzz target's crash inputs by what went wrong, one line per kind.

  triage.py BINARY INPUT...   (e.g. build-fuzz/tests/fuzz/fuzz_pipeline build-fuzz/fuzz-work/crashes/pipeline/*)
  triage.py --show INPUT...   prints the requests of fuzz_pipeline inputs, one field a line

Each input is run once. Its signature is the sanitizer's or the harness's sentence (with the
request's varying text left out) and the first frames in the emulator's own code; inputs with
the same signature are counted together and the smallest is named, ready to be kept under
tests/fuzz/regressions/<target>/.
"""
import collections
import os
import re
import subprocess
import sys

FRAME = re.compile(r"#\d+ 0x[0-9a-f]+ in (\S+) (\S*/(emulator|tests/fuzz)/\S+)")


def signature(binary, path):
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    run = subprocess.run([binary, "-rss_limit_mb=2048", "-timeout=10", path], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    out = run.stdout.decode("utf-8", "replace")
    if run.returncode == 0:
        return "no longer fails", []
    what = "exit %d" % run.returncode
    where = re.search(r"fuzz: where: (.*)", out)
    for line in out.splitlines():
        m = re.search(r"fuzz: \S+ (.*) answered (\d+): (.*)", line)
        if m:
            what = "answered %s: %s" % (m.group(2), m.group(3))
            if where:  # who answered, and the start of the sentence without what it quotes
                who, _, detail = where.group(1).partition("; detail: ")
                detail = " ".join(re.sub(r"'.*|\".*|/.*", "", detail).split()[:3])
                what += " [%s%s]" % (who, "; " + detail if detail else "")
            return what, []  # the frames are the harness's own
            break
        m = re.search(r"(ERROR: (AddressSanitizer|LeakSanitizer): [\w-]+|runtime error: .*|"
                      r"fuzz: .*|ERROR: libFuzzer: \w[\w -]*)", line)
        if m and "deadly signal" not in m.group(1):
            what = re.sub(r"0x[0-9a-f]+", "…", m.group(1))
            break
    frames = []
    for fn, where, _ in FRAME.findall(out):
        if fn in ("breach", "fuzz_check_answer", "abort") or fn.startswith(("__", "fuzzer::")):
            continue
        frames.append("%s %s" % (fn, where.split("/emulator/")[-1].split("/tests/fuzz/")[-1]))
    return what, frames[:4]


def show(path):
    """Decodes fuzz_pipeline.c's format: route byte, flags byte, four length-prefixed fields."""
    data = open(path, "rb").read()
    p, n = 0, 0
    print(path)
    while p < len(data) and n < 4:
        pick, flags = data[p], data[p + 1] if p + 1 < len(data) else 0
        p += 2
        out = []
        for name in ("params", "query", "headers", "body"):
            size = int.from_bytes(data[p:p + 2], "little") if p + 2 <= len(data) else 0
            p = min(p + 2, len(data))
            out.append("  %-7s %r" % (name, data[p:p + size]))
            p += size
        print(" request %d: route byte %d, flags 0x%02x" % (n + 1, pick, flags))
        print("\n".join(out))
        n += 1


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--show":
        for path in sys.argv[2:]:
            show(path)
        return
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    groups = collections.defaultdict(list)
    for path in sys.argv[2:]:
        what, frames = signature(sys.argv[1], path)
        groups[(what, tuple(frames))].append(path)
    for (what, frames), paths in sorted(groups.items(), key=lambda g: -len(g[1])):
        smallest = min(paths, key=os.path.getsize)
        print("%3d x %s\n      %s\n      e.g. %s (%d bytes)" % (
            len(paths), what, "\n      ".join(frames) or "(no frames)", smallest,
            os.path.getsize(smallest)))


if __name__ == "__main__":
    main()
