#!/usr/bin/env python3
"""Fails when production code reads or waits on real time outside the Clock.

Time is injected (src/arbiter/common/clock.h) so follow loops, retries and schedules run
in simulated time in tests. Test files (*_test.cc, src/arbiter/testing/, fuzz/) may use
real time; common/clock.cc is where the real clock lives.

  scripts/check_real_time.py [SOURCE_ROOT]   (default: the repository this script is in)
  scripts/check_real_time.py --self-test
"""
import os
import re
import sys
import tempfile

FORBIDDEN = re.compile(
    r"\b(system_clock|steady_clock|high_resolution_clock)::now\s*\(|"
    r"\bthis_thread::sleep_(for|until)\b|\b(usleep|nanosleep)\s*\(|[^:\w]sleep\s*\(\d|"
    r"\btime\s*\(\s*(nullptr|NULL|0)\s*\)")
ALLOWED = {"src/arbiter/common/clock.cc"}


def exempt(rel):
    return (rel in ALLOWED or rel.endswith("_test.cc") or "/testing/" in rel or
            "/fuzz/" in rel or rel.startswith("fuzz/"))


def check(root):
    problems = []
    base = os.path.join(root, "src", "arbiter")
    for dirpath, _, files in os.walk(base):
        for name in sorted(files):
            if not name.endswith((".cc", ".h")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if exempt(rel):
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                for n, line in enumerate(f, 1):
                    code = line.split("//", 1)[0]
                    m = FORBIDDEN.search(code)
                    if m:
                        problems.append("%s:%d: reads or waits on real time (%s); take a "
                                        "`const Clock&` (common/clock.h) and use Now(), "
                                        "Monotonic() or SleepFor() instead"
                                        % (rel, n, m.group(0).strip()))
    return problems


def self_test():
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "src/arbiter/runs"))
        with open(os.path.join(root, "src/arbiter/runs/loop.cc"), "w") as f:
            f.write("void F() {\n  // std::this_thread::sleep_for(x) in a comment is fine\n"
                    "  std::this_thread::sleep_for(d);\n}\n")
        with open(os.path.join(root, "src/arbiter/runs/loop_test.cc"), "w") as f:
            f.write("auto t = std::chrono::steady_clock::now();\n")
        found = check(root)
        assert len(found) == 1 and "runs/loop.cc:3" in found[0], found
    print("check_real_time: self-test passed")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    root = argv[1] if len(argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems = check(root)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print("check_real_time: %d place(s) read or wait on real time" % len(problems),
              file=sys.stderr)
        return 1
    print("check_real_time: no production code reads or waits on real time outside the Clock")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
