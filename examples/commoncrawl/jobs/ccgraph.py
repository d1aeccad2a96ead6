"""Helpers the Common Crawl example jobs share: arguments, pipes (or a standalone stand-in),
engine choice, file access (local or Hadoop), partition keys, output and data versions.

Each job puts its own directory on sys.path before importing this module, so the jobs run
from any working directory. A cluster runtime ships this file next to the job script.
"""

import argparse
import contextlib
import gzip
import hashlib
import json
import os
import shutil
import sys


DEFAULT_INPUT = "data"
DEFAULT_OUTPUT = ".arbiter/output"
KEY_DIR_SEP = "__"  # partition "CC-MAIN-2024-10|seeds-a" -> directory "CC-MAIN-2024-10__seeds-a"
PIPES_FLAGS = ("--dagster-pipes-context", "--dagster-pipes-messages")


class JobError(Exception):
    """Bad input or arguments: reported in one line, exit code 1."""


def load_pipes_module():
    """arbiter_pipes from the path, else from this repository's clients/python, else None."""
    try:
        import arbiter_pipes
        return arbiter_pipes
    except ImportError:
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    client_dir = os.path.normpath(os.path.join(here, "..", "..", "..", "clients", "python"))
    if not os.path.isfile(os.path.join(client_dir, "arbiter_pipes.py")):
        return None
    sys.path.insert(0, client_dir)
    import arbiter_pipes
    return arbiter_pipes


class StandaloneContext(object):
    """Stands in for the pipes context when arbiter_pipes cannot be imported at all."""

    class _Log(object):
        def __getattr__(self, level):
            def log(msg, *args):
                sys.stderr.write("%s %s\n" % (level.upper(), (msg % args) if args else msg))
            return log

    log = _Log()
    extras = {}

    @property
    def partition_key(self):
        raise JobError("not launched under pipes")

    def report_asset_materialization(self, metadata=None, data_version=None, asset_key=None):
        pass


def open_pipes():
    module = load_pipes_module()
    return module.open_pipes() if module else contextlib.nullcontext(StandaloneContext())


def parse_args(argv, description, add_arguments=None):
    """The common arguments plus the job's own; pipes bootstrap flags are skipped."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--input", default=DEFAULT_INPUT,
                        help="sample or crawl data (default: %(default)s)")
    parser.add_argument("--output", default=DEFAULT_OUTPUT,
                        help="root of the asset outputs (default: %(default)s)")
    parser.add_argument("--partition", help="partition key, when not launched under pipes")
    parser.add_argument("--engine", choices=("auto", "pyspark", "python"), default="auto",
                        help="auto: pyspark when importable, else python (default)")
    if add_arguments:
        add_arguments(parser)
    argv = list(sys.argv[1:] if argv is None else argv)
    kept = []
    while argv:
        arg = argv.pop(0)
        if arg in PIPES_FLAGS:
            argv = argv[1:]  # its value: read by arbiter_pipes, not by us
        else:
            kept.append(arg)
    return parser.parse_args(kept)


def resolve_partition(pipes, given):
    """The key from pipes, else --partition; both given must agree."""
    try:
        from_pipes = pipes.partition_key
    except Exception:  # a standalone run, or a pipes launch without a single partition
        from_pipes = None
    if from_pipes and given and from_pipes != given:
        raise JobError("--partition %r disagrees with the pipes partition key %r"
                       % (given, from_pipes))
    if not (from_pipes or given):
        raise JobError("no partition key: launch under Arbiter (pipes) or pass --partition")
    return from_pipes or given


def choose_engine(requested):
    """("pyspark" or "python", the line that says why)."""
    if requested == "python":
        return "python", "engine: python (--engine python)"
    try:
        import pyspark.sql  # noqa: F401
    except ImportError:
        if requested == "pyspark":
            raise JobError("--engine pyspark, but pyspark is not importable")
        return "python", "engine: python (pyspark not installed)"
    return "pyspark", "engine: pyspark"


def join_path(base, *parts):
    """Joins with "/" so that s3://, dbfs:/ and local paths all work."""
    return "/".join([base.rstrip("/")] + [p.strip("/") for p in parts])


def output_dir(output_root, asset, key):
    return join_path(output_root, asset, key.replace("|", KEY_DIR_SEP))


def version_string(count, digest_sum):
    return hashlib.sha256(("%d:%d" % (count, digest_sum)).encode("ascii")).hexdigest()[:16]


def data_version(lines):
    """An order-independent hash of the output rows (TSV lines without the newline): the same
    rows give the same version whatever the engine, the part files or their order."""
    count, digest_sum = 0, 0
    for line in lines:
        count += 1
        digest_sum += int(hashlib.sha256(line.encode("utf-8")).hexdigest()[:12], 16)
    return version_string(count, digest_sum)


def spark_data_version(df):
    """data_version() computed by Spark over a DataFrame's rows, without collecting them."""
    from pyspark.sql import functions as F
    line = F.concat_ws("\t", *[F.col(c).cast("string") for c in df.columns])
    digest = F.conv(F.substring(F.sha2(line, 256), 1, 12), 16, 10).cast("decimal(38,0)")
    row = df.agg(F.count(F.lit(1)).alias("n"), F.sum(digest).alias("s")).first()
    return version_string(row["n"], int(row["s"] or 0))


class LocalFiles(object):
    """File access for the python engine: local paths only."""

    def check(self, path):
        if "://" in path or path.startswith("dbfs:"):
            raise JobError("the python engine reads and writes local paths only: %s" % path)

    def exists(self, path):
        self.check(path)
        return os.path.exists(path)

    def children(self, path):
        return sorted(os.listdir(path)) if os.path.isdir(path) else []

    def size(self, path):
        if os.path.isfile(path):
            return os.path.getsize(path)
        return sum(os.path.getsize(os.path.join(d, f))
                   for d, _, names in os.walk(path) for f in names)

    def data_files(self, path):
        """A file, or the part files of an output directory (not _SUCCESS, .crc, ...)."""
        if os.path.isfile(path):
            return [path]
        return [os.path.join(path, f) for f in self.children(path)
                if not f.startswith(("_", "."))]

    def read_lines(self, path):
        for name in self.data_files(path):
            opener = gzip.open if name.endswith(".gz") else open
            try:
                with opener(name, "rt", encoding="utf-8") as f:
                    for line in f:
                        line = line.rstrip("\n")
                        if line:
                            yield line
            except (OSError, EOFError, UnicodeDecodeError) as e:
                raise JobError("cannot read %s: %s" % (name, e))

    def write_lines(self, directory, lines, name="part-00000.tsv"):
        """Replaces the directory with one part file holding the lines."""
        self.check(directory)
        if os.path.isdir(directory):
            shutil.rmtree(directory)
        os.makedirs(directory)
        tmp = os.path.join(directory, "." + name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in lines)
        os.replace(tmp, os.path.join(directory, name))


class HadoopFiles(object):
    """File access for the pyspark engine, through Hadoop's FileSystem (local, S3, DBFS)."""

    def __init__(self, spark):
        self._spark = spark

    def _fs(self, path):
        p = self._spark._jvm.org.apache.hadoop.fs.Path(path)
        return p.getFileSystem(self._spark._jsc.hadoopConfiguration()), p

    def exists(self, path):
        fs, p = self._fs(path)
        return fs.exists(p)

    def children(self, path):
        fs, p = self._fs(path)
        if not fs.exists(p):
            return []
        return sorted(s.getPath().getName() for s in fs.listStatus(p))

    def size(self, path):
        fs, p = self._fs(path)
        return fs.getContentSummary(p).getLength()


def require(files, path, what):
    if not files.exists(path):
        raise JobError("%s not found: %s" % (what, path))
    return path


def crawl_dir(files, input_root, crawl):
    """<input>/<crawl>, or an error that lists the crawls the input has."""
    path = join_path(input_root, crawl)
    if not files.exists(input_root):
        raise JobError("input not found: %s" % input_root)
    if not files.exists(path):
        known = [c for c in files.children(input_root) if c.startswith("CC-MAIN-")]
        raise JobError("unknown crawl %r: no %s (the input has: %s)"
                       % (crawl, path, ", ".join(known) or "none"))
    return path


def seeds_file(files, input_root, seed_set):
    path = join_path(input_root, "seeds", seed_set + ".txt")
    if not files.exists(path):
        raise JobError("unknown seed set %r: no %s" % (seed_set, path))
    return path


def split_key(key, parts):
    """"crawl|seed set" -> [crawl, seed set], checking the number of dimensions."""
    values = key.split("|")
    if len(values) != len(parts) or not all(values):
        raise JobError("partition key %r is not of the form %s" % (key, "|".join(parts)))
    return values


def split_fields(line, count, path):
    fields = line.split("\t")
    if len(fields) < count:
        raise JobError("%s: expected %d tab-separated fields, got %r" % (path, count, line))
    return fields


def write_rows(job, rows):
    """Python engine: writes the rows as TSV; returns (row count, data version)."""
    lines = ["\t".join(str(value) for value in row) for row in rows]
    job.files.write_lines(job.output, lines)
    return len(lines), data_version(lines)


def write_dataframe(job, df):
    """PySpark engine: writes df as TSV part files, then counts and versions what was written."""
    df.write.mode("overwrite").csv(job.output, sep="\t")
    written = job.spark.read.csv(job.output, sep="\t", schema=df.schema)
    return written.count(), spark_data_version(written)


def start_spark(app_name):
    """The Spark session. In local mode (a laptop, CI, the emulators) the default of 200
    shuffle partitions turns each small step into hundreds of tasks; there, unless the
    submitter set it, use one per core. The console progress bar is off: its carriage
    returns would end up in the run's captured output."""
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.appName(app_name)
             .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    context = spark.sparkContext
    if (context.master.startswith("local")
            and not context.getConf().contains("spark.sql.shuffle.partitions")):
        spark.conf.set("spark.sql.shuffle.partitions", str(context.defaultParallelism))
    return spark


class Job(object):
    """One run: arguments, partition, engine, file access and (for pyspark) the session."""

    def __init__(self, asset, args, pipes, key, engine):
        self.asset, self.args, self.pipes, self.key, self.engine = asset, args, pipes, key, engine
        self.spark = None
        self.files = LocalFiles()
        if engine == "pyspark":
            self.spark = start_spark("%s %s" % (asset, key))
            self.files = HadoopFiles(self.spark)
        self.output = output_dir(args.output, asset, key)
        self.input_paths = []

    def read(self, path):
        """Notes a path as read (for arbiter/input_bytes) and returns it."""
        self.input_paths.append(path)
        return path


def run(asset, description, build, argv=None, add_arguments=None):
    """Runs build(job) -> (rows, data_version, extra metadata) under pipes; returns the exit
    code. The metadata goes to the orchestrator and, as one JSON line, to stdout."""
    args = parse_args(argv, description, add_arguments)
    try:
        with open_pipes() as pipes:
            key = resolve_partition(pipes, args.partition)
            engine, why = choose_engine(args.engine)
            pipes.log.info(why)
            job = Job(asset, args, pipes, key, engine)
            rows, version, extra = build(job)
            metadata = {
                "arbiter/row_count": rows,
                "arbiter/input_bytes": sum(job.files.size(p) for p in job.input_paths),
                "arbiter/output_bytes": job.files.size(job.output),
                "arbiter/output_path": {"raw_value": job.output, "type": "path"},
                "arbiter/engine": engine,
                "partition": key,
            }
            metadata.update(extra)
            pipes.log.info("%s %s: %d rows in %s" % (asset, key, rows, job.output))
            pipes.report_asset_materialization(metadata=metadata, data_version=version)
            print(json.dumps({"asset": asset, "partition": key, "data_version": version,
                              "metadata": metadata}, sort_keys=True), flush=True)
    except JobError as e:
        sys.stderr.write("%s: error: %s\n" % (asset, e))
        return 1
    return 0
