#!/usr/bin/env bash
# Determinism on a real corpus: byte-identical JSON (timings left out) for
# --threads 1, 2 and 8, each run twice, on the whole Reuters-21578 corpus
# (or on the folder given as $1).
#
#   bench/determinism.sh [DOCS_DIR]
#
# Env: SHARED (default ../shared). Exits 1 when any two outputs differ.
set -euo pipefail
SHARED=${SHARED:-../shared}
DOCS=${1:-target/data/reuters21578/docs}
OUT=target/determinism
cargo build --release
if [ ! -d "$DOCS" ] && [ "$DOCS" = target/data/reuters21578/docs ]; then
  mkdir -p target/data && tar xzf "$SHARED/data/reuters21578.tar.gz" -C target/data
fi
mkdir -p "$OUT"
for t in 1 2 8; do
  for r in 1 2; do
    target/release/storyclust --format json --no-timings --all --threads "$t" "$DOCS" >"$OUT/t$t-r$r.json" || [ $? -eq 1 ]
  done
done
sha256sum "$OUT"/*.json
n=$(sha256sum "$OUT"/*.json | cut -d' ' -f1 | sort -u | wc -l)
if [ "$n" -ne 1 ]; then
  echo "determinism.sh: outputs differ ($n distinct)" >&2
  exit 1
fi
echo "determinism.sh: 6 runs (threads 1, 2, 8; twice each) byte-identical on $DOCS"
