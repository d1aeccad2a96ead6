"""Runs far longer than any test waits: stopped by cancel or compute.max_duration."""
import time

import arbiter_pipes
from conformance_job import start

start()
with arbiter_pipes.open_pipes():
    print("running until stopped", flush=True)
    time.sleep(600)
