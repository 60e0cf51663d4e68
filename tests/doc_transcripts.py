#!/usr/bin/env python3
"""Re-runs the shell transcripts pasted in the docs and fails when one no longer matches.

A transcript is a fenced block whose first line starts with "$ ". Each "$ " line is run by one
bash per block (so "$ echo $?" sees the command before it), with the migchan under test first on
PATH; stderr is shown as a terminal would, interleaved. Every block of a document runs in one
scratch directory of its own, in which each entry of the source root is a symbolic link: paths
such as tests/traces/replay/qemu-7.2-natural.json work, and what the commands write (out/, a socket, a log)
stays out of the tree. A command left running in the background ("&") is killed when its block
ends.

In the expected text a line "[...]" or "[... anything ...]" stands for any run of lines, and a
duration "(0.34 s)" or "after 0.002 s" matches any duration. Blocks without a "$ " first line are
excerpts and are not checked; but a code block (fenced or indented) that shows a migchan command
without being a transcript is an error: every command the docs show is run.

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
DURATION = re.compile(r"\(\d+(\.\d+)? s\)|after \d+(\.\d+)? s")
MARK = "@@migchan-transcript-command@@"
COMMAND = re.compile(r"^\s*(\$ )?migchan\s")


def blocks(path):
    """(line number, [lines], is transcript) of every code block, fenced or indented."""
    out, inside, start, lines = [], False, 0, []
    indented, in_list = [], False
    with open(path, encoding="utf-8") as f:
        text = f.read().split("\n")
    for n, line in enumerate(text, 1):
        if line.startswith("```"):
            if inside:
                out.append((start, lines, bool(lines) and lines[0].startswith("$ ")))
            inside, start, lines = not inside, n + 1, []
            continue
        if inside:
            lines.append(line)
            continue
        # An indented block: four spaces after a blank line, outside a list item's text.
        if line.startswith("    ") and (indented or (n > 1 and text[n - 2].strip() == "" and not in_list)):
            indented.append((n, line[4:]))
            continue
        if indented and line.strip() == "":
            continue
        if indented:
            out.append((indented[0][0], [l for _, l in indented], False))
            indented = []
        if line.strip() == "":
            continue
        in_list = bool(re.match(r"^\s*([-*]|\d+\.)\s", line)) or (in_list and line.startswith("  "))
    if indented:
        out.append((indented[0][0], [l for _, l in indented], False))
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
    def norm(s):
        return DURATION.sub(lambda m: "(_ s)" if m.group(0).startswith("(") else "after _ s", s.rstrip())
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


def scratch(root):
    """A directory in which every entry of the source root is a symbolic link to it."""
    d = tempfile.mkdtemp(prefix="migchan-doc-")
    for name in os.listdir(root):
        if name not in ("build", ".git") and not name.startswith("build"):
            os.symlink(os.path.join(root, name), os.path.join(d, name))
    return d


def run(steps, cwd, env):
    # The mark after each command keeps its exit status for a following "echo $?"; jobs still
    # running when the block ends are killed, so that nothing holds the output open.
    script = f"exec 2>&1\ntrap 'kill $(jobs -p) 2>/dev/null' EXIT\necho '{MARK}'\n" + "".join(
        f"{cmd}\ns=$?; echo '{MARK}'; (exit $s)\n" for cmd, _ in steps)
    p = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300)
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
    cwd = None
    if with_trees:
        cwd = trees_dir(root)
        if cwd is None:
            return 77
    try:
        checked, stale, unchecked = check(args[1:], root, cwd, env)
    finally:
        if with_trees:
            shutil.rmtree(cwd)
    print(f"{checked} commands checked, {stale} stale, {unchecked} shown but not run")
    return 1 if stale or unchecked or not checked else 0


def check(docs, root, cwd, env):
    """Each doc's blocks in `cwd`, or else in a scratch directory of its own."""
    checked = stale = unchecked = 0
    for doc in docs:
        work = cwd or scratch(root)
        try:
            for start, lines, transcript in blocks(doc):
                if not transcript:
                    for i, line in enumerate(lines):
                        if COMMAND.match(line):
                            unchecked += 1
                            print(f"{doc}:{start + i}: a migchan command that no transcript runs: {line.strip()}",
                                  file=sys.stderr)
                    continue
                steps = split(lines)
                for (cmd, want), got in zip(steps, run(steps, work, env)):
                    checked += 1
                    if not matches(want, got):
                        stale += 1
                        print(f"{doc}:{start}: '$ {cmd}' prints something else now:", file=sys.stderr)
                        print("\n".join("  | " + g for g in got), file=sys.stderr)
        finally:
            if not cwd:
                shutil.rmtree(work, ignore_errors=True)
    return checked, stale, unchecked


if __name__ == "__main__":
    sys.exit(main())
