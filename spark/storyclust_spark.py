"""storyclust on Apache Spark: the same stories as `storyclust`, on a cluster.

The storyclust binary stays the one implementation of reading, tokenizing,
shingling, sketching, verifying, clustering and finding passages: this job
ships shards of rows to `storyclust stage …` on the executors
(mapPartitions over a subprocess) and does what Spark is good at: listing and
reading the input, grouping by fingerprint and band key with the global
document-frequency caps, deduplicating candidate pairs, joins, connected
components (large-star / small-star on DataFrames) and the final sort.

Run it with spark-submit (the binary must sit at the same path on every
executor, or be shipped with --ship-binary):

    spark-submit spark/storyclust_spark.py --binary /opt/storyclust \
        --out hdfs:///stories/run1 hdfs:///archive/

or, to try it on one machine, with a local session:

    python spark/storyclust_spark.py --master 'local[2]' --out out/ fixtures/bakhmut

The output folder holds `stories/` (JSON Lines part files, in order: each
line is a story exactly as `storyclust --format jsonl` writes it),
`errors/` (one `{"type":"error",…}` line per file that could not be used)
and `summary.json`. See spark/README.md for the specification both paths
implement.
"""

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time

from pyspark import SparkFiles, StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

EXCHANGE_FORMAT = "storyclust-exchange"
EXCHANGE_VERSION = 1
# Flips the sign bit: signed order of `x ^ SIGN` is the unsigned order of x.
SIGN = -(2**63)

SKETCH_SCHEMA = T.StructType(
    [
        T.StructField("path", T.StringType()),
        T.StructField("doc", T.LongType()),
        T.StructField("error", T.StringType()),
        T.StructField("text", T.LongType()),
        T.StructField("title", T.StringType()),
        T.StructField("words", T.LongType()),
        T.StructField("bytes", T.LongType()),
        T.StructField("encoding", T.StringType()),
        T.StructField("seq", T.ArrayType(T.LongType())),
        T.StructField("fingerprints", T.ArrayType(T.LongType())),
        T.StructField("bands", T.ArrayType(T.LongType())),
    ]
)
EDGE_SCHEMA = T.StructType(
    [
        T.StructField("a", T.LongType()),
        T.StructField("b", T.LongType()),
        T.StructField("strength", T.DoubleType()),
        T.StructField("strong", T.BooleanType()),
    ]
)
GROUP_SCHEMA = T.StructType([T.StructField("texts", T.ArrayType(T.LongType()))])
STORY_SCHEMA = T.StructType(
    [
        T.StructField("size", T.LongType()),
        T.StructField("order", T.StringType()),
        T.StructField("line", T.StringType()),
        T.StructField(
            "errors",
            T.ArrayType(
                T.StructType(
                    [
                        T.StructField("path", T.StringType()),
                        T.StructField("message", T.StringType()),
                    ]
                )
            ),
        ),
    ]
)


class JobError(Exception):
    """A problem that stops the job, with a message for the user."""


def stage_pipe(binary, ship, stage, params, threads):
    """A mapPartitions function: the partition's JSON lines through
    `storyclust stage STAGE`, its output lines back. A failing binary fails
    the task with its message."""

    def run(rows):
        exe = binary
        if ship:
            exe = SparkFiles.get(os.path.basename(binary))
            mode = os.stat(exe).st_mode
            if not mode & stat.S_IXUSR:
                os.chmod(exe, mode | stat.S_IXUSR)
        cmd = [exe, "stage", stage, "--params", params, "-j", str(threads)]
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        failure = []
        err_chunks = []

        def feed():
            try:
                for r in rows:
                    proc.stdin.write(r.encode("utf-8"))
                    proc.stdin.write(b"\n")
            except BrokenPipeError:
                pass
            except Exception as e:  # noqa: BLE001 -- re-raised in the task after the process ends
                failure.append(e)
            finally:
                try:
                    proc.stdin.close()
                except BrokenPipeError:
                    pass

        def drain():
            err_chunks.append(proc.stderr.read())

        feeder = threading.Thread(target=feed, daemon=True)
        drainer = threading.Thread(target=drain, daemon=True)
        feeder.start()
        drainer.start()
        for line in proc.stdout:
            yield line.decode("utf-8").rstrip("\n")
        feeder.join()
        code = proc.wait()
        drainer.join()
        if failure:
            raise failure[0]
        if code != 0:
            msg = b"".join(err_chunks).decode("utf-8", "replace").strip()
            raise RuntimeError(f"storyclust stage {stage} exited with {code}: {msg}")

    return run


class Job:
    """One run of the pipeline over `inputs` with the given options."""

    def __init__(self, spark, opts):
        self.spark = spark
        self.opts = opts
        self.binary = opts.binary
        self.params = self._params()
        self.config = json.loads(self.params)["config"]
        self.times = {}
        self.counts = {}

    # -- helpers ---------------------------------------------------------

    def _params(self):
        cmd = [self.opts.binary, "stage", "params"] + self.opts.tuning
        try:
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        except FileNotFoundError:
            raise JobError(f"cannot run the storyclust binary {self.opts.binary!r}")
        except subprocess.CalledProcessError as e:
            raise JobError(f"storyclust stage params: {e.stderr.strip()}")
        p = json.loads(out)
        if p.get("format") != EXCHANGE_FORMAT or p.get("version") != EXCHANGE_VERSION:
            raise JobError(
                f"the binary speaks {p.get('format')} version {p.get('version')}, "
                f"this job {EXCHANGE_FORMAT} version {EXCHANGE_VERSION}"
            )
        return out.strip()

    def _stage(self, df, stage, schema, columns):
        """Rows of `df` (as JSON of `columns`) through a stage, parsed back."""
        lines = df.select(F.to_json(F.struct(*columns)).alias("j")).rdd.map(lambda r: r.j)
        fn = stage_pipe(
            self.binary, self.opts.ship_binary, stage, self.params, self.opts.stage_threads
        )
        out = lines.mapPartitions(fn)
        return self.spark.read.schema(schema).json(out)

    def _timed(self, name, fn):
        """Runs one phase, timed; its Spark jobs carry the phase's name (in
        the UI and the event log)."""
        sc = self.spark.sparkContext
        sc.setJobDescription(f"storyclust {name}")
        t = time.time()
        r = fn()
        self.times[name] = round(time.time() - t, 3)
        sc.setJobDescription(None)
        return r

    def _persist(self, df):
        return df.persist(StorageLevel.MEMORY_AND_DISK)

    # -- stages ----------------------------------------------------------

    def read_files(self):
        """(uri, path, content) of every input file: folders walked with the
        extension filter, files taken as named; paths as the CLI writes them."""
        jvm = self.spark.sparkContext._jvm
        conf = self.spark.sparkContext._jsc.hadoopConfiguration()
        exts = self.config["extensions"]
        glob = "*.{" + ",".join(exts) + "}" if len(exts) > 1 else "*." + exts[0]
        folders, files, missing = [], [], []
        local_default = (conf.get("fs.defaultFS") or "file:///").startswith("file:")
        for given in self.opts.inputs:
            if local_default and "://" not in given and not given.startswith("file:"):
                # A local path: qualified as Hadoop does, without a JVM call
                # per path (an input list can be long).
                if not os.path.exists(given):
                    missing.append(given)
                    continue
                qualified = "file:" + os.path.abspath(given)
                is_dir = os.path.isdir(given)
            else:
                hp = jvm.org.apache.hadoop.fs.Path(given)
                fs = hp.getFileSystem(conf)
                if not fs.exists(hp):
                    missing.append(given)
                    continue
                qualified = fs.makeQualified(hp).toString().rstrip("/")
                is_dir = fs.getFileStatus(hp).isDirectory()
            (folders if is_dir else files).append((given, qualified))
        frames = []
        reader = self.spark.read.format("binaryFile")
        if folders:
            df = (
                reader.option("recursiveFileLookup", "true")
                .option("pathGlobFilter", glob)
                .load([q for _, q in folders])
            )
            frames.append(self._under_folders(df, folders))
        if files:
            # Named files: their paths as given, by a join (a list can be long).
            names = self.spark.createDataFrame(
                [(q, g) for g, q in files], "uri string, path string"
            ).dropDuplicates(["uri"])
            df = reader.load([q for _, q in files]).select(F.col("path").alias("uri"), "content")
            frames.append(df.join(names, "uri").select("uri", "path", "content"))
        self.missing = missing
        if not frames:
            return None
        out = frames[0]
        for f in frames[1:]:
            out = out.unionByName(f)
        return out.dropDuplicates(["path"])

    def _under_folders(self, df, roots):
        """Maps the Hadoop URIs of files found under folders back to paths
        as the user wrote the folders."""
        col = F.col("path")
        expr = None
        for given, qualified in roots:
            prefix = qualified + "/"
            display = F.concat(
                F.lit(given.rstrip("/") + "/"), col.substr(len(prefix) + 1, 1 << 30)
            )
            cond = col.startswith(prefix)
            expr = F.when(cond, display) if expr is None else expr.when(cond, display)
        return df.select(col.alias("uri"), expr.alias("path"), "content").where(
            F.col("path").isNotNull()
        )

    def sketch(self, files):
        n = self.opts.partitions
        rows = files.repartition(n, "path").select(
            "path", F.base64("content").alias("data")
        )
        sk = self._stage(rows, "sketch", SKETCH_SCHEMA, ["path", "data"])
        return self._persist(sk)

    def check_ids(self, sk):
        clash = (
            sk.groupBy("doc")
            .agg(F.countDistinct("path").alias("n"), F.collect_set("path").alias("paths"))
            .where("n > 1")
            .head(1)
        )
        if clash:
            paths = ", ".join(sorted(clash[0].paths))
            raise JobError(f"document id collision (seed {self.config['seed']}): {paths}")

    def nodes(self, sk):
        ok = sk.where("error IS NULL AND words > 0")
        return self._persist(
            ok.groupBy("text").agg(
                F.count("*").alias("weight"),
                F.first("words").alias("words"),
                F.first("seq").alias("seq"),
                F.first("fingerprints").alias("fingerprints"),
                F.first("bands").alias("bands"),
            )
        )

    def shingle_counts(self, nodes):
        """(text, h) for every distinct shingle of every text, and the
        stock (over the DF cap) and widespread (over the story cap) ones."""
        sh = self._persist(
            nodes.select("text", F.explode(F.array_distinct("seq")).alias("h"))
        )
        df = sh.groupBy("h").agg(F.count("*").alias("n"))
        max_df, max_stories = self.config["max_df"], self.config["max_stories"]
        stock = self._persist(df.where(F.col("n") > max_df).select("h"))
        wide = None
        if max_stories > 0:
            wide = self._persist(
                df.where((F.col("n") > max_stories) & (F.col("n") <= max_df)).select("h")
            )
        return sh, stock, wide

    def node_stock(self, sh, stock):
        return self._persist(
            sh.join(stock, "h").groupBy("text").agg(F.collect_list("h").alias("stock"))
        )

    def candidates(self, nodes):
        cap = max(self.config["max_df"], 2)
        min_fp = max(self.config["min_fingerprints"], 1)
        fp = nodes.select("text", F.explode("fingerprints").alias("f"))
        common = (
            fp.groupBy("f")
            .agg(F.count("*").alias("n"))
            .where((F.col("n") >= 2) & (F.col("n") <= cap))
            .select("f")
        )
        post = fp.join(common, "f")
        x, y = post.alias("x"), post.alias("y")
        fp_pairs = (
            x.join(y, "f")
            .where(F.col("x.text").bitwiseXOR(F.lit(SIGN)) < F.col("y.text").bitwiseXOR(F.lit(SIGN)))
            .groupBy(F.col("x.text").alias("a"), F.col("y.text").alias("b"))
            .count()
            .where(F.col("count") >= min_fp)
            .select("a", "b")
        )
        buckets = (
            nodes.select("text", F.posexplode("bands").alias("band", "key"))
            .groupBy("band", "key")
            .agg(F.collect_list("text").alias("texts"))
            .where(F.size("texts") >= 2)
        )
        lsh_pairs = self.spark.createDataFrame(
            buckets.rdd.flatMap(lambda r: bucket_pairs(r.texts)),
            T.StructType([T.StructField("a", T.LongType()), T.StructField("b", T.LongType())]),
        )
        return self._persist(fp_pairs.unionByName(lsh_pairs).distinct())

    def verify(self, pairs, nodes, nstock):
        nd = nodes.select("text", "words", "seq")
        a = nd.select(F.col("text").alias("a"), F.col("words").alias("a_words"), F.col("seq").alias("a_seq"))
        b = nd.select(F.col("text").alias("b"), F.col("words").alias("b_words"), F.col("seq").alias("b_seq"))
        sa = nstock.select(F.col("text").alias("a"), F.col("stock").alias("sa"))
        sb = nstock.select(F.col("text").alias("b"), F.col("stock").alias("sb"))
        empty = F.array().cast(T.ArrayType(T.LongType()))
        rows = (
            pairs.join(a, "a")
            .join(b, "b")
            .join(sa, "a", "left")
            .join(sb, "b", "left")
            .withColumn("stock", F.array_intersect(F.coalesce("sa", empty), F.coalesce("sb", empty)))
        )
        cols = ["a", "b", "a_words", "b_words", "a_seq", "b_seq", "stock"]
        return self._persist(self._stage(rows, "verify", EDGE_SCHEMA, cols))

    def components(self, edges):
        """(text, c): the connected components of the edge graph, labelled by
        their smallest text (signed order), by alternating large-star and
        small-star steps (Kiveris et al., 2014) until nothing changes."""
        e = self._persist(
            edges.select(F.least("a", "b").alias("u"), F.greatest("a", "b").alias("v")).distinct()
        )
        e_sum = checksum(e)
        rounds = 0
        while True:
            rounds += 1
            # Large star: each node's larger neighbours go to its smallest neighbour.
            both = e.select(F.col("u").alias("x"), F.col("v").alias("y")).unionByName(
                e.select(F.col("v").alias("x"), F.col("u").alias("y"))
            )
            m = both.groupBy("x").agg(F.least(F.min("y"), F.col("x")).alias("m"))
            large = (
                both.join(m, "x")
                .where(F.col("y") > F.col("x"))
                .select(F.least("y", "m").alias("u"), F.greatest("y", "m").alias("v"))
                .where(F.col("u") != F.col("v"))
                .distinct()
            )
            # Small star: each node and its smaller neighbours go to the smallest of them.
            s = large.groupBy("v").agg(F.min("u").alias("m"))
            small = (
                large.join(s, "v")
                .select(F.col("u").alias("p"), "m")
                .unionByName(s.select(F.col("v").alias("p"), "m"))
                .where(F.col("p") != F.col("m"))
                .select(F.least("p", "m").alias("u"), F.greatest("p", "m").alias("v"))
                .distinct()
            )
            small = self._persist(small.localCheckpoint())
            small_sum = checksum(small)
            same = small_sum == e_sum
            e.unpersist()
            e, e_sum = small, small_sum
            if same:
                break
        self.counts["component_rounds"] = rounds
        return self._persist(
            e.select(F.col("v").alias("text"), F.col("u").alias("c"))
            .unionByName(e.select(F.col("u").alias("text"), F.col("u").alias("c")))
            .distinct()
        )

    def cluster(self, edges, nodes):
        comp = self.components(edges)
        weights = nodes.select("text", "weight")
        cn = (
            comp.join(weights, "text")
            .groupBy("c")
            .agg(F.collect_list(F.struct("text", "weight")).alias("nodes"))
        )
        ce = (
            edges.join(comp.withColumnRenamed("text", "a"), "a")
            .groupBy("c")
            .agg(F.collect_list(F.struct("a", "b", "strength", "strong")).alias("edges"))
        )
        edge_type = T.ArrayType(EDGE_SCHEMA)
        lone = (
            weights.where("weight > 1")
            .join(comp, "text", "left_anti")
            .select(
                F.array(F.struct("text", "weight")).alias("nodes"),
                F.array().cast(edge_type).alias("edges"),
            )
        )
        rows = cn.join(ce, "c").select("nodes", "edges").unionByName(lone)
        groups = self._stage(rows, "cluster", GROUP_SCHEMA, ["nodes", "edges"])
        return self._persist(
            groups.select(F.explode("texts").alias("text"), F.col("texts")[0].alias("story"))
        )

    def boilerplate(self, sh, wide, label):
        """Widespread shingles held by more than max_stories stories (a text
        in no story is a story of its own)."""
        holders = (
            sh.join(wide, "h")
            .join(label, "text", "left")
            .select("h", F.coalesce("story", "text").alias("story"))
        )
        return self._persist(
            holders.groupBy("h")
            .agg(F.countDistinct("story").alias("s"))
            .where(F.col("s") > self.config["max_stories"])
            .select("h")
        )

    def passages(self, sk, files, label, edges, nstock):
        members = (
            sk.where("error IS NULL AND words > 0")
            .join(label, "text")
            .join(files.select("path", F.base64("content").alias("data")), "path")
        )
        mcol = F.struct("path", "text", "title", "words", "bytes", "encoding", "data")
        story_members = members.groupBy("story").agg(F.collect_list(mcol).alias("members"))
        la = label.select(F.col("text").alias("a"), F.col("story"))
        lb = label.select(F.col("text").alias("b"), F.col("story").alias("sb"))
        story_edges = (
            edges.join(la, "a")
            .join(lb, "b")
            .where(F.col("story") == F.col("sb"))
            .groupBy("story")
            .agg(F.collect_list(F.struct("a", "b", "strength", "strong")).alias("edges"))
        )
        story_stock = (
            nstock.join(label, "text")
            .select("story", F.explode("stock").alias("h"))
            .groupBy("story")
            .agg(F.collect_set("h").alias("stock"))
        )
        empty_edges = F.array().cast(T.ArrayType(EDGE_SCHEMA))
        empty_stock = F.array().cast(T.ArrayType(T.LongType()))
        rows = (
            story_members.join(story_edges, "story", "left")
            .join(story_stock, "story", "left")
            .select(
                "members",
                F.coalesce("edges", empty_edges).alias("edges"),
                F.coalesce("stock", empty_stock).alias("stock"),
            )
        )
        return self._stage(rows, "passages", STORY_SCHEMA, ["members", "edges", "stock"])

    # -- the whole job ---------------------------------------------------

    def run(self):
        t_all = time.time()
        files = self._timed("list", self.read_files)
        # Worded as the CLI words a missing path.
        errors = [
            {"path": p, "message": f"{p}: No such file or directory"
             + ("" if "://" in p else " (os error 2)")}
            for p in self.missing
        ]
        if files is None:
            self.counts.update(files=0, stories=0)
            return self._finish(errors, t_all)
        files = self._timed("read", lambda: self._count(self._persist(files), "files_read"))
        sk = self._timed("sketch", lambda: self._count(self.sketch(files), "files"))
        def ids_and_errors():
            self.check_ids(sk)
            for r in sk.where("error IS NOT NULL").select("path", "error").collect():
                errors.append({"path": r.path, "message": r.error})

        self._timed("ids", ids_and_errors)
        nodes = self._timed("nodes", lambda: self._count(self.nodes(sk), "distinct_texts"))
        sh, stock, wide = self._timed("document_frequency", lambda: self.shingle_counts(nodes))
        nstock = self.node_stock(sh, stock)
        pairs = self._timed("candidates", lambda: self._count(self.candidates(nodes), "candidates"))
        edges = self._timed("verify", lambda: self._count(self.verify(pairs, nodes, nstock), "edges"))
        label = self._timed("cluster", lambda: self._count(self.cluster(edges, nodes), "texts_in_stories"))
        if wide is not None:
            bp = self._timed("boilerplate", lambda: self._count(self.boilerplate(sh, wide, label), "boilerplate_shingles"))
            if self.counts["boilerplate_shingles"] > 0:
                stock = self._persist(stock.unionByName(bp).distinct())
                nstock = self.node_stock(sh, stock)
                again = edges.select("a", "b")
                edges = self._timed("verify_again", lambda: self._count(self.verify(again, nodes, nstock), "edges"))
                label = self._timed("cluster_again", lambda: self._count(self.cluster(edges, nodes), "texts_in_stories"))
        stories = self._timed(
            "passages", lambda: self._persist(self.passages(sk, files, label, edges, nstock))
        )
        for r in stories.select(F.explode("errors").alias("e")).collect():
            errors.append({"path": r.e.path, "message": r.e.message})
        ordered = stories.orderBy(F.col("size").desc(), F.col("order").asc()).select(
            F.col("line").alias("value")
        )
        self._timed("write", lambda: ordered.write.mode("overwrite").text(self.opts.out + "/stories"))
        self.counts["stories"] = stories.count()
        return self._finish(errors, t_all)

    def _count(self, df, name):
        self.counts[name] = df.count()
        return df

    def _finish(self, errors, t_all):
        errors.sort(key=lambda e: e["path"])
        lines = [
            json.dumps({"type": "error", "data": e}, ensure_ascii=False, separators=(",", ":"))
            for e in errors
        ]
        self.spark.createDataFrame([(l,) for l in lines], "value string").coalesce(1).write.mode(
            "overwrite"
        ).text(self.opts.out + "/errors")
        self.times["total"] = round(time.time() - t_all, 3)
        summary = {
            "params": json.loads(self.params),
            "counts": self.counts,
            "errors": len(errors),
            "seconds": self.times,
            "shuffle_partitions": int(self.spark.conf.get("spark.sql.shuffle.partitions")),
        }
        self.spark.createDataFrame([(json.dumps(summary),)], "value string").coalesce(1).write.mode(
            "overwrite"
        ).text(self.opts.out + "/summary")
        for e in errors:
            print("storyclust-spark: " + printable(e["message"]), file=sys.stderr)
        return summary


def bucket_pairs(texts):
    """Pairs of one LSH bucket, as a local run makes them: every pair in a
    bucket of up to 64 texts; in a larger one each text with the first and
    with its predecessor (texts in unsigned order)."""
    run = sorted(texts, key=lambda t: t & 0xFFFFFFFFFFFFFFFF)
    out = []
    if len(run) <= 64:
        for i in range(len(run)):
            for j in range(i + 1, len(run)):
                out.append((run[i], run[j]))
    else:
        for j in range(1, len(run)):
            out.append((run[0], run[j]))
            if j > 1:
                out.append((run[j - 1], run[j]))
    return out


def checksum(df: DataFrame):
    r = df.agg(
        F.count("*").alias("n"),
        F.sum(F.xxhash64("u", "v").cast("decimal(38,0)")).alias("s"),
    ).first()
    return (r.n, r.s)


def printable(s):
    """No raw control characters from file names reach a terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in s)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Find the stories in articles read by Spark, with the storyclust binary on the executors.",
        epilog="Options after -- go to `storyclust stage params` (e.g. -- --max-df 50 --seed 3).",
    )
    p.add_argument("inputs", nargs="*", help="folders (walked recursively) and files; any path Spark can read")
    p.add_argument("--input-list", help="a text file with one input path per line")
    p.add_argument("--out", required=True, help="output folder (stories/, errors/, summary/)")
    p.add_argument("--binary", default=shutil.which("storyclust") or "storyclust", help="the storyclust binary")
    p.add_argument("--ship-binary", action="store_true", help="ship the binary to the executors with the job")
    p.add_argument("--partitions", type=int, default=None, help="input partitions and spark.sql.shuffle.partitions")
    p.add_argument("--stage-threads", type=int, default=1, help="threads of each stage process (default 1: Spark runs one task per core)")
    p.add_argument("--master", help="Spark master when not run by spark-submit, e.g. local[2]")
    p.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Spark setting for a session this script starts (e.g. spark.driver.memory=6g)",
    )
    tuning = []
    if "--" in argv:
        at = argv.index("--")
        argv, tuning = argv[:at], argv[at + 1 :]
    args = p.parse_args(argv)
    args.tuning = tuning
    if args.input_list:
        with open(args.input_list, encoding="utf-8") as f:
            args.inputs += [l.rstrip("\n") for l in f if l.strip()]
    if not args.inputs:
        p.error("no input: give folders or files, or --input-list")
    return args


_SHIPPED = set()


def run_job(spark, args):
    """Runs one job in an existing session; returns its summary."""
    if __name__ != "__main__" and id(spark) not in _SHIPPED:
        # Imported as a module: the executors' Python workers import the
        # job's functions from it.
        spark.sparkContext.addPyFile(os.path.abspath(__file__))
        _SHIPPED.add(id(spark))
    # Articles are small files: Spark's default open cost (4 MiB a file)
    # would make a task of every 32 files; count them at 8 KiB, and a
    # partition of the input is a core's share of the bytes (3-6x faster
    # reading on Reuters-21578).
    spark.conf.set("spark.sql.files.openCostInBytes", str(8 << 10))
    # Listing many named files: a few listing tasks, not one per path.
    spark.conf.set(
        "spark.sql.sources.parallelPartitionDiscovery.parallelism",
        str(max(2, 2 * spark.sparkContext.defaultParallelism)),
    )
    if args.partitions:
        spark.conf.set("spark.sql.shuffle.partitions", str(args.partitions))
    else:
        args.partitions = int(spark.conf.get("spark.sql.shuffle.partitions"))
    if args.ship_binary:
        spark.sparkContext.addFile(args.binary)
    return Job(spark, args).run()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    builder = SparkSession.builder.appName("storyclust")
    if args.master:
        builder = builder.master(args.master)
    for kv in args.conf:
        key, _, value = kv.partition("=")
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    try:
        summary = run_job(spark, args)
    except JobError as e:
        print(f"storyclust-spark: {e}", file=sys.stderr)
        return 2
    finally:
        spark.stop()
    print(json.dumps(summary), file=sys.stderr)
    return 2 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
