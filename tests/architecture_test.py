#!/usr/bin/env python3
"""Every #include "..." of a project header names a folder docs/architecture.md allows.

The allowed folders are read from the table under "What each folder may include"; a file's
rule is that of the longest folder in the table that contains it. Prints each violation as
FILE:LINE: ... and exits 1; exits 2 when the table cannot be read.

usage: architecture_test.py SOURCE_ROOT
"""
import os
import re
import sys

ROW = re.compile(r"^\| `([^`]+)` \| (.+) \|$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def rules(root):
    path = os.path.join(root, "docs", "architecture.md")
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = ROW.match(line.strip())
            if m:
                out[m.group(1)] = re.findall(r"`([^`]+)`", m.group(2))
    if not out:
        print(f"{path}: no 'folder | may include' table found", file=sys.stderr)
        sys.exit(2)
    return out


def folder_of(path, folders):
    hits = [f for f in folders if path == f or path.startswith(f + "/")]
    return max(hits, key=len) if hits else None


def main():
    root = sys.argv[1]
    allowed = rules(root)
    bad, files = 0, 0
    for top in ("model", "proofs", "impl", "bench", "tests"):
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for name in names:
                if not name.endswith((".h", ".cpp")):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                own = folder_of(os.path.dirname(rel), allowed)
                if own is None:
                    print(f"{rel}: its folder is not in docs/architecture.md's table")
                    bad += 1
                    continue
                files += 1
                with open(os.path.join(root, rel), encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m or "/" not in m.group(1):
                            continue
                        target = folder_of(os.path.dirname(m.group(1)), allowed)
                        if target is None or target not in allowed[own]:
                            print(f"{rel}:{n}: includes {m.group(1)}, which {own}/ may not "
                                  f"(docs/architecture.md: {', '.join(allowed[own])})")
                            bad += 1
    print(f"{files} files, {bad} includes against docs/architecture.md")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
