#!/usr/bin/env bash
# The Spark job in local mode against the single-machine run, on one corpus:
# wall time and peak RSS of both (medians of RUNS), the job's own phase
# timings, shuffle sizes by phase (from Spark's event log), and whether the
# stories are byte-identical.
#
#   bench/spark.sh DOCS [RUNS] [MASTER] [PARTITIONS]
#
# Needs a venv with PySpark at target/tmp/spark-venv (tests/spark.rs makes
# it) or PYTHON=/path/to/python; Java 17+. DRIVER_MEMORY (default 6g) is
# the local JVM's heap: in local mode it holds the executors' cache too.
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS=${1:?usage: bench/spark.sh DOCS [RUNS] [MASTER] [PARTITIONS]}
RUNS=${2:-3}
MASTER=${3:-local[2]}
PARTS=${4:-8}
PYTHON=${PYTHON:-target/tmp/spark-venv/bin/python}
DRIVER_MEMORY=${DRIVER_MEMORY:-6g}
BIN=target/release/storyclust
cargo build --release -q
OUT=target/bench-spark/$(basename "$(dirname "$DOCS")")-$(basename "$DOCS")
rm -rf "$OUT"; mkdir -p "$OUT/events"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # label, command...: appends "seconds peak_kib" lines to $OUT/label.times
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$OUT/$label.t" "$@" >"$OUT/$label.out" 2>"$OUT/$label.err"
    cat "$OUT/$label.t" >>"$OUT/$label.times"
}
for i in $(seq 1 "$RUNS"); do
    measure local "$BIN" --format jsonl --no-timings "$DOCS" || true
    measure spark "$PYTHON" spark/storyclust_spark.py --master "$MASTER" --partitions "$PARTS" \
        --conf "spark.driver.memory=$DRIVER_MEMORY" --binary "$BIN" --out "$OUT/spark" "$DOCS" || true
done
# One more run with the event log, for shuffle sizes (not timed).
"$PYTHON" - "$MASTER" "$PARTS" "$BIN" "$OUT" "$DOCS" "$DRIVER_MEMORY" <<'PY'
import os, sys
sys.path.insert(0, "spark")
from pyspark.sql import SparkSession
import storyclust_spark as job
master, parts, binary, out, docs, memory = sys.argv[1:]
spark = (SparkSession.builder.master(master).config("spark.eventLog.enabled", "true")
         .config("spark.driver.memory", memory).config("spark.eventLog.compress", "false").config("spark.eventLog.rolling.enabled", "false")
         .config("spark.eventLog.dir", "file://" + os.path.abspath(out + "/events")).getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
job.run_job(spark, job.parse_args([docs, "--out", out + "/spark-events", "--binary", binary, "--partitions", parts]))
spark.stop()
PY
echo "corpus: $DOCS ($(find -L "$DOCS" -type f | wc -l) files, $(du -shL "$DOCS" | cut -f1)); master $MASTER; shuffle partitions $PARTS; runs $RUNS"
if [ "$RUNS" -eq 0 ]; then # shuffle sizes only
    cat "$OUT"/spark-events/summary/part-* | python3 -c 'import json,sys; s=json.load(sys.stdin); print(json.dumps(s["seconds"])); print(json.dumps(s["counts"]))'
    python3 bench/spark_shuffle.py "$(find "$OUT/events" -type f -name 'local-*' | head -1)"
    exit 0
fi
grep '^{"type":"story"' "$OUT/local.out" >"$OUT/local.stories"
cat "$OUT"/spark/stories/part-* >"$OUT/spark.stories"
for l in local spark; do
    echo "$l: median wall $(cut -d' ' -f1 "$OUT/$l.times" | median) s, median peak RSS $(( $(cut -d' ' -f2 "$OUT/$l.times" | median) / 1024 )) MiB (driver process only for spark)"
done
if cmp -s "$OUT/local.stories" "$OUT/spark.stories"; then
    echo "stories: identical ($(wc -l <"$OUT/local.stories") stories)"
else
    echo "stories: DIFFERENT ($(wc -l <"$OUT/local.stories") local, $(wc -l <"$OUT/spark.stories") spark)"
fi
echo "phase seconds (last timed run):"
cat "$OUT"/spark/summary/part-* | python3 -c 'import json,sys; s=json.load(sys.stdin); print(json.dumps(s["seconds"])); print(json.dumps(s["counts"]))'
python3 bench/spark_shuffle.py "$(find "$OUT/events" -type f -name 'local-*' | head -1)"
