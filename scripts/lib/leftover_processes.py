#!/usr/bin/env python3
"""Lists processes still running that carry ARBITER_TEST_RUN=<id> in their environment
(started, directly or not, by the test run that exported it), except this process and
its ancestors. Processes still on their way out get up to 10 s to end. With --kill,
kills what is left. Exit 1 if any were found.
  scripts/lib/leftover_processes.py ID [--kill]"""
import os
import signal
import sys
import time


def parent_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def find(marker, mine):
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in mine:
            continue
        try:
            with open("/proc/%s/environ" % name, "rb") as f:
                if marker not in f.read().split(b"\0"):
                    continue
            with open("/proc/%s/cmdline" % name, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue  # gone meanwhile, or not ours to read
        found.append((int(name), cmd))
    return found


def main(argv):
    marker = ("ARBITER_TEST_RUN=" + argv[1]).encode()
    mine = set()
    pid = os.getpid()
    while pid > 1:
        mine.add(pid)
        pid = parent_of(pid)
    deadline = time.monotonic() + 10
    found = find(marker, mine)
    while found and time.monotonic() < deadline:  # a test's process may still be exiting
        time.sleep(0.1)
        found = find(marker, mine)
    for pid, cmd in found:
        sys.stderr.write("left running: pid %d: %s\n" % (pid, cmd))
        if "--kill" in argv:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
