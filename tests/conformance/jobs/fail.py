"""Fails inside the pipes session, so the reason reaches Arbiter as the job's exception."""
import arbiter_pipes
from conformance_job import start

start()
with arbiter_pipes.open_pipes():
    raise ValueError("bad input row 7")
