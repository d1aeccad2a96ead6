#!/usr/bin/env python3
"""Generates the synthetic Common Crawl host-graph sample in this directory.

Layout (the same shape as Common Crawl's host-level web graph releases, much smaller):

    seeds/seeds-a.txt, seeds/seeds-b.txt    one host name per line ("www.example.com")
    <crawl>/host-vertices.txt.gz             "<id>\\t<reversed host>" ("com.example.www"),
                                             ids 0..n-1 in order of the reversed name
    <crawl>/host-edges.txt.gz                "<from id>\\t<to id>", sorted; one line per
                                             page-level link projected to hosts, so the
                                             same pair repeats and self-links occur

Everything comes from one fixed seed, so running this again writes the same content.
`--check` regenerates in memory and compares with the files on disk (exit 1 on a
difference) without writing anything. Standard library only.
"""

import argparse
import gzip
import io
import os
import random
import sys

SEED = 20240610
CRAWLS = ["CC-MAIN-2024-10", "CC-MAIN-2024-18", "CC-MAIN-2024-22", "CC-MAIN-2024-26"]
CLUSTERS = 10            # topical communities; most links stay inside one
DOMAINS = 900            # registered domains in the whole universe
SEED_CLUSTERS = {"seeds-a": (0, 1), "seeds-b": (5, 6)}
SEEDS_PER_SET = 8

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ber", "dor", "fen", "gal",
             "har", "jun", "kor", "lin", "mar", "nor", "pol", "quin", "ros", "tal", "ven",
             "wal", "zen", "bright", "data", "green", "north", "open", "river", "stone"]
TLDS = ["com", "com", "com", "org", "net", "de", "at", "io", "fr", "co.uk", "edu", "info"]
SUBDOMAINS = ["www", "www", "blog", "shop", "news", "docs", "forum", "api"]


def make_universe(rng):
    """[(host, cluster, popularity, first crawl index)], sorted by host."""
    domains = set()
    while len(domains) < DOMAINS:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        domains.add("%s.%s" % (name, rng.choice(TLDS)))
    hosts = {}
    for domain in sorted(domains):
        cluster = rng.randrange(CLUSTERS)
        popularity = rng.paretovariate(1.3)  # a few hubs, a long tail
        born = 0 if rng.random() < 0.85 else rng.randint(1, len(CRAWLS) - 1)
        for sub in sorted(set(rng.sample(SUBDOMAINS, rng.randint(1, 3)))):
            hosts["%s.%s" % (sub, domain)] = (cluster, popularity * rng.uniform(0.3, 1.0), born)
    return [(h,) + hosts[h] for h in sorted(hosts)]


def reverse_host(host):
    return ".".join(reversed(host.split(".")))


def crawl_hosts(rng, universe, crawl_index):
    """The hosts present in one crawl: born by then, and not missed by this crawl."""
    return [u for u in universe if u[3] <= crawl_index and rng.random() < 0.92]


def crawl_links(rng, hosts):
    """Page-level links projected to hosts: [(from host, to host)], with repeats."""
    by_cluster = {}
    for h in hosts:
        by_cluster.setdefault(h[1], []).append(h)
    everyone = hosts
    weights = {c: [h[2] for h in members] for c, members in by_cluster.items()}
    all_weights = [h[2] for h in everyone]
    links = []
    for host, cluster, popularity, _ in hosts:
        degree = min(int(rng.expovariate(1 / 3.0) * min(popularity, 3.0)), 40)
        for _ in range(degree):
            if rng.random() < 0.8:
                target = rng.choices(by_cluster[cluster], weights[cluster])[0]
            else:
                target = rng.choices(everyone, all_weights)[0]
            for _ in range(1 + int(rng.expovariate(1.5))):  # several pages link the same way
                links.append((host, target[0]))
        if rng.random() < 0.1:
            links.append((host, host))  # intra-host links survive as self-loops
    return links


def crawl_files(rng, universe, crawl_index):
    """{relative path: bytes content} for one crawl."""
    hosts = crawl_hosts(rng, universe, crawl_index)
    names = sorted(reverse_host(h[0]) for h in hosts)
    ids = {reverse_host(name): i for i, name in enumerate(names)}
    vertices = "".join("%d\t%s\n" % (i, name) for i, name in enumerate(names))
    pairs = sorted((ids[a], ids[b]) for a, b in crawl_links(rng, hosts))
    edges = "".join("%d\t%d\n" % p for p in pairs)
    crawl = CRAWLS[crawl_index]
    return {crawl + "/host-vertices.txt.gz": vertices.encode("ascii"),
            crawl + "/host-edges.txt.gz": edges.encode("ascii")}


def seed_files(rng, universe):
    files = {}
    for name in sorted(SEED_CLUSTERS):
        candidates = [u for u in universe if u[1] in SEED_CLUSTERS[name] and u[3] == 0]
        candidates.sort(key=lambda u: -u[2])
        picked = sorted(u[0] for u in rng.sample(candidates[:60], SEEDS_PER_SET))
        body = "# %s: synthetic seed hosts (see README.md)\n" % name
        files["seeds/%s.txt" % name] = (body + "".join(h + "\n" for h in picked)).encode("ascii")
    return files


def all_files():
    rng = random.Random(SEED)
    universe = make_universe(rng)
    files = seed_files(rng, universe)
    for i in range(len(CRAWLS)):
        files.update(crawl_files(random.Random("%d/%s" % (SEED, CRAWLS[i])), universe, i))
    return files


def gzip_bytes(content):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as f:
        f.write(content)
    return buf.getvalue()


def read_content(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return f.read()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)),
                        help="directory to write into (default: this script's directory)")
    parser.add_argument("--check", action="store_true",
                        help="compare the files on disk with what would be generated")
    args = parser.parse_args(argv)
    files = all_files()
    if args.check:
        bad = [p for p, content in sorted(files.items())
               if not os.path.isfile(os.path.join(args.out, p))
               or read_content(os.path.join(args.out, p)) != content]
        for p in bad:
            print("differs: %s" % p, file=sys.stderr)
        print("%d of %d files match" % (len(files) - len(bad), len(files)))
        return 1 if bad else 0
    for path, content in sorted(files.items()):
        full = os.path.join(args.out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(gzip_bytes(content) if path.endswith(".gz") else content)
        print("wrote %s (%d bytes)" % (path, os.path.getsize(full)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
