#!/usr/bin/env bash
# End-to-end speed against the MinHash peers, side by side in one run.
#
# For each corpus (Reuters-21578, 20 Newsgroups, and 100,000 articles made by
# bench/make_scale.py --n 100000 --seed 11) it times, RUNS times each and in
# turn (storyclust, datasketch, rensa, storyclust, ...):
#   - storyclust, default settings, JSON with passages written to a file;
#   - datasketch and rensa through ../shared/bench/peers.py (word 3-grams,
#     128 permutations, t=0.5, union-find over the LSH candidates);
# and prints the median wall time and peak RSS (/usr/bin/time) of each, the
# throughput, and the ratios peer / storyclust.
#
#   bench/speed.sh            # RUNS=3 by default
# Env: SHARED (default ../shared), RUNS.
set -euo pipefail
SHARED=${SHARED:-../shared}
RUNS=${RUNS:-3}
OUT=target/bench-speed
VENV=target/peers
mkdir -p "$OUT" target/data
cargo build --release
[ -d target/data/reuters21578/docs ] || tar xzf "$SHARED/data/reuters21578.tar.gz" -C target/data
[ -d target/data/20news_bydate/docs ] || tar xzf "$SHARED/data/20news_bydate.tar.gz" -C target/data
# The generated corpus, flattened into one folder (peers.py reads one folder)
# of hard links: each entry is the file itself, as in a user's folder.
# (Symbolic links, used before, cost storyclust 6% of its time at this size
# in following them, a cost of the set-up, not of the tool.)
flat=target/data/make_scale100k/docs
if [ -d "$flat" ] && [ -n "$(find "$flat" -maxdepth 1 -type l -print -quit)" ]; then
  rm -rf "$flat"
fi
if [ ! -d "$flat" ]; then
  [ -d target/data/make_scale100k-src/docs ] ||
    python3 bench/make_scale.py --src target/data/reuters21578/docs --src target/data/20news_bydate/docs \
      --out target/data/make_scale100k-src --n 100000 --seed 11 --jobs 2 --force
  mkdir -p "$flat"
  find target/data/make_scale100k-src/docs -name '*.txt' -exec cp -l -t "$flat" {} + 2>/dev/null ||
    find target/data/make_scale100k-src/docs -name '*.txt' -exec cp -t "$flat" {} +
fi
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q datasketch rensa
fi
command -v /usr/bin/time >/dev/null || { echo "speed.sh: /usr/bin/time is needed (Debian package time)" >&2; exit 1; }

# measure NAME CMD...: append "wall_s peak_kb" for one run to $OUT/NAME.runs
measure() {
  local name=$1
  shift
  /usr/bin/time -f "%e %M" -o "$OUT/$name.one" "$@" >/dev/null 2>>"$OUT/run.log"
  cat "$OUT/$name.one" >>"$OUT/$name.runs"
}

for corpus in reuters21578 20news_bydate make_scale100k; do
  docs=target/data/$corpus/docs
  rm -f "$OUT/$corpus-"*.runs
  for _ in $(seq "$RUNS"); do
    measure "$corpus-storyclust" sh -c "exec target/release/storyclust --format json $docs > $OUT/$corpus.json"
    measure "$corpus-datasketch" "$VENV/bin/python" "$SHARED/bench/peers.py" --tool datasketch "$docs" "$OUT/$corpus-datasketch.json"
    measure "$corpus-rensa" "$VENV/bin/python" "$SHARED/bench/peers.py" --tool rensa "$docs" "$OUT/$corpus-rensa.json"
  done
done

python3 - "$OUT" <<'PY'
import os, statistics, sys
out = sys.argv[1]
def runs(name):
    rows = [l.split() for l in open(os.path.join(out, name + ".runs")) if l.strip()]
    return statistics.median(float(r[0]) for r in rows), statistics.median(int(r[1]) for r in rows) / 1024
print("| corpus | MB | tool | median wall s | peak MiB | MB/s | peer / storyclust |")
print("|---|---:|---|---:|---:|---:|---:|")
for corpus in ("reuters21578", "20news_bydate", "make_scale100k"):
    d = os.path.join("target/data", corpus, "docs")
    mb = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)) / 1e6
    ours, _ = runs(corpus + "-storyclust")
    for tool in ("storyclust", "datasketch", "rensa"):
        wall, rss = runs(corpus + "-" + tool)
        ratio = "" if tool == "storyclust" else "%.1fx" % (wall / ours)
        print("| %s | %.1f | %s | %.2f | %.0f | %.1f | %s |" % (corpus, mb, tool, wall, rss, mb / wall, ratio))
PY
