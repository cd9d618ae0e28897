#!/usr/bin/env bash
# CI-mode benchmark: how long `storyclust index check` takes for a batch of
# new articles against archives of growing size, next to one run of the main
# command over archive + batch.
#
#   bench/index.sh CORPUS_DOCS [BATCH] [SIZES] [RUNS]
#
# CORPUS_DOCS is a folder of articles (e.g. a corpus from
# ../shared/bench/make_reprints.py); BATCH (default 1000) articles of it,
# picked by a fixed hash of the name, are the batch; the archives are the
# first SIZES (default "10000 all") of the rest in a fixed shuffle.
# Each figure is the median of RUNS (default 5) runs, wall time and peak RSS
# from /usr/bin/time. Everything is written under target/bench-index/.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=$(realpath "${1:?usage: bench/index.sh CORPUS_DOCS [BATCH] [SIZES] [RUNS]}")
BATCH=${2:-1000}
SIZES=${3:-10000 all}
RUNS=${4:-5}
OUT=${OUT:-target/bench-index}
BIN=$PWD/target/release/storyclust
cargo build --release --quiet
rm -rf "$OUT"
mkdir -p "$OUT"

python3 - "$CORPUS" "$OUT" "$BATCH" <<'PY'
import hashlib, os, sys
src, out, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
names = sorted(n for n in os.listdir(src) if n.endswith(".txt"))
key = lambda n: hashlib.blake2b(n.encode(), digest_size=8).digest()
names.sort(key=key)
os.makedirs(f"{out}/batch")
for n in names[:batch]:
    os.symlink(os.path.join(src, n), f"{out}/batch/{n}")
with open(f"{out}/archive.list", "w") as f:
    f.write("\n".join(names[batch:]) + "\n")
PY

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# timed CMD...: runs CMD RUNS times; prints "median_wall_s median_peak_MiB".
timed() {
  local walls=() rss=()
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$OUT/time" "$@" >/dev/null 2>>"$OUT/stderr" || true
    read -r w m <"$OUT/time"
    walls+=("$w"); rss+=("$m")
  done
  printf '%s %s\n' "$(printf '%s\n' "${walls[@]}" | median)" \
    "$(printf '%s\n' "${rss[@]}" | median | awk '{printf "%.0f", $1/1024}')"
}

printf '| archive articles | index MB | build s | build peak MiB | check s | check peak MiB | archive articles regrouped | main command over archive+batch s | main / check | batch articles with the one-run story |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
for size in $SIZES; do
  dir="$OUT/archive-$size"
  mkdir -p "$dir"
  if [ "$size" = all ]; then n=$(wc -l <"$OUT/archive.list"); else n=$size; fi
  python3 - "$CORPUS" "$dir" "$n" "$OUT/archive.list" <<'PY'
import itertools, os, sys
src, dst, n, listing = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(listing) as f:
    for name in itertools.islice((l.strip() for l in f), n):
        os.symlink(os.path.join(src, name), os.path.join(dst, name))
PY
  idx="$OUT/idx-$size.db"
  /usr/bin/time -f "%e %M" -o "$OUT/time" "$BIN" index build "$idx" "$dir" >/dev/null
  read -r bw bm <"$OUT/time"
  mb=$(du -m "$idx" | cut -f1)
  read -r cw cm < <(timed "$BIN" index check --format json "$idx" "$OUT/batch")
  read_again=$("$BIN" index check --format json "$idx" "$OUT/batch" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["neighbourhood"])')
  read -r fw _ < <(timed "$BIN" --format json "$dir" "$OUT/batch")
  # Does each batch article get the story one run over archive + batch gives it?
  "$BIN" --format json "$dir" "$OUT/batch" >"$OUT/main-$size.json"
  "$BIN" index check --format json "$idx" "$OUT/batch" >"$OUT/check-$size.json"
  agree=$(python3 - "$OUT/main-$size.json" "$OUT/check-$size.json" <<'PY'
import json, os, sys
base = os.path.basename
main, check = (json.load(open(p)) for p in sys.argv[1:3])
story = {}
for s in main["stories"]:
    names = sorted(base(d["path"]) for d in s["documents"])
    for n in names:
        story[n] = names
got = {s["id"]: sorted(base(d["path"]) for d in s["documents"]) for s in check["stories"]}
same = sum((got.get(a["story"]) if a["story"] else None) == story.get(base(a["path"]))
           for a in check["articles"])
print(f"{same}/{len(check['articles'])}")
PY
)
  ratio=$(awk -v a="$fw" -v b="$cw" 'BEGIN {printf "%.1f", a / b}')
  printf '| %s | %s | %s | %.0f | %s | %s | %s | %s | %s× | %s |\n' \
    "$n" "$mb" "$bw" "$(awk -v m="$bm" 'BEGIN {print m/1024}')" "$cw" "$cm" "$read_again" "$fw" "$ratio" "$agree"
done
