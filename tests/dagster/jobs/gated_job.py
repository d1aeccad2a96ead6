"""A job that logs, then waits (bounded) until the file named by $GATE exists: lets a test
see the job's events while it is still running, then release or cancel it."""
import os
import sys
import time

from dagster_pipes import open_dagster_pipes

with open_dagster_pipes() as pipes:
    pipes.log.info("waiting for gate")
    deadline = time.monotonic() + 60
    while not os.path.exists(os.environ["GATE"]):
        if time.monotonic() > deadline:
            sys.exit("gate never opened")
        time.sleep(0.02)
    pipes.log.info("gate opened")
    pipes.report_asset_materialization(metadata={"gated": True})
