"""Succeeds: a line on stdout and one on stderr, one materialization with metadata."""
import sys
import time

import arbiter_pipes
from conformance_job import start

args = start()
with arbiter_pipes.open_pipes() as pipes:
    print("hello from the conformance job", flush=True)
    print("a warning on stderr", file=sys.stderr, flush=True)
    time.sleep(args.hold)
    pipes.report_asset_materialization(metadata={"rows": 3}, data_version="v-conformance")
