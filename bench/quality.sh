#!/usr/bin/env bash
# Clustering quality of storyclust against two MinHash-LSH peers (datasketch, rensa).
#
# Builds labelled reprint corpora from Reuters-21578 (make_reprints.py), clusters each with
# storyclust at default settings and with the peers (peers.py) at threshold 0.5 and at their
# best threshold, scores every run (score.py) and prints one markdown table with ARI, pairwise
# precision/recall and the wall time of each tool command.
#
# The peers' best threshold is searched over THRESHOLDS on the first seed of each size (best
# ARI wins) and then used on every seed of that size.
#
#   bench/quality.sh                          # from the repo root
#   SIZES="300" SEEDS="1 2" bench/quality.sh  # a quick run
#
# Env: SHARED (default ../shared), SIZES (default "300 3000"), SEEDS (default "1 2 3 4 5").
# Everything it writes stays under target/ (results in target/bench-quality/).
set -euo pipefail
shopt -s inherit_errexit  # a failing tool inside $(...) stops the script too

SHARED=${SHARED:-../shared}
SIZES=${SIZES:-"300 3000"}
SEEDS=${SEEDS:-"1 2 3 4 5"}
THRESHOLDS="0.1 0.2 0.3 0.4 0.5"
DATA=target/data
OUT=target/bench-quality
VENV=target/peers
BIN=target/release/storyclust

say() { echo "quality.sh: $*" >&2; }

# timed STDOUT_FILE CMD...: run CMD (stdout to STDOUT_FILE, stderr to the run log), print wall seconds
timed() {
  local out=$1 t0 t1
  shift
  t0=$(date +%s.%N)
  "$@" >"$out" 2>>"$OUT/run.log"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

# score LABELS PREDICTION: set ARI, PREC and REC from score.py's report
score() {
  local out
  out=$(python3 "$SHARED/bench/score.py" "$1" "$2")
  ARI=$(sed -n 's/^ARI=//p' <<<"$out")
  PREC=$(sed -n 's/.* precision=\([0-9.]*\).*/\1/p' <<<"$out")
  REC=$(sed -n 's/.* recall=\([0-9.]*\).*/\1/p' <<<"$out")
}

# peer TOOL THRESHOLD CORPUS_DIR RESULT_DIR: run a peer once per script run; leaves .json and .time
peer() {
  local res="$4/$1-$2"
  if [ -f "$res.time" ]; then return 0; fi
  timed /dev/null "$VENV/bin/python" "$SHARED/bench/peers.py" --tool "$1" --threshold "$2" \
    "$3/docs" "$res.json" >"$res.time"
}

# --- setup --------------------------------------------------------------------------------
cargo build --release
mkdir -p "$DATA" "$OUT"
: >"$OUT/run.log"
if [ ! -d "$DATA/reuters21578/docs" ]; then
  say "unpacking reuters21578.tar.gz"
  tar -xzf "$SHARED/data/reuters21578.tar.gz" -C "$DATA"
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" -c 'import datasketch, rensa' 2>/dev/null; then
  say "installing datasketch and rensa into $VENV"
  "$VENV/bin/python" -m pip install --quiet datasketch rensa
fi

# --- runs ---------------------------------------------------------------------------------
rows=()
notes=()
for n in $SIZES; do
  read -r first _ <<<"$SEEDS"
  declare -A best=()
  for s in $SEEDS; do
    corpus=$DATA/reprints-$n-$s
    name=reprints-$n-s$s
    res=$OUT/$name
    if [ ! -f "$corpus/labels.json" ]; then
      say "building $name"
      python3 "$SHARED/bench/make_reprints.py" --src "$DATA/reuters21578/docs" \
        --out "$corpus" --stories "$n" --seed "$s" >&2
    fi
    rm -rf "$res" && mkdir -p "$res"
    docs=$(find "$corpus/docs" -name '*.txt' | wc -l)
    labels=$corpus/labels.json

    if [ "$s" = "$first" ]; then  # threshold search for the peers
      for tool in datasketch rensa; do
        best_ari=-2
        for t in $THRESHOLDS; do
          say "$name: $tool threshold $t (search)"
          peer "$tool" "$t" "$corpus" "$res"
          score "$labels" "$res/$tool-$t.json"
          if awk -v a="$ARI" -v b="$best_ari" 'BEGIN { exit !(a > b) }'; then
            best_ari=$ARI best[$tool]=$t
          fi
        done
        notes+=("- $tool, ${n} stories: best threshold ${best[$tool]} (ARI $best_ari on $name, searched $THRESHOLDS), used on all seeds")
      done
    fi

    say "$name: storyclust"
    wall=$(timed "$res/storyclust.json" "$BIN" --format json "$corpus/docs")
    score "$labels" "$res/storyclust.json"
    rows+=("| $name | $docs | storyclust | $ARI | $PREC | $REC | $wall |")
    for tool in datasketch rensa; do
      for t in 0.5 "${best[$tool]}"; do
        say "$name: $tool threshold $t"
        peer "$tool" "$t" "$corpus" "$res"
        score "$labels" "$res/$tool-$t.json"
        label="$tool t=$t"
        if [ "$t" = "${best[$tool]}" ]; then label="$label (best)"; fi
        rows+=("| $name | $docs | $label | $ARI | $PREC | $REC | $(cat "$res/$tool-$t.time") |")
        if [ "$t" = "${best[$tool]}" ]; then break; fi  # best is 0.5: one row is enough
      done
    done
  done
  unset best
done

# --- report -------------------------------------------------------------------------------
{
  echo "| corpus | docs | tool | ARI | precision | recall | wall s |"
  echo "|---|---:|---|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "storyclust at default settings; peers via peers.py (word 3-grams, 128 permutations)."
  echo "(best) = threshold with the best ARI on the first seed of each size (a tie goes to the lower"
  echo "threshold), then used on all seeds of that size:"
  printf '%s\n' "${notes[@]}"
  echo "wall s = wall time of the whole tool command (for the peers: Python start-up, import,"
  echo "reading, MinHash, LSH, clustering; per-stage times are in $OUT/run.log)."
} | tee "$OUT/table.md"
