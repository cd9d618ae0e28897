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
# ORDER=blocked times each tool's runs back to back instead, after one run
# of it that is not counted (as hyperfine does). On this virtual machine a
# process that follows a large one pays to fault in memory the host took
# back (storyclust on the 100k corpus: about a tenth slower after a 6 GB
# process, all of it system time), so the interleaved order charges that
# to whichever tool follows the peers; the blocked order measures each in
# its steady state, at the price of no protection against drift.
#
#   bench/speed.sh                # RUNS=3, ORDER=interleaved by default
# Env: SHARED (default ../shared), RUNS, ORDER (interleaved or blocked).
set -euo pipefail
SHARED=${SHARED:-../shared}
RUNS=${RUNS:-3}
ORDER=${ORDER:-interleaved}
case "$ORDER" in interleaved | blocked) ;; *) echo "speed.sh: ORDER is interleaved or blocked" >&2; exit 2 ;; esac
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

# run TOOL CORPUS: one timed run of TOOL on CORPUS
run() {
  local tool=$1 corpus=$2 docs=target/data/$2/docs
  case "$tool" in
    storyclust) measure "$corpus-$tool" sh -c "exec target/release/storyclust --format json $docs > $OUT/$corpus.json" ;;
    *) measure "$corpus-$tool" "$VENV/bin/python" "$SHARED/bench/peers.py" --tool "$tool" "$docs" "$OUT/$corpus-$tool.json" ;;
  esac
}

for corpus in reuters21578 20news_bydate make_scale100k; do
  rm -f "$OUT/$corpus-"*.runs
  if [ "$ORDER" = interleaved ]; then
    for _ in $(seq "$RUNS"); do
      for tool in storyclust datasketch rensa; do run "$tool" "$corpus"; done
    done
  else
    for tool in storyclust datasketch rensa; do
      run "$tool" "$corpus"
      rm -f "$OUT/$corpus-$tool.runs" # the uncounted first run
      for _ in $(seq "$RUNS"); do run "$tool" "$corpus"; done
    done
  fi
done

echo "order: $ORDER, $RUNS counted runs of each tool on each corpus"
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
