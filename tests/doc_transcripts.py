#!/usr/bin/env python3
"""Re-runs the shell transcripts pasted in the docs and fails when one no longer matches.

A transcript is a fenced block whose first line starts with "$ ". Each "$ " line is run by one
bash per block (so "$ echo $?" sees the command before it), from the source root, with the
migchan under test first on PATH; stderr is shown as a terminal would, interleaved. In the
expected text a line "[...]" or "[... anything ...]" stands for any run of lines, and a
duration "(0.34 s)" matches any duration. Blocks without a "$ " first line are excerpts and
are not checked.

With --trees, the commands run instead in a scratch directory that holds the QEMU trees
.ci/qemu-sources fetches, linked as qemu-7.2.0, qemu-10.0.13 and qemu-10.2.2, beside links to
this repository's docs/ and tests/ (docs/checking-a-patch.md says so); when the trees cannot be
had, the test says why and is skipped (exit 77).

usage: doc_transcripts.py MIGCHAN [--trees] DOC.md...
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

WILDCARD = re.compile(r"^\[\.\.\..*\]$")
DURATION = re.compile(r"\(\d+(\.\d+)? s\)")
MARK = "@@migchan-transcript-command@@"


def blocks(path):
    """(line number, [lines]) of every fenced block whose first line is a command."""
    out, inside, start, lines = [], False, 0, []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("```"):
                if inside and lines and lines[0].startswith("$ "):
                    out.append((start, lines))
                inside, start, lines = not inside, n + 1, []
            elif inside:
                lines.append(line)
    return out


def split(lines):
    """[(command, expected lines)] of one block."""
    steps = []
    for line in lines:
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def matches(expected, actual):
    """Expected lines against actual ones; wildcards match any run of lines."""
    norm = lambda s: DURATION.sub("(_ s)", s.rstrip())
    e, a = [norm(x) for x in expected], [norm(x) for x in actual]
    # reach[j]: the first i expected lines can match the first j actual lines
    reach = [True] + [False] * len(a)
    for x in e:
        if WILDCARD.match(x):
            for j in range(1, len(a) + 1):
                reach[j] = reach[j] or reach[j - 1]
        else:
            reach = [False] + [reach[j - 1] and a[j - 1] == x for j in range(1, len(a) + 1)]
    return reach[-1]


def run(steps, root, env):
    # The mark after each command keeps its exit status for a following "echo $?".
    script = f"exec 2>&1\necho '{MARK}'\n" + "".join(
        f"{cmd}\ns=$?; echo '{MARK}'; (exit $s)\n" for cmd, _ in steps)
    p = subprocess.run(["bash", "-c", script], cwd=root, env=env, capture_output=True,
                       text=True, timeout=300)
    parts = p.stdout.split(MARK + "\n")[1:len(steps) + 1]
    return [part.splitlines() for part in parts] + [[]] * (len(steps) - len(parts))


def trees_dir(root):
    """A scratch directory with the QEMU trees and docs/, tests/; None when the trees are missing."""
    p = subprocess.run([os.path.join(root, ".ci", "qemu-sources")], capture_output=True, text=True)
    trees = p.stdout.split()
    if p.returncode != 0 or len(trees) != 3:
        print("SKIP: .ci/qemu-sources could not fetch the QEMU trees:\n" + p.stderr, file=sys.stderr)
        return None
    work = tempfile.mkdtemp(prefix="migchan-docs-")
    for t in trees:
        os.symlink(t, os.path.join(work, os.path.basename(t)))
    for d in ("docs", "tests"):
        os.symlink(os.path.join(root, d), os.path.join(work, d))
    return work


def main():
    args = sys.argv[1:]
    with_trees = "--trees" in args
    args = [a for a in args if a != "--trees"]
    if len(args) < 2:
        print("usage: doc_transcripts.py MIGCHAN [--trees] DOC.md...", file=sys.stderr)
        return 2
    migchan = os.path.abspath(args[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PATH=os.path.dirname(migchan) + os.pathsep + os.environ["PATH"])
    cwd = root
    if with_trees:
        cwd = trees_dir(root)
        if cwd is None:
            return 77
    try:
        checked, stale = check(args[1:], cwd, env)
    finally:
        if with_trees:
            shutil.rmtree(cwd)
    print(f"{checked} commands checked, {stale} stale")
    return 1 if stale or not checked else 0


def check(docs, cwd, env):
    checked = stale = 0
    for doc in docs:
        for start, lines in blocks(doc):
            steps = split(lines)
            for (cmd, want), got in zip(steps, run(steps, cwd, env)):
                checked += 1
                if not matches(want, got):
                    stale += 1
                    print(f"{doc}:{start}: '$ {cmd}' prints something else now:", file=sys.stderr)
                    print("\n".join("  | " + g for g in got), file=sys.stderr)
    return checked, stale


if __name__ == "__main__":
    sys.exit(main())
