#!/usr/bin/env python3
"""commoncrawl/nodes: the hosts reachable from a seed set within N hops in one crawl.

Partition "<crawl>|<seed set>", from pipes or, standalone, --partition. Reads
<input>/<crawl>/host-vertices.txt.gz, <input>/<crawl>/host-edges.txt.gz and
<input>/seeds/<seed set>.txt; follows links outward from the seeds found in the crawl and
writes <output>/commoncrawl/nodes/<crawl>__<seed set>/ as TSV rows: id, host, hops (0 for a
seed). A PySpark job (DataFrame API) when pyspark is importable, else the same computation in
plain Python; the rows and the data version are the same either way.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ccgraph import (  # noqa: E402  (the helpers the three jobs share)
    JobError,
    join_path,
    require,
    crawl_dir,
    seeds_file,
    split_key,
    split_fields,
    write_rows,
    write_dataframe,
    run,
)

ASSET = "commoncrawl/nodes"
DEFAULT_HOPS = 2


def add_arguments(parser):
    parser.add_argument("--hops", type=int, default=DEFAULT_HOPS,
                        help="links to follow from the seeds (default: %(default)s)")


def unreverse_host(name):
    """Common Crawl's "com.example.www" -> "www.example.com"."""
    return ".".join(reversed(name.split(".")))


def nodes_python(job, vertices_path, edges_path, seeds_path, hops):
    """[(id, host, hops)] sorted by id, and the seeds found in the crawl."""
    hosts = {}
    for line in job.files.read_lines(vertices_path):
        vid, name = split_fields(line, 2, vertices_path)[:2]
        hosts[int(vid)] = unreverse_host(name)
    out_links = {}
    for line in job.files.read_lines(edges_path):
        src, dst = (int(v) for v in split_fields(line, 2, edges_path)[:2])
        if src != dst:
            out_links.setdefault(src, set()).add(dst)
    seeds = {"".join(line.split()) for line in job.files.read_lines(seeds_path)}
    seeds.discard("")
    ids = {host: vid for vid, host in hosts.items()}
    frontier = {ids[h] for h in seeds if not h.startswith("#") and h in ids}
    reached = dict.fromkeys(frontier, 0)
    for hop in range(1, hops + 1):
        frontier = {d for v in frontier for d in out_links.get(v, ())} - reached.keys()
        reached.update(dict.fromkeys(frontier, hop))
    rows = [(v, hosts[v], reached[v]) for v in sorted(reached) if v in hosts]
    return rows, sum(1 for v in reached.values() if v == 0)


def nodes_spark(job, vertices_path, edges_path, seeds_path, hops):
    """The same as nodes_python, as a DataFrame, and the seeds found in the crawl."""
    from pyspark.sql import functions as F
    spark = job.spark
    vertices = (spark.read.csv(vertices_path, sep="\t", schema="id LONG, name STRING")
                .select("id", F.array_join(F.reverse(F.split("name", r"\.")), ".")
                        .alias("host")))
    links = (spark.read.csv(edges_path, sep="\t", schema="src LONG, dst LONG")
             .where(F.col("src") != F.col("dst")).distinct().cache())
    seeds = (spark.read.text(seeds_path)
             .select(F.regexp_replace("value", r"\s+", "").alias("host"))
             .where((F.col("host") != "") & ~F.col("host").startswith("#")).distinct())
    frontier = vertices.join(seeds, "host").select("id").cache()
    seeds_found = frontier.count()
    reached = frontier.withColumn("hops", F.lit(0))
    for hop in range(1, hops + 1):
        frontier = (frontier.withColumnRenamed("id", "src").join(links, "src")
                    .select(F.col("dst").alias("id")).distinct()
                    .join(reached, "id", "left_anti").cache())
        reached = reached.unionByName(frontier.withColumn("hops", F.lit(hop)))
    nodes = reached.join(vertices, "id").select("id", "host", "hops").orderBy("id")
    return nodes, seeds_found


def build(job):
    crawl, seed_set = split_key(job.key, ["crawl", "seed set"])
    hops = job.args.hops
    if hops < 0:
        raise JobError("--hops must be 0 or more, got %d" % hops)
    crawl_path = crawl_dir(job.files, job.args.input, crawl)
    vertices = job.read(require(job.files, join_path(crawl_path, "host-vertices.txt.gz"),
                                "host vertices of %s" % crawl))
    edges = job.read(require(job.files, join_path(crawl_path, "host-edges.txt.gz"),
                             "host edges of %s" % crawl))
    seeds = job.read(seeds_file(job.files, job.args.input, seed_set))
    if job.engine == "pyspark":
        nodes, seeds_found = nodes_spark(job, vertices, edges, seeds, hops)
        rows, version = write_dataframe(job, nodes)
    else:
        nodes, seeds_found = nodes_python(job, vertices, edges, seeds, hops)
        rows, version = write_rows(job, nodes)
    if seeds_found == 0:
        job.pipes.log.warning("no host of %s is in %s" % (seed_set, crawl))
    return rows, version, {"crawl": crawl, "seed_set": seed_set, "hops": hops,
                           "seeds_in_crawl": seeds_found}


if __name__ == "__main__":
    sys.exit(run(ASSET, __doc__.splitlines()[0], build, add_arguments=add_arguments))
