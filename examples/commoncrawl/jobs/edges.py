#!/usr/bin/env python3
"""commoncrawl/edges: the deduplicated host-to-host links among one partition's nodes.

Partition "<crawl>|<seed set>", from pipes or, standalone, --partition. Reads the
commoncrawl/nodes output of the same partition (<output>/commoncrawl/nodes/<crawl>__<seed
set>/) and <input>/<crawl>/host-edges.txt.gz; keeps the links whose both ends are nodes, drops
self-links and merges repeats. Writes <output>/commoncrawl/edges/<crawl>__<seed set>/ as TSV
rows: src id, dst id, src host, dst host, links (how many raw link lines the edge merges).
A PySpark job (DataFrame API) when pyspark is importable, else the same computation in plain
Python; the rows and the data version are the same either way.
"""

import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ccgraph import (  # noqa: E402  (the helpers the three jobs share)
    JobError,
    join_path,
    output_dir,
    require,
    crawl_dir,
    split_key,
    split_fields,
    write_rows,
    write_dataframe,
    run,
)

ASSET = "commoncrawl/edges"
NODES_ASSET = "commoncrawl/nodes"
NODES_SCHEMA = "id LONG, host STRING, hops INT"


def edges_python(job, nodes_path, edges_path):
    """[(src, dst, src host, dst host, links)] sorted by (src, dst), and the node count."""
    hosts = {}
    for line in job.files.read_lines(nodes_path):
        vid, host = split_fields(line, 3, nodes_path)[:2]
        hosts[int(vid)] = host
    links = collections.Counter()
    for line in job.files.read_lines(edges_path):
        src, dst = (int(v) for v in split_fields(line, 2, edges_path)[:2])
        if src != dst and src in hosts and dst in hosts:
            links[(src, dst)] += 1
    rows = [(s, d, hosts[s], hosts[d], n) for (s, d), n in sorted(links.items())]
    return rows, len(hosts)


def edges_spark(job, nodes_path, edges_path):
    """The same as edges_python, as a DataFrame, and the node count."""
    from pyspark.sql import functions as F
    spark = job.spark
    nodes = spark.read.csv(nodes_path, sep="\t", schema=NODES_SCHEMA).cache()
    src = nodes.select(F.col("id").alias("src"), F.col("host").alias("src_host"))
    dst = nodes.select(F.col("id").alias("dst"), F.col("host").alias("dst_host"))
    edges = (spark.read.csv(edges_path, sep="\t", schema="src LONG, dst LONG")
             .where(F.col("src") != F.col("dst"))
             .join(src, "src").join(dst, "dst")
             .groupBy("src", "dst", "src_host", "dst_host")
             .agg(F.count(F.lit(1)).alias("links"))
             .orderBy("src", "dst"))
    return edges, nodes.count()


def build(job):
    crawl, seed_set = split_key(job.key, ["crawl", "seed set"])
    nodes_dir = output_dir(job.args.output, NODES_ASSET, job.key)
    if not job.files.exists(nodes_dir):
        raise JobError("%s has no output for %s (materialize it first): no %s"
                       % (NODES_ASSET, job.key, nodes_dir))
    nodes = job.read(nodes_dir)
    crawl_path = crawl_dir(job.files, job.args.input, crawl)
    edges = job.read(require(job.files, join_path(crawl_path, "host-edges.txt.gz"),
                             "host edges of %s" % crawl))
    if job.engine == "pyspark":
        result, node_count = edges_spark(job, nodes, edges)
        rows, version = write_dataframe(job, result)
    else:
        result, node_count = edges_python(job, nodes, edges)
        rows, version = write_rows(job, result)
    return rows, version, {"crawl": crawl, "seed_set": seed_set, "nodes": node_count}


if __name__ == "__main__":
    sys.exit(run(ASSET, __doc__.splitlines()[0], build))
