#!/usr/bin/env python3
"""Compare storyclust builds side by side: alternating runs, medians, ratios.

    python3 bench/ab.py [--runs N] [--args "..."] DOCS BASE CANDIDATE...

Each round runs every binary once on DOCS, the order rotated from round to
round so that none always runs first or last; a run's output goes to a file
under $TMPDIR, as in bench/speed.sh. Wall time is the parent's clock, CPU
time (user + system) the child's own from wait4. One untimed run of each
comes first, and the outputs of all (with --no-timings) are compared byte
for byte: a build that changes the output is reported, since the timings of
two programs that do different work are not a comparison.

The shared machine drifts within minutes; only ratios measured in one run
of this script mean something, and a few percent is within what it varies
by (use 11 or more rounds). Standard library only.
"""

import argparse
import hashlib
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time


def run(binary, args, docs, out_path):
    """One run; returns (wall seconds, CPU seconds, exit status)."""
    with open(out_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen([binary, *args, docs], stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=11, help="rounds (default 11)")
    p.add_argument("--args", default="--format json", help='options (default "--format json")')
    p.add_argument("docs", help="folder of articles")
    p.add_argument("binaries", nargs="+", help="the first is the base the others are compared with")
    a = p.parse_args()
    args = shlex.split(a.args)
    bins = a.binaries
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        digests = []
        for b in bins:
            _, _, code = run(b, [*args, "--no-timings"], a.docs, out)
            if code not in (0, 1):
                sys.exit(f"ab.py: {b} exited with {code}")
            digests.append(digest(out))
        for b, d in zip(bins[1:], digests[1:]):
            if d != digests[0]:
                print(f"note: {b} writes different output from {bins[0]}", file=sys.stderr)
        times = [[] for _ in bins]
        for i in range(a.runs):
            for j in range(len(bins)):
                k = (i + j) % len(bins)
                wall, cpu, _ = run(bins[k], args, a.docs, out)
                times[k].append((wall, cpu))
    base_wall = statistics.median(w for w, _ in times[0])
    base_cpu = statistics.median(c for _, c in times[0])
    print(f"{a.runs} rounds on {a.docs}, medians")
    print("| binary | wall s | CPU s | wall × base | CPU × base |")
    print("|---|---:|---:|---:|---:|")
    for b, t in zip(bins, times):
        wall = statistics.median(w for w, _ in t)
        cpu = statistics.median(c for _, c in t)
        print(f"| {b} | {wall:.3f} | {cpu:.3f} | {wall / base_wall:.3f} | {cpu / base_cpu:.3f} |")


if __name__ == "__main__":
    main()
