#!/usr/bin/env python3
"""Writes case files in the suite's layout: a value that fits on its line stays on one line,
anything longer opens with one member a line, indented by two; an array of short items fills
its lines with as many as fit, and an object of plain values stays on one line up to twice the
width.

usage: format_case.py [--check] FILE...   (--check: list the files not in this layout, exit 1)
"""
import json
import sys
import unicodedata

WIDTH = 120
SHORT = 40  # an array whose items are all this short fills its lines


def string(s):
    """A JSON string with characters a reader cannot see (controls, format marks, odd spaces)
    escaped and every other character as itself."""
    out = json.dumps(s, ensure_ascii=False)
    return "".join(c if c == " " or unicodedata.category(c)[0] not in "CZ" else
                   "".join("\\u%04x" % u for u in _utf16(c)) for c in out)


def _utf16(c):
    b = c.encode("utf-16-be")
    return [int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2)]


def flat(v):
    if isinstance(v, dict):
        return "{" + ", ".join(string(k) + ": " + flat(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(flat(x) for x in v) + "]"
    if isinstance(v, str):
        return string(v)
    return json.dumps(v)


def render(v, indent, used):
    """v laid out at indent, used columns of its first line already taken."""
    one = flat(v)
    if len(one) + used <= WIDTH or not isinstance(v, (dict, list)) or not v:
        return one
    if isinstance(v, dict) and len(one) + used <= 2 * WIDTH and not any(
            isinstance(x, (dict, list)) for x in v.values()):
        return one  # a record of plain values reads best on one line
    pad = " " * (indent + 2)
    if isinstance(v, dict):
        items = [pad + string(k) + ": " + render(x, indent + 2, indent + 2 + len(string(k)) + 2)
                 for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    flats = [flat(x) for x in v]
    if all(len(f) <= SHORT for f in flats):
        lines, line = [], pad
        for f in flats:
            if line != pad and len(line) + len(f) + 2 > WIDTH:
                lines.append(line.rstrip())
                line = pad
            line += f + ", "
        lines.append(line[:-2])
        return "[\n" + "\n".join(lines) + "\n" + " " * indent + "]"
    items = [pad + render(x, indent + 2, indent + 2) for x in v]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def layout(case):
    return render(case, 0, 0) + "\n"


def main(argv):
    check = "--check" in argv
    bad = 0
    for path in (a for a in argv if a != "--check"):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        want = layout(json.loads(text))
        if want != text:
            if check:
                print(path)
                bad += 1
            else:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(want)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
