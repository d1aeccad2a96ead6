#!/usr/bin/env python3
"""commoncrawl/summary: per-crawl graph statistics across the seed sets.

Partition "<crawl>", from pipes or, standalone, --partition. Reads the commoncrawl/nodes and
commoncrawl/edges outputs of every "<crawl>|<seed set>" partition (seed sets: --seed-sets, or
all lists in <input>/seeds/) and writes <output>/commoncrawl/summary/<crawl>/ as JSON lines:
one row per seed set and one for their union ("seed_set": "all"), each with node and edge
counts and the out- and in-degree distributions. A PySpark job (DataFrame API) when pyspark is
importable, else the same computation in plain Python; the rows and the data version are the
same either way.
"""

import collections
import functools
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ccgraph import (  # noqa: E402  (the helpers the three jobs share)
    JobError,
    join_path,
    output_dir,
    data_version,
    crawl_dir,
    split_key,
    split_fields,
    run,
)

ASSET = "commoncrawl/summary"
NODES_ASSET = "commoncrawl/nodes"
EDGES_ASSET = "commoncrawl/edges"
NODES_SCHEMA = "id LONG, host STRING, hops INT"
EDGES_SCHEMA = "src LONG, dst LONG, src_host STRING, dst_host STRING, links LONG"
ALL = "all"


def add_arguments(parser):
    parser.add_argument("--seed-sets", help="comma-separated seed sets to summarize "
                        "(default: every <input>/seeds/*.txt)")


def seed_sets(job):
    if job.args.seed_sets:
        names = [s.strip() for s in job.args.seed_sets.split(",") if s.strip()]
    else:
        seeds_dir = join_path(job.args.input, "seeds")
        names = [f[:-len(".txt")] for f in job.files.children(seeds_dir) if f.endswith(".txt")]
    if not names:
        raise JobError("no seed sets: none given and none in %s"
                       % join_path(job.args.input, "seeds"))
    return names


def upstream_dirs(job, crawl, seed_set):
    """(nodes dir, edges dir) of one "<crawl>|<seed set>" partition, which must exist."""
    key = "%s|%s" % (crawl, seed_set)
    dirs = []
    for asset in (NODES_ASSET, EDGES_ASSET):
        path = output_dir(job.args.output, asset, key)
        if not job.files.exists(path):
            raise JobError("%s has no output for %s (materialize it first): no %s"
                           % (asset, key, path))
        dirs.append(job.read(path))
    return dirs


def degree_stats(nodes, edges, histogram):
    """The JSON for one degree distribution, from [(degree, node count)]."""
    return {"max": max([d for d, _ in histogram] or [0]),
            "mean": round(float(edges) / nodes, 4) if nodes else 0.0,
            "histogram": [[d, c] for d, c in sorted(histogram)]}


def summary_row(crawl, seed_set, nodes, edges, out_hist, in_hist):
    return {"crawl": crawl, "seed_set": seed_set, "nodes": nodes, "edges": edges,
            "out_degree": degree_stats(nodes, edges, out_hist),
            "in_degree": degree_stats(nodes, edges, in_hist)}


# ---- python engine: a graph is (set of node ids, set of (src, dst)) ----

def python_graph(job, nodes_dir, edges_dir):
    ids = {int(split_fields(line, 3, nodes_dir)[0]) for line in job.files.read_lines(nodes_dir)}
    pairs = {tuple(int(v) for v in split_fields(line, 2, edges_dir)[:2])
             for line in job.files.read_lines(edges_dir)}
    return ids, pairs


def python_union(graphs):
    return set().union(*[g[0] for g in graphs]), set().union(*[g[1] for g in graphs])


def python_shared_nodes(graphs):
    return len(set.intersection(*[g[0] for g in graphs]))


def python_counts(graph):
    """(nodes, edges, out-degree histogram, in-degree histogram)."""
    ids, pairs = graph
    out_degree = collections.Counter(s for s, _ in pairs)
    in_degree = collections.Counter(d for _, d in pairs)
    out_hist = collections.Counter(out_degree.get(v, 0) for v in ids)
    in_hist = collections.Counter(in_degree.get(v, 0) for v in ids)
    return len(ids), len(pairs), list(out_hist.items()), list(in_hist.items())


# ---- pyspark engine: a graph is (DataFrame of id, DataFrame of src, dst) ----

def spark_graph(job, nodes_dir, edges_dir):
    spark = job.spark
    nodes = spark.read.csv(nodes_dir, sep="\t", schema=NODES_SCHEMA).select("id").distinct()
    edges = (spark.read.csv(edges_dir, sep="\t", schema=EDGES_SCHEMA)
             .select("src", "dst").distinct())
    return nodes.cache(), edges.cache()


def spark_union(graphs):
    nodes = functools.reduce(lambda a, b: a.unionByName(b), [g[0] for g in graphs])
    edges = functools.reduce(lambda a, b: a.unionByName(b), [g[1] for g in graphs])
    return nodes.distinct(), edges.distinct()


def spark_shared_nodes(graphs):
    return functools.reduce(lambda a, b: a.join(b, "id"), [g[0] for g in graphs]).count()


def spark_histogram(nodes, edges, end):
    """[(degree, node count)] of one end ("src": out-degree, "dst": in-degree)."""
    from pyspark.sql import functions as F
    degrees = edges.groupBy(end).agg(F.count(F.lit(1)).alias("degree"))
    rows = (nodes.join(degrees.withColumnRenamed(end, "id"), "id", "left")
            .fillna(0, subset=["degree"])
            .groupBy("degree").agg(F.count(F.lit(1)).alias("nodes")).collect())
    return [(int(r["degree"]), int(r["nodes"])) for r in rows]


def spark_counts(graph):
    nodes, edges = graph
    return (nodes.count(), edges.count(), spark_histogram(nodes, edges, "src"),
            spark_histogram(nodes, edges, "dst"))


def write_summary(job, lines):
    if job.engine == "pyspark":
        frame = job.spark.createDataFrame([(line,) for line in lines], "value STRING")
        frame.coalesce(1).write.mode("overwrite").text(job.output)
    else:
        job.files.write_lines(job.output, lines, name="part-00000.jsonl")


def build(job):
    (crawl,) = split_key(job.key, ["crawl"])
    crawl_dir(job.files, job.args.input, crawl)  # an unknown crawl fails here, clearly
    names = seed_sets(job)
    if job.engine == "pyspark":
        load, union, shared, counts = spark_graph, spark_union, spark_shared_nodes, spark_counts
    else:
        load, union, shared, counts = (python_graph, python_union, python_shared_nodes,
                                       python_counts)
    graphs = [load(job, *upstream_dirs(job, crawl, name)) for name in names]
    rows = [summary_row(crawl, name, *counts(g)) for name, g in zip(names, graphs)]
    rows.append(summary_row(crawl, ALL, *counts(union(graphs))))
    rows[-1]["shared_nodes"] = shared(graphs)
    lines = [json.dumps(row, sort_keys=True) for row in rows]
    write_summary(job, lines)
    return len(lines), data_version(lines), {
        "crawl": crawl, "seed_sets": ",".join(names), "nodes": rows[-1]["nodes"],
        "edges": rows[-1]["edges"], "shared_nodes": rows[-1]["shared_nodes"]}


if __name__ == "__main__":
    sys.exit(run(ASSET, __doc__.splitlines()[0], build, add_arguments=add_arguments))
