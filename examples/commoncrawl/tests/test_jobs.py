#!/usr/bin/env python3
"""Tests for the commoncrawl example jobs (jobs/nodes.py, edges.py, summary.py).

Each job runs as a subprocess on the sample data in data/, standalone (--partition) and once
under pipes; expected results are computed here, independently, from the sample files.
With pyspark importable (the project virtualenv) the jobs run on real Spark in local mode;
without it, on the pure-Python fallback (an error on CI). Run from anywhere:
.venv/bin/python examples/commoncrawl/tests/test_jobs.py

Size: by default (CI) SparkChainTest runs each job kind once on Spark (nodes and edges of
the first seed set, then the summary over both) and the other seed set's nodes and edges on
the python engine: 3 Spark runs. ARBITER_EXAMPLE_FULL=1 runs the documented full size, the
whole chain on Spark (5 Spark runs). Every check is the same at both sizes.
"""

import collections
import gzip
import json
import os
import subprocess
import sys
import tempfile
import unittest

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(os.path.dirname(PROJECT))
DATA = os.path.join(PROJECT, "data")
CLIENT = os.path.join(REPO, "clients", "python")
sys.path.insert(0, CLIENT)
import arbiter_pipes  # noqa: E402

CRAWL = "CC-MAIN-2024-18"
SEED_SETS = ["seeds-a", "seeds-b"]
HOPS = 2
# The seed sets whose nodes and edges SparkChainTest runs on Spark (see the docstring).
FULL = os.environ.get("ARBITER_EXAMPLE_FULL") == "1"
SPARK_SEED_SETS = SEED_SETS if FULL else SEED_SETS[:1]
# Spark's settings for short local runs (C1 JIT, serial GC, no UI), as the emulators use.
SPARK_CONF_DIR = os.path.join(REPO, "tools", "spark-conf")
try:
    import pyspark.sql  # noqa: F401
    HAVE_PYSPARK = True
except ImportError:
    # The pure-Python path is the documented fallback for machines without Spark. CI
    # (CI=true) runs on the project virtualenv, which has pyspark: falling back there
    # would mean the Spark path went untested, so it is an error.
    if os.environ.get("CI") == "true":
        sys.exit("test_jobs: pyspark is not importable by %s on CI; run with the project "
                 "virtualenv (.venv/bin/python, built by scripts/setup.sh)" % sys.executable)
    HAVE_PYSPARK = False


# ---- the expected graph, computed from the sample files ----

def read_gz_rows(path):
    with gzip.open(path, "rt") as f:
        return [line.split() for line in f if line.strip()]


def sample_crawl(crawl):
    """({id: host as "www.example.com"}, [(src, dst)] as in the file, repeats included)."""
    folder = os.path.join(DATA, crawl)
    hosts = {int(i): ".".join(name.split(".")[::-1])
             for i, name in read_gz_rows(os.path.join(folder, "host-vertices.txt.gz"))}
    links = [(int(a), int(b)) for a, b in read_gz_rows(os.path.join(folder, "host-edges.txt.gz"))]
    return hosts, links


def sample_seeds(seed_set):
    with open(os.path.join(DATA, "seeds", seed_set + ".txt")) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def expected_nodes(crawl, seed_set, hops):
    """{id: (host, distance)} by breadth-first search over out-links."""
    hosts, links = sample_crawl(crawl)
    by_host = {h: i for i, h in hosts.items()}
    successors = collections.defaultdict(list)
    for a, b in links:
        successors[a].append(b)
    distance = {by_host[h]: 0 for h in sample_seeds(seed_set) if h in by_host}
    queue = collections.deque(distance)
    while queue:
        v = queue.popleft()
        if distance[v] == hops:
            continue
        for w in successors[v]:
            if w not in distance:
                distance[w] = distance[v] + 1
                queue.append(w)
    return {v: (hosts[v], d) for v, d in distance.items()}


def expected_edges(crawl, node_ids):
    """{(src, dst): raw link count} among the nodes, without self-links."""
    _, links = sample_crawl(crawl)
    return collections.Counter((a, b) for a, b in links
                               if a != b and a in node_ids and b in node_ids)


# ---- running the jobs ----

def job_env(extra=None):
    """The environment without any pipes bootstrap and without PYTHONPATH, so the jobs must
    find arbiter_pipes through their fallback (the repository layout)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DAGSTER_PIPES") and k != "PYTHONPATH"}
    env.setdefault("SPARK_CONF_DIR", SPARK_CONF_DIR)
    env.update(extra or {})
    return env


def run_job(name, *args, env=None, cwd=PROJECT, engine="python"):
    """Runs a job on `engine` ("python", "pyspark", or None for the job's own choice). Most
    tests use the python engine, since each Spark run starts a JVM; SparkChainTest runs the
    chain on real Spark and compares it with the python engine's output."""
    cmd = [sys.executable, os.path.join(PROJECT, "jobs", name + ".py")] + list(args)
    if engine is not None:
        cmd += ["--engine", engine]
    return subprocess.run(cmd, cwd=cwd, env=env or job_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=600)


def run_ok(test, name, *args, **kwargs):
    """Runs a job that must succeed; returns its result line (the last line of stdout)."""
    proc = run_job(name, *args, **kwargs)
    test.assertEqual(proc.returncode, 0, "%s %s failed:\n%s" % (name, args, proc.stderr))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def chain_engines(crawl=CRAWL, engine="python"):
    """{(asset, key): engine} for the chain: on pyspark, only SPARK_SEED_SETS' nodes and
    edges (and the summary) run on Spark, the others on the python engine."""
    engines = {}
    for seed_set in SEED_SETS:
        key = "%s|%s" % (crawl, seed_set)
        for name in ("nodes", "edges"):
            engines[(name, key)] = engine if seed_set in SPARK_SEED_SETS else "python"
    engines[("summary", crawl)] = engine
    return engines


def run_chain(test, output, crawl=CRAWL, engine="python"):
    """nodes and edges for every seed set, then the summary: {(asset, key): result}."""
    results = {}
    for (name, key), job_engine in chain_engines(crawl, engine).items():
        results[(name, key)] = run_ok(test, name, "--partition", key, "--output", output,
                                      engine=job_engine)
    return results


def data_files(directory):
    """The output's data files: not Hadoop's _SUCCESS marker or hidden .crc checksums."""
    return [os.path.join(directory, name) for name in sorted(os.listdir(directory))
            if not name.startswith(("_", "."))]


def read_part_rows(directory):
    rows = []
    for path in data_files(directory):
        with open(path) as f:
            rows += [line.rstrip("\n").split("\t") for line in f if line.strip()]
    return rows


def raw(metadata, name):
    """A metadata value as the job passed it (plain, or {"raw_value", "type"})."""
    value = metadata[name]
    return value["raw_value"] if isinstance(value, dict) and "raw_value" in value else value


class ChainTest(unittest.TestCase):
    """One standalone run of the whole chain for CRAWL, checked against the sample data."""

    ENGINE = "python"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="cc-jobs-")
        cls.output = os.path.join(cls.tmp.name, "out")
        cls.results = run_chain(unittest.TestCase(), cls.output, engine=cls.ENGINE)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def part_dir(self, asset, key):
        return os.path.join(self.output, "commoncrawl", asset, key.replace("|", "__"))

    def node_rows(self, seed_set):
        rows = read_part_rows(self.part_dir("nodes", "%s|%s" % (CRAWL, seed_set)))
        return {int(i): (host, int(hops)) for i, host, hops in rows}

    def edge_rows(self, seed_set):
        return read_part_rows(self.part_dir("edges", "%s|%s" % (CRAWL, seed_set)))

    def test_nodes_are_the_hosts_within_n_hops(self):
        for seed_set in SEED_SETS:
            nodes = self.node_rows(seed_set)
            expected = expected_nodes(CRAWL, seed_set, HOPS)
            self.assertEqual(nodes, expected, seed_set)
            self.assertGreater(len(nodes), 50)  # the sample makes a non-trivial graph
            self.assertLess(len(nodes), len(sample_crawl(CRAWL)[0]) / 2)
            meta = self.results[("nodes", "%s|%s" % (CRAWL, seed_set))]["metadata"]
            self.assertEqual(meta["arbiter/row_count"], len(expected))
            self.assertEqual(meta["seeds_in_crawl"], sum(1 for d in expected.values() if d[1] == 0))

    def test_edges_are_deduplicated_links_among_nodes(self):
        for seed_set in SEED_SETS:
            nodes = self.node_rows(seed_set)
            rows = self.edge_rows(seed_set)
            edges = {(int(s), int(d)): int(n) for s, d, _, _, n in rows}
            self.assertEqual(len(edges), len(rows), "duplicate edges")
            self.assertEqual(edges, dict(expected_edges(CRAWL, set(nodes))))
            for s, d, src_host, dst_host, _ in rows:
                self.assertIn(int(s), nodes)
                self.assertIn(int(d), nodes)
                self.assertNotEqual(s, d)
                self.assertEqual((src_host, dst_host), (nodes[int(s)][0], nodes[int(d)][0]))
            self.assertTrue(any(n > 1 for n in edges.values()), "no repeated links merged")
            meta = self.results[("edges", "%s|%s" % (CRAWL, seed_set))]["metadata"]
            self.assertEqual(meta["arbiter/row_count"], len(rows))
            self.assertEqual(meta["nodes"], len(nodes))

    def test_summary_agrees_with_nodes_and_edges(self):
        (part,) = data_files(self.part_dir("summary", CRAWL))  # one file, whatever its name
        with open(part) as f:
            rows = {r["seed_set"]: r for r in map(json.loads, f)}
        self.assertEqual(sorted(rows), sorted(SEED_SETS + ["all"]))
        graphs = {}
        for seed_set in SEED_SETS:
            ids = set(self.node_rows(seed_set))
            pairs = {(int(r[0]), int(r[1])) for r in self.edge_rows(seed_set)}
            graphs[seed_set] = (ids, pairs)
        graphs["all"] = (set.union(*[g[0] for g in graphs.values()]),
                         set.union(*[g[1] for g in graphs.values()]))
        for name, (ids, pairs) in graphs.items():
            row = rows[name]
            self.assertEqual((row["crawl"], row["nodes"], row["edges"]),
                             (CRAWL, len(ids), len(pairs)), name)
            for key, end in (("out_degree", 0), ("in_degree", 1)):
                degree = collections.Counter(p[end] for p in pairs)
                histogram = collections.Counter(degree[v] for v in ids)
                self.assertEqual(row[key]["histogram"], sorted(map(list, histogram.items())))
                self.assertEqual(sum(c for _, c in row[key]["histogram"]), len(ids))
                self.assertEqual(sum(d * c for d, c in row[key]["histogram"]), len(pairs))
                self.assertEqual(row[key]["max"], max(histogram))
        shared = set.intersection(*[graphs[s][0] for s in SEED_SETS])
        self.assertEqual(rows["all"]["shared_nodes"], len(shared))
        meta = self.results[("summary", CRAWL)]["metadata"]
        self.assertEqual((meta["nodes"], meta["edges"], meta["arbiter/row_count"]),
                         (len(graphs["all"][0]), len(graphs["all"][1]), 3))

    def test_metadata_bytes_paths_and_engine(self):
        key = "%s|seeds-a" % CRAWL
        meta = self.results[("nodes", key)]["metadata"]
        inputs = [os.path.join(DATA, CRAWL, "host-vertices.txt.gz"),
                  os.path.join(DATA, CRAWL, "host-edges.txt.gz"),
                  os.path.join(DATA, "seeds", "seeds-a.txt")]
        self.assertEqual(meta["arbiter/input_bytes"], sum(map(os.path.getsize, inputs)))
        out = raw(meta, "arbiter/output_path")
        self.assertEqual(os.path.realpath(out), os.path.realpath(self.part_dir("nodes", key)))
        self.assertEqual(meta["arbiter/output_bytes"], sum(map(os.path.getsize, data_files(out))))
        self.assertEqual(meta["arbiter/engine"], self.ENGINE)
        self.assertEqual(meta["partition"], key)
        for job, engine in chain_engines(CRAWL, self.ENGINE).items():
            self.assertEqual(self.results[job]["metadata"]["arbiter/engine"], engine, job)
        for result in self.results.values():
            self.assertRegex(result["data_version"], "^[0-9a-f]{16}$")
            self.assertGreater(result["metadata"]["arbiter/input_bytes"], 0)
            self.assertGreater(result["metadata"]["arbiter/output_bytes"], 0)

    def test_data_version_is_deterministic(self):
        with tempfile.TemporaryDirectory(prefix="cc-jobs-again-") as again:
            second = run_chain(self, again)
        for key, result in self.results.items():
            self.assertEqual(result["data_version"], second[key]["data_version"], key)
        versions = [r["data_version"] for r in self.results.values()]
        self.assertEqual(len(set(versions)), len(versions), "different outputs, same version")


@unittest.skipUnless(HAVE_PYSPARK, "pyspark is not importable (the pure-Python fallback only)")
class SparkChainTest(ChainTest):
    """The same chain on real Apache Spark (local mode; each job kind at least once, every
    job with ARBITER_EXAMPLE_FULL=1): every check above, and the same rows as the python
    engine, shown by equal data versions (an order-independent hash of the rows that each
    engine computes its own way)."""

    ENGINE = "pyspark"

    def test_data_version_is_deterministic(self):
        with tempfile.TemporaryDirectory(prefix="cc-jobs-python-") as other:
            python = run_chain(self, other, engine="python")
        for key, result in self.results.items():
            self.assertEqual(result["data_version"], python[key]["data_version"], key)
            self.assertEqual(result["metadata"]["arbiter/row_count"],
                             python[key]["metadata"]["arbiter/row_count"], key)


class OptionsAndErrorsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="cc-jobs-err-")
        self.output = os.path.join(self.tmp.name, "out")

    def tearDown(self):
        self.tmp.cleanup()

    def assertFails(self, message, name, *args):
        proc = run_job(name, *args)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(message, proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)

    def test_bad_input(self):
        key = "%s|seeds-a" % CRAWL
        out = ["--output", self.output]
        self.assertFails("input not found", "nodes", "--partition", key,
                         "--input", os.path.join(self.tmp.name, "missing"), *out)
        self.assertFails("unknown crawl 'CC-MAIN-1999-01'", "nodes",
                         "--partition", "CC-MAIN-1999-01|seeds-a", *out)
        self.assertFails("unknown crawl", "summary", "--partition", "CC-MAIN-1999-01", *out)
        self.assertFails("unknown seed set 'seeds-z'", "nodes",
                         "--partition", "%s|seeds-z" % CRAWL, *out)
        self.assertFails("not of the form crawl|seed set", "nodes", "--partition", CRAWL, *out)
        self.assertFails("no partition key", "nodes", *out)
        self.assertFails("materialize it first", "edges", "--partition", key, *out)
        self.assertFails("materialize it first", "summary", "--partition", CRAWL, *out)

    def test_missing_and_corrupt_input_file(self):
        data = os.path.join(self.tmp.name, "data")
        os.makedirs(os.path.join(data, CRAWL))
        os.makedirs(os.path.join(data, "seeds"))
        with open(os.path.join(data, "seeds", "seeds-a.txt"), "w") as f:
            f.write("www.example.com\n")
        args = ["--partition", "%s|seeds-a" % CRAWL, "--input", data, "--output", self.output]
        self.assertFails("host vertices of %s not found" % CRAWL, "nodes", *args)
        for name in ("host-vertices.txt.gz", "host-edges.txt.gz"):
            with open(os.path.join(data, CRAWL, name), "wb") as f:
                f.write(b"this is not gzip")
        self.assertFails("cannot read", "nodes", *args)

    def test_hops_and_defaults_relative_to_the_working_directory(self):
        os.symlink(DATA, os.path.join(self.tmp.name, "data"))
        key = "%s|seeds-b" % CRAWL
        result = run_ok(self, "nodes", "--partition", key, "--hops", "0", cwd=self.tmp.name)
        part = os.path.join(self.tmp.name, ".arbiter", "output", "commoncrawl", "nodes",
                            key.replace("|", "__"), "part-00000.tsv")
        with open(part) as f:
            hops = [line.split("\t")[2].strip() for line in f]
        self.assertEqual(hops, ["0"] * result["metadata"]["seeds_in_crawl"])
        self.assertEqual(len(hops), len(expected_nodes(CRAWL, "seeds-b", 0)))

    def test_engine_choice_is_logged(self):
        key = "%s|seeds-a" % CRAWL
        proc = run_job("nodes", "--partition", key, "--output", self.output, "--engine", "python")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("engine: python (--engine python)", proc.stderr)
        if not HAVE_PYSPARK:
            proc = run_job("nodes", "--partition", key, "--output", self.output, engine=None)
            self.assertIn("engine: python (pyspark not installed)", proc.stderr)
            self.assertFails("pyspark is not importable", "nodes", "--partition", key,
                             "--output", self.output, "--engine", "pyspark")


class PipesTest(unittest.TestCase):
    """A launch the way Arbiter does it: bootstrap in the environment, messages to a file."""

    def launch(self, asset, partition, output, *args):
        messages = os.path.join(output, "messages.jsonl")
        context = {
            "asset_keys": [asset], "code_version_by_asset_key": {asset: "3"},
            "provenance_by_asset_key": {asset: None}, "partition_key": partition,
            "partition_key_range": {"start": partition, "end": partition},
            "partition_time_window": None, "run_id": "test-run", "job_name": None,
            "retry_number": 0, "extras": {},
        }
        env = job_env({
            "DAGSTER_PIPES_CONTEXT": arbiter_pipes.encode_param({"data": context}),
            "DAGSTER_PIPES_MESSAGES": arbiter_pipes.encode_param({"path": messages}),
            "PYTHONPATH": CLIENT,  # as the local runtime sets it
        })
        proc = run_job(asset.split("/")[1], "--output", output, *args, env=env)
        with open(messages) as f:
            return proc, [json.loads(line) for line in f]

    def test_materialization_carries_the_metadata(self):
        with tempfile.TemporaryDirectory(prefix="cc-jobs-pipes-") as tmp:
            key = "%s|seeds-b" % CRAWL
            proc, messages = self.launch("commoncrawl/nodes", key, tmp)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            methods = [m["method"] for m in messages]
            self.assertEqual(methods[0], "opened")
            self.assertEqual(methods[-1], "closed")
            self.assertNotIn("exception", messages[-1]["params"])
            logs = [m["params"]["message"] for m in messages if m["method"] == "log"]
            self.assertIn("engine: python (--engine python)", logs)
            (mat,) = [m["params"] for m in messages
                      if m["method"] == "report_asset_materialization"]
            self.assertEqual(mat["asset_key"], "commoncrawl/nodes")
            meta = {k: v["raw_value"] for k, v in mat["metadata"].items()}
            self.assertEqual(mat["metadata"]["arbiter/output_path"]["type"], "path")
            self.assertEqual(meta["partition"], key)
            self.assertEqual(meta["arbiter/row_count"], len(expected_nodes(CRAWL, "seeds-b", 2)))
            self.assertEqual(meta["arbiter/engine"], "python")
            for name in ("arbiter/input_bytes", "arbiter/output_bytes"):
                self.assertGreater(meta[name], 0)
            # the same partition run standalone gives the same content, hence the same version
            alone = run_ok(self, "nodes", "--partition", key, "--output",
                           os.path.join(tmp, "alone"))
            self.assertEqual(mat["data_version"], alone["data_version"])
            self.assertEqual(meta["arbiter/row_count"], alone["metadata"]["arbiter/row_count"])

    def test_failure_is_reported_in_closed(self):
        with tempfile.TemporaryDirectory(prefix="cc-jobs-pipes-") as tmp:
            proc, messages = self.launch("commoncrawl/nodes", "CC-MAIN-1999-01|seeds-a", tmp)
            self.assertEqual(proc.returncode, 1)
            self.assertIn("unknown crawl", proc.stderr)
            self.assertEqual(messages[-1]["method"], "closed")
            self.assertIn("unknown crawl", messages[-1]["params"]["exception"]["message"])
            self.assertNotIn("report_asset_materialization", [m["method"] for m in messages])


class ProjectFilesTest(unittest.TestCase):
    def test_jobs_share_one_helper_module(self):
        # The helpers live once, in jobs/ccgraph.py, and every job imports them from there.
        for name in ("nodes", "edges", "summary"):
            with open(os.path.join(PROJECT, "jobs", name + ".py")) as f:
                text = f.read()
            self.assertIn("from ccgraph import", text)
            self.assertNotIn("def run(", text)

    def test_sample_data_is_reproducible_and_small(self):
        proc = subprocess.run([sys.executable, os.path.join(DATA, "generate.py"), "--check"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        total = sum(os.path.getsize(os.path.join(d, f))
                    for d, _, names in os.walk(DATA) for f in names)
        self.assertLess(total, 300 * 1024)


if __name__ == "__main__":
    unittest.main()
