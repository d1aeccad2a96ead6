#!/usr/bin/env python3
"""commoncrawl/summary for one partition.

Runs under Arbiter (or Dagster) pipes: the partition key ("<crawl>|<seed set>"
or "<crawl>") arrives in the pipes context. Without pipes it runs standalone.
"""
import sys

try:
    import arbiter_pipes  # clients/python in the Arbiter repository
except ImportError:
    arbiter_pipes = None


def main():
    if arbiter_pipes is None:
        print("commoncrawl/summary: arbiter_pipes not importable; nothing to report")
        return 0
    with arbiter_pipes.open_pipes() as pipes:
        pipes.log.info("building commoncrawl/summary for partition %s" % pipes.partition_key)
        pipes.report_asset_materialization(metadata={"partition": pipes.partition_key})
    return 0


if __name__ == "__main__":
    sys.exit(main())
