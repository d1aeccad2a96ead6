"""Placeholder Spark job of a generated trace project: `arbiter simulate`
replays the trace and never runs it."""
import sys

sys.exit("simulation only: this asset exists to be replayed by arbiter simulate")
