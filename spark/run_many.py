"""Runs the Spark job several times in one local session, once per number of
shuffle partitions, so a test pays for one session start. Used by
tests/spark.rs; by hand:

    python spark/run_many.py --partitions 1,3,8 --out-root out/ -- \
        --binary target/release/storyclust --input-list list.txt

Each run writes OUT_ROOT/p<N>/ as storyclust_spark.py --out would.
"""

import argparse
import json
import os
import sys

from pyspark.sql import SparkSession

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import storyclust_spark


def main():
    argv = sys.argv[1:]
    at = argv.index("--") if "--" in argv else len(argv)
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--partitions", default="1,3,8")
    p.add_argument("--out-root", required=True)
    p.add_argument("--master", default="local[2]")
    own = p.parse_args(argv[:at])
    spark = (
        SparkSession.builder.master(own.master)
        .appName("storyclust-same-stories")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    code = 0
    try:
        for n in own.partitions.split(","):
            out = os.path.join(own.out_root, f"p{n}")
            args = storyclust_spark.parse_args(argv[at + 1 :] + ["--out", out, "--partitions", n])
            summary = storyclust_spark.run_job(spark, args)
            print(json.dumps(summary), flush=True)
            if summary["errors"]:
                code = 2
    except storyclust_spark.JobError as e:
        print(f"storyclust-spark: {e}", file=sys.stderr)
        code = 3
    finally:
        spark.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
