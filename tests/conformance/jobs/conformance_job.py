"""What the conformance jobs share: the marker file (one line per start, with the pid, so a
test sees how often a job started and whether it still runs, on any platform) and pipes."""
import argparse
import os


def start(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--marker", required=True)
    p.add_argument("--hold", type=float, default=0, help="seconds to run before ending")
    args, _ = p.parse_known_args(argv)
    with open(args.marker, "a") as f:
        f.write("started %d\n" % os.getpid())
    return args
