#!/usr/bin/env python3
"""Groups a fuzz target's crash inputs by what went wrong, one line per kind.

  triage.py BINARY INPUT...   (e.g. build-fuzz/tests/fuzz/fuzz_pipeline build-fuzz/fuzz-work/crashes/pipeline/*)
  triage.py --show INPUT...   prints the requests of fuzz_pipeline inputs, one field a line
  triage.py --raw INPUT OUT   rewrites a fuzz_pipeline input with every request in raw form
                              (the whole path in it, credentials as headers), so it means the
                              same request whatever routes the tables gain later

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
    # A path may hold a decoded newline: the request's line is read across lines.
    m = re.search(r"fuzz: \S+ .*? answered (\d+): ([^\n]*)", out, re.S)
    if m:
        what = "answered %s: %s" % (m.group(1), m.group(2))
        if where:  # who answered, and the start of the sentence without what it quotes
            who, _, detail = where.group(1).partition("; detail: ")
            detail = " ".join(re.sub(r"'.*|\".*|/.*", "", detail).split()[:3])
            what += " [%s%s]" % (who, "; " + detail if detail else "")
        return what, []  # the frames are the harness's own
    for line in out.splitlines():
        m = re.search(r"(ERROR: (AddressSanitizer|LeakSanitizer): [\w-]+|runtime error: .*|"
                      r"fuzz: .*|ERROR: libFuzzer: \w[\w -]*)", line)
        if m and "deadly signal" not in m.group(1):
            what = re.sub(r"0x[0-9a-f]+|\"[^\"]*\"", "…", m.group(1))  # addresses, quoted text
            break
    frames = []
    for fn, where, _ in FRAME.findall(out):
        if fn in ("breach", "fuzz_check_answer", "abort") or fn.startswith(("__", "fuzzer::")):
            continue
        frames.append("%s %s" % (fn, where.split("/emulator/")[-1].split("/tests/fuzz/")[-1]))
    return what, frames[:4]


OTHER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]
CREDENTIALS = {"rasl": "Authorization: Bearer wm_demo_unlimited\n",
               "guayaba": "X-API-Key: gua_demo0001_key\n"}


def requests(data):
    """The requests of a fuzz_pipeline input: (route byte, flags, [params, query, headers,
    body]), as fuzz_pipeline.c reads them."""
    p, out = 0, []
    while p < len(data) and len(out) < 4:
        pick, flags = data[p], data[p + 1] if p + 1 < len(data) else 0
        p += 2 if p + 1 < len(data) else 1
        fields = []
        for _ in range(4):
            size = int.from_bytes(data[p:p + 2], "little") if p + 2 <= len(data) else 0
            p = min(p + 2, len(data)) if p + 2 <= len(data) else len(data)
            fields.append(data[p:p + size])
            p += size
        out.append((pick, flags, fields))
    return out


def show(path):
    print(path)
    for n, (pick, flags, fields) in enumerate(requests(open(path, "rb").read()), 1):
        print(" request %d: route byte %d, flags 0x%02x" % (n, pick, flags))
        for name, value in zip(("params", "query", "headers", "body"), fields):
            print("  %-7s %r" % (name, value))


def vendor_of(table_index):
    """The vendor owning the table_index-th route (make_corpus.routes' order)."""
    import make_corpus  # next to this file
    order = [name[len("vendor_"):] for name in make_corpus.vendor_order()]
    n = 0
    for name in order:
        count = len(make_corpus.routes_of("vendor_" + name))
        if table_index < n + count:
            return name
        n += count
    return None


def raw(path, out):
    import make_corpus
    table = make_corpus.routes()
    result = b""
    for pick, flags, (params, query, headers, body) in requests(open(path, "rb").read()):
        if not flags & 0x20:
            method, pattern = table[pick % len(table)]
            values = params.split(b"\n") if params else []
            built = b""
            for part in re.split(r"(\{\w+\}|\*)", pattern):
                if part.startswith("{") or part == "*":
                    built += values.pop(0) if values else b"1"
                else:
                    built += part.encode()
            if flags & 0x01:
                vendor = vendor_of(pick % len(table))
                if vendor == "convoso":
                    query = b"auth_token=cv_demo_token" + (b"&" + query if query else b"")
                headers = CREDENTIALS.get(vendor, "").encode() + headers
            methods = [m for m in OTHER_METHODS]
            if method not in methods:
                continue
            if not flags & 0xc0:  # the route's own method, now named by the route byte
                pick = methods.index(method)
            params, flags = built, (flags & 0xde) | 0x20
        result += bytes([pick, flags]) + b"".join(
            len(f).to_bytes(2, "little") + f for f in (params, query, headers, body))
    open(out, "wb").write(result)


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--show":
        for path in sys.argv[2:]:
            show(path)
        return
    if len(sys.argv) == 4 and sys.argv[1] == "--raw":
        raw(sys.argv[2], sys.argv[3])
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
