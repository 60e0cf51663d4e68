#!/usr/bin/env python3
"""Writes docs/findings.md from docs/findings.in.md by running what the page shows.

The template is the page's prose with two kinds of directive, each an HTML comment on a line of
its own:

  <!-- $ COMMAND -->        run COMMAND (bash, migchan first on PATH) in a scratch directory that
                            holds the QEMU trees .ci/qemu-sources fetches (qemu-7.2.0,
                            qemu-10.0.13, qemu-10.2.2) beside links to docs/ and tests/; directives
                            on consecutive lines make one transcript block: "$ COMMAND" and what it
                            printed, stdout and stderr as a terminal shows them.
  <!-- conform ARGS -->     run `migchan conform ARGS --format json`, where `--qemu 7.2` and
                            `--qemu 11.1` name the QEMUs given to this script; writes the command
                            (with the paths .ci/build installs) and a table of what each scenario
                            did: the model's prediction, what the destination did, where a source
                            ended its status, the verdict.

Everything else is copied as it is. What varies from run to run is left out, so that the page
changes only when a prediction, an outcome or a verdict does: durations, such as "(2.3 s)"; the
runnable time of a QEMU whose main loop is stuck; the order in which serve saw a real source's
channels (and so whether it deferred the preempt channel); what a destination that went active
as predicted did next; a source's status while the destination hangs.
tests/interop/findings_test.cpp runs this and fails when the page differs from docs/findings.md.

usage: gen-findings.py --migchan PATH --qemu PATH --qemu PATH [--results FILE] > docs/findings.md
  --qemu     the QEMU 7.2 and the QEMU 11.1 the page was made with (any order)
  --results  also write every conform result, one JSON object per line
Exit 77 (skipped) when the QEMUs are not a 7.2 and an 11.1, or the trees cannot be had.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The scratch directory with the QEMU trees and the way a block of commands runs are the
# transcript checker's, so that this page's commands run as every other page's do.
sys.path.insert(0, os.path.join(ROOT, "tests"))
import doc_transcripts  # noqa: E402
TEMPLATE = os.path.join(ROOT, "docs", "findings.in.md")
# Where .ci/build installs each QEMU (docs/conform.md): what the page shows.
SHOWN = {"7.2": "/usr/bin/qemu-system-x86_64", "11.1": "/var/cache/migchan/qemu-sid/qemu-system-x86_64"}
COMMAND = re.compile(r"^<!-- \$ (.*) -->$")
CONFORM = re.compile(r"^<!-- conform (.*) -->$")
DURATION = re.compile(r" ?\(\d+(\.\d+)? s\)")
RUNNABLE = re.compile(r" \(\d+\.\d+ runnable s/s\)")
SERVE = "serve decided "
KINDS = ["main", "multifd", "preempt"]  # the order a page lists serve's decisions in
ENDED = ("completed", "failed", "cancelled")


def skip(why):
    print(f"SKIPPED: {why}", file=sys.stderr)
    sys.exit(77)


def release(qemu):
    """"7.2" for a QEMU 7.2.x, from its --version."""
    try:
        out = subprocess.run([qemu, "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError as e:
        skip(f"{qemu}: {e}")
    m = re.search(r"version (\d+)\.(\d+)", out)
    if not m:
        skip(f"{qemu}: no version in its --version")
    return f"{m.group(1)}.{m.group(2)}"


def transcript(commands, cwd, env):
    out = ["```"]
    for cmd, lines in zip(commands, doc_transcripts.run([(c, []) for c in commands], cwd, env)):
        lines = [DURATION.sub("", line) for line in lines]
        while lines and not lines[-1].strip():  # a section's closing blank line, cut with it
            lines.pop()
        out += ["$ " + cmd] + lines
    return out + ["```"]


def destination_did(r):
    """What the destination did, as the outcome line says it, without what varies between runs."""
    if r["verdict"] == "agree" and r["fate"] == "crashed":
        # The garbage past params[] decides between the two, run by run: either is the prediction.
        return "SIGSEGV, or the garbage's \"already setup\" (either is the prediction)"
    parts = r["outcome"].split("; ")
    did = RUNNABLE.sub("", "; ".join(p for p in parts if not p.startswith("source "))).removeprefix("destination ")
    if r["verdict"] == "agree" and r["fate"] == "started" and "active" in did:
        # A 7.2 that took a connection which is no migration stream as main goes active, then
        # fails to load it before or after the watch ends: going active is the prediction.
        return "went active"
    if did.startswith(SERVE):
        # The channels of a real source race each other: which order serve saw them in varies, and
        # so whether the silent preempt channel came before the multifd channels and was deferred
        # (then taken as the preempt channel once they were in) or came after them.
        decided = ["preempt" if d == "defer" else d for d in did.removeprefix(SERVE).split(",")]
        return SERVE + ", ".join(f"{d} x{decided.count(d)}" if decided.count(d) > 1 else d
                                 for d in sorted(set(decided), key=lambda d: (KINDS + [d]).index(d)))
    return did


def conform(args, migchan, qemus, env, results):
    argv, shown = [migchan, "conform"], ["migchan", "conform"]
    words = args.split()
    for i, w in enumerate(words):
        if i > 0 and words[i - 1] in ("--qemu", "--source", "--destination"):
            argv.append(qemus[w])
            shown.append(SHOWN[w])
        else:
            argv.append(w)
            shown.append(w)
    p = subprocess.run(argv + ["--format", "json"], env=env, capture_output=True, text=True, timeout=900)
    runs = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    runs = [r for r in runs if "scenario" in r]
    if not runs:
        sys.exit(f"gen-findings: {' '.join(shown)} ran no scenario:\n{p.stdout}{p.stderr}")
    results.extend(runs)
    # The source's status is shown where a source ended: while the destination hangs, whether its
    # source is still active or already in device is timing.
    sources = any(r["details"].get("source_status") in ENDED for r in runs)
    out = ["`" + " ".join(shown) + "`", "",
           "| scenario | where | the model predicts | the destination did |" + (" the source |" if sources else "")
           + " verdict |",
           "|---|---|---|---|" + ("---|" if sources else "") + "---|"]
    cell = lambda text: text.replace("|", "\\|")
    for r in runs:
        source = r["details"].get("source_status", "-")
        row = f"| `{r['scenario']}` | {r['target']} | {r['fate']} | {cell(destination_did(r))} |"
        if sources:
            row += f" {cell(source)} |"
        out.append(row + f" {'**' + r['verdict'] + '**' if r['verdict'] == 'disagree' else r['verdict']} |")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--migchan", required=True)
    ap.add_argument("--qemu", action="append", default=[])
    ap.add_argument("--results")
    a = ap.parse_args()
    migchan = os.path.abspath(a.migchan)
    qemus = {release(q): q for q in a.qemu}
    if sorted(qemus) != sorted(SHOWN):
        skip(f"the page is made with QEMU {' and '.join(SHOWN)}; given: {', '.join(sorted(qemus)) or 'none'}")
    env = dict(os.environ, PATH=os.path.dirname(migchan) + os.pathsep + os.environ["PATH"])
    work = doc_transcripts.trees_dir(ROOT)
    if work is None:  # it said why
        sys.exit(77)
    results, page, commands = [], [], []
    try:
        with open(TEMPLATE, encoding="utf-8") as f:
            lines = f.read().split("\n")
        for line in lines + [""]:
            m = COMMAND.match(line)
            if m:
                commands.append(m.group(1))
                continue
            if commands:
                page += transcript(commands, work, env)
                commands = []
            c = CONFORM.match(line)
            page += conform(c.group(1), migchan, qemus, env, results) if c else [line]
    finally:
        shutil.rmtree(work)
    sys.stdout.write("\n".join(page[:-1]))
    if a.results:
        with open(a.results, "w", encoding="utf-8") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
