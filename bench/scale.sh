#!/usr/bin/env bash
# Growth with the number of articles: time, peak memory and quality of one
# run of storyclust on 10k, 100k and 1M articles of the make_scale corpus.
#
#   bench/scale.sh            # RUNS=1 by default; SIZES="10 100 1000" shards
#
# The corpus is made once by bench/make_scale.py (--n 1000000 --seed 11,
# sentences of Reuters-21578 and 20 Newsgroups, 2.5 GB) under
# target/data/scale1m; N thousand articles are its first N shard folders
# (linked, not copied). Each run writes JSON with passages to a file and
# scores the stories against the planted labels (--labels); the figures are
# wall time and peak RSS from /usr/bin/time (median of RUNS), throughput,
# stories, ARI, pairwise precision and recall.
# Env: SHARED (default ../shared), RUNS, SIZES, SPILL (--spill-after, default
# the binary's).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
RUNS=${RUNS:-1}
SIZES=${SIZES:-10 100 1000}
OUT=target/bench-scale
BIN=$PWD/target/release/storyclust
mkdir -p "$OUT" target/data
cargo build --release --quiet
command -v /usr/bin/time >/dev/null || { echo "scale.sh: /usr/bin/time is needed (Debian package time)" >&2; exit 1; }
[ -d target/data/reuters21578/docs ] || tar xzf "$SHARED/data/reuters21578.tar.gz" -C target/data
[ -d target/data/20news_bydate/docs ] || tar xzf "$SHARED/data/20news_bydate.tar.gz" -C target/data
CORPUS=target/data/scale1m
if [ ! -f "$CORPUS/labels.json" ]; then
  python3 bench/make_scale.py --src target/data/reuters21578/docs \
    --src target/data/20news_bydate/docs --out "$CORPUS" --n 1000000 --seed 11 --jobs 2 --force
fi
spill=()
[ -n "${SPILL:-}" ] && spill=(--spill-after "$SPILL")

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

printf '| articles | GB | wall s | peak RSS MiB | MB/s | stories | ARI | precision | recall |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for shards in $SIZES; do
  dir="$OUT/docs-$shards"
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    # (sed reads the whole listing: `head` could close the pipe on ls,
    # which pipefail would take for a failure.)
    ls "$PWD/$CORPUS/docs" | sed -n "1,${shards}p" | while read -r s; do ln -s "$PWD/$CORPUS/docs/$s" "$dir/$s"; done
  fi
  # The labels of these articles only (the scorer counts a labelled article
  # that is not in the input as a missed one).
  python3 - "$CORPUS/labels.json" "$dir" "$OUT/labels-$shards.json" <<'PY'
import json, os, sys
labels = json.load(open(sys.argv[1]))
names = {f for _, _, fs in os.walk(sys.argv[2], followlinks=True) for f in fs}
json.dump({n: s for n, s in labels.items() if n in names}, open(sys.argv[3], "w"))
PY
  walls=(); rss=()
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$OUT/time" "$BIN" "${spill[@]}" --format json \
      --labels "$OUT/labels-$shards.json" "$dir" >"$OUT/out-$shards.json" 2>>"$OUT/stderr"
    read -r w m <"$OUT/time"
    walls+=("$w"); rss+=("$m")
  done
  wall=$(printf '%s\n' "${walls[@]}" | median)
  peak=$(printf '%s\n' "${rss[@]}" | median)
  python3 - "$OUT/out-$shards.json" "$wall" "$peak" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
s, e = o["summary"], o["summary"]["evaluation"]
wall, peak = float(sys.argv[2]), float(sys.argv[3]) / 1024
print("| {:,} | {:.3f} | {:.1f} | {:.0f} | {:.1f} | {:,} | {:.4f} | {:.4f} | {:.4f} |".format(
    s["documents"], s["bytes"] / 1e9, wall, peak, s["bytes"] / 1e6 / wall, s["stories"],
    e["ari"], e["precision"], e["recall"]))
PY
done
