#!/usr/bin/env python3
"""Checks that Arbiter's declared module dependencies hold (issue 17).

Every module under src/arbiter/ declares its dependencies in its CMakeLists.txt:

    arbiter_module(NAME emr SOURCES ... PUBLIC_DEPS arbiter_aws ... DEPS arbiter_storage ...)
    arbiter_tests(NAME emr SOURCES ... DEPS arbiter_emr ...)
    arbiter_test_library(NAME emr_emulator_fixture SOURCES ... DEPS ...)
    arbiter_fuzzer(NAME aws_xml SOURCES ... DEPS arbiter_aws)

This script reads those declarations and every `#include "arbiter/..."` in the tree, and
fails when:

  1. a file includes `arbiter/<dir>/...` whose owner (the module, or the test library, that
     the included file belongs to) is neither the including file's own target nor declared
     in its DEPS or PUBLIC_DEPS. The rule is *direct declaration*: a dependency that only
     arrives transitively (emr -> runs -> storage) does not count. "Each module's library
     links only what it declares" is read strictly, so that removing a dependency from a
     module never silently breaks another module that was leaning on it.
       - a module's files are its SOURCES plus the headers in its directory (not in a
         sub-module's directory);
       - a test binary may use its own DEPS, plus the module of the directory it lives in;
       - test binaries, test libraries and fuzzers may include the header-only test helpers
         in arbiter/testing/ (product code may not);
  2. a module's header (`.h`) includes a module declared only in DEPS (PRIVATE): what a
     public header exposes must be a PUBLIC_DEPS entry, so that users of the module get it;
  3. a DEPS entry names an `arbiter_*` target that does not exist;
  4. the declared dependencies between modules form a cycle.

PENDING below lists the includes that are known violations in files another change owns and
is rewriting; each is allowed only while it still exists, and the check fails once it is gone
so that the entry (and whatever kept it compiling) is removed too.

Usage:
    scripts/check_module_deps.py [ROOT]     (default: the repository this script is in)
    scripts/check_module_deps.py --self-test

Exit 0 when everything holds, 1 with one message per violation (file:line: ...).
Standard library only.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

TARGET_FUNCTIONS = {
    "arbiter_module": "module",
    "arbiter_tests": "tests",
    "arbiter_test_library": "test library",
    "arbiter_fuzzer": "fuzzer",
}
KEYWORDS = {"NAME", "LABEL", "SOURCES", "DEPS", "PUBLIC_DEPS"}
TEST_HELPERS = "testing"  # src/arbiter/testing: header-only helpers for tests
# (file, include) -> why it is still there. Keep this empty whenever possible.
PENDING = {}
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"](arbiter/[^">]+)[">]')


@dataclass
class Target:
    kind: str  # module, tests, test library, fuzzer
    name: str  # NAME as written (module "emr", tests "emr", ...)
    cmake_file: Path
    line: int
    directory: Path
    sources: list[str] = field(default_factory=list)
    public_deps: list[str] = field(default_factory=list)
    private_deps: list[str] = field(default_factory=list)

    @property
    def library(self) -> str:
        """The CMake target name a DEPS entry uses for this target."""
        if self.kind == "module":
            return f"arbiter_{self.name}"
        if self.kind == "test library":
            return f"arbiter_{self.name}"
        if self.kind == "tests":
            return f"arbiter_{self.name}_tests"
        return f"arbiter_{self.name}_fuzz"

    @property
    def deps(self) -> list[str]:
        return self.public_deps + self.private_deps

    def describe(self) -> str:
        return f"{self.kind} {self.name} ({self.library})"


def strip_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def parse_cmake(path: Path) -> list[Target]:
    """The arbiter_* target calls in one CMakeLists.txt (simple CMake: no nested calls)."""
    text = strip_comments(path.read_text())
    targets = []
    for m in re.finditer(r"\b(" + "|".join(TARGET_FUNCTIONS) + r")\s*\(([^)]*)\)", text):
        func, body = m.group(1), m.group(2)
        line = text.count("\n", 0, m.start()) + 1
        args: dict[str, list[str]] = {}
        current = None
        for token in body.split():
            if token in KEYWORDS:
                current = token
                args.setdefault(current, [])
            elif current:
                args[current].append(token)
        name = (args.get("NAME") or [None])[0]
        if not name:
            continue
        targets.append(Target(
            kind=TARGET_FUNCTIONS[func], name=name, cmake_file=path, line=line,
            directory=path.parent, sources=args.get("SOURCES", []),
            public_deps=args.get("PUBLIC_DEPS", []), private_deps=args.get("DEPS", [])))
    return targets


@dataclass
class Violation:
    file: Path
    line: int
    message: str
    include: str = ""

    def format(self, root: Path) -> str:
        try:
            shown = self.file.relative_to(root)
        except ValueError:
            shown = self.file
        return f"{shown}:{self.line}: error: {self.message}"


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One dependency cycle (as a closed path) in graph, or None."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def check(root: Path, pending: dict[tuple[str, str], str] | None = None) -> list[Violation]:
    pending = PENDING if pending is None else pending
    src = root / "src"
    cmake_files = sorted((src / "arbiter").rglob("CMakeLists.txt"))
    if (root / "fuzz" / "CMakeLists.txt").exists():
        cmake_files.append(root / "fuzz" / "CMakeLists.txt")
    targets = [t for f in cmake_files for t in parse_cmake(f)]
    modules = {t.directory: t for t in targets if t.kind == "module"}
    by_library = {t.library: t for t in targets}
    violations: list[Violation] = []

    # Which target owns each file: a target's SOURCES and the headers with the same stem;
    # every other file in a module's directory belongs to that module.
    owner: dict[Path, Target] = {}
    for t in targets:
        for s in t.sources:
            if "$" in s:
                continue
            path = (t.directory / s).resolve()
            owner[path] = t
            header = path.with_suffix(".h")
            if header.exists() and t.kind in ("module", "test library"):
                owner.setdefault(header, t)
    for directory, module in modules.items():
        for f in sorted(directory.iterdir()):
            if f.suffix in (".h", ".cc") and f.resolve() not in owner:
                owner[f.resolve()] = module

    def module_of_directory(d: Path) -> Target | None:
        d = d.resolve()
        while True:
            for mdir, m in modules.items():
                if mdir.resolve() == d:
                    return m
            if d == src or d.parent == d:
                return None
            d = d.parent

    def owner_of_include(include: str) -> tuple[Target | None, str]:
        """The target an `arbiter/...` include belongs to, and the name to report."""
        path = (src / include).resolve()
        if path in owner:
            return owner[path], owner[path].name
        top = include.split("/")[1]
        if top == TEST_HELPERS:
            return None, TEST_HELPERS
        m = module_of_directory(path.parent)
        return m, (m.name if m else top)

    # 3. DEPS naming arbiter targets that do not exist.
    for t in targets:
        for dep in t.deps:
            if dep.startswith("arbiter_") and dep not in by_library and dep not in (
                    "arbiter_pipes_client", "arbiter_testing"):
                violations.append(Violation(
                    t.cmake_file, t.line,
                    f"{t.describe()} declares {dep}, which no arbiter_module/arbiter_test_library "
                    f"defines; fix the name or remove it"))

    # 1 and 2: every include of every owned file.
    for path, t in sorted(owner.items()):
        if not path.exists():
            continue
        allowed = {t.library} | set(t.deps)
        if t.kind in ("tests", "fuzzer"):
            home = module_of_directory(t.directory)
            if home:
                allowed.add(home.library)
        for lineno, text in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE_RE.match(text)
            if not m:
                continue
            include = m.group(1)
            dep, dep_name = owner_of_include(include)
            if dep is None and dep_name == TEST_HELPERS:
                if t.kind == "module":
                    violations.append(Violation(
                        path, lineno,
                        f'product code includes "{include}" (test helpers, src/arbiter/testing); '
                        f"{t.describe()} must not depend on test code"))
                continue
            if dep is None:
                violations.append(Violation(
                    path, lineno,
                    f'"{include}" belongs to no module (no arbiter_module in its directory); '
                    f"include a module's header"))
                continue
            if dep.library in allowed:
                if (t.kind == "module" and path.suffix == ".h" and dep is not t
                        and dep.library in t.private_deps and dep.library not in t.public_deps):
                    violations.append(Violation(
                        path, lineno,
                        f'header of {t.describe()} includes "{include}" (module {dep.name}), '
                        f"which {t.cmake_file.relative_to(root)} declares PRIVATE (DEPS): what "
                        f"a header exposes must be public; move {dep.library} to PUBLIC_DEPS"))
                continue
            violations.append(Violation(
                path, lineno,
                f'{t.describe()} includes "{include}" from {dep.kind} {dep.name}, which it does '
                f"not declare; add {dep.library} to DEPS (or PUBLIC_DEPS if a header exposes it) "
                f"in {t.cmake_file.relative_to(root)}:{t.line}, or stop including it "
                f"(transitive dependencies do not count)", include))

    # Known, owned elsewhere: allowed while they exist; a stale entry is an error.
    kept, used = [], set()
    for v in violations:
        key = (v.file.relative_to(root).as_posix() if v.file.is_relative_to(root) else "",
               v.include)
        if v.include and key in pending:
            used.add(key)
        else:
            kept.append(v)
    for key in sorted(set(pending) - used):
        kept.append(Violation(
            Path(__file__).resolve(), 1,
            f'PENDING lists {key[0]} including "{key[1]}", which is no longer a violation: '
            f"remove the entry (and any forwarding header kept for it)"))
    violations = kept

    # 4. cycles between modules (and test libraries) as declared.
    graph = {t.library: [d for d in t.deps if d in by_library] for t in targets
             if t.kind in ("module", "test library")}
    cycle = find_cycle(graph)
    if cycle:
        first = by_library[cycle[0]]
        violations.append(Violation(
            first.cmake_file, first.line,
            "module dependency cycle: " + " -> ".join(cycle) +
            "; modules must form a DAG: move the shared part into a lower module"))
    return violations


def main(argv: list[str]) -> int:
    if argv[1:] == ["--self-test"]:
        return self_test()
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    root = root.resolve()
    violations = check(root)
    for v in violations:
        print(v.format(root))
    if violations:
        print(f"check_module_deps: {len(violations)} violation(s); see the docstring of "
              f"scripts/check_module_deps.py and CONTRIBUTING.md (\"Module dependencies\")",
              file=sys.stderr)
        return 1
    modules = sum(1 for f in (root / "src" / "arbiter").rglob("CMakeLists.txt")
                  for t in parse_cmake(f) if t.kind == "module")
    print(f"check_module_deps: {modules} modules, every include declared, no cycles")
    return 0


# --- self-test: a tiny fake tree per case ----------------------------------------------------

def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


BASE = {
    "src/arbiter/a/CMakeLists.txt":
        "arbiter_module(NAME a SOURCES a.cc DEPS Threads::Threads)\n"
        "arbiter_tests(NAME a SOURCES a_test.cc DEPS arbiter_a)\n",
    "src/arbiter/a/a.h": "#pragma once\n",
    "src/arbiter/a/a.cc": '#include "arbiter/a/a.h"\n',
    "src/arbiter/a/a_test.cc": '#include "arbiter/a/a.h"\n#include "arbiter/testing/temp_dir.h"\n',
    "src/arbiter/testing/temp_dir.h": "#pragma once\n",
    "src/arbiter/b/CMakeLists.txt":
        "# b: uses a\narbiter_module(NAME b\n  SOURCES b.cc\n  PUBLIC_DEPS arbiter_a)\n",
    "src/arbiter/b/b.h": '#pragma once\n#include "arbiter/a/a.h"\n',
    "src/arbiter/b/b.cc": '#include "arbiter/b/b.h"\n',
    "src/arbiter/c/CMakeLists.txt":
        "arbiter_module(NAME c SOURCES c.cc DEPS arbiter_b)\n"
        "arbiter_test_library(NAME c_fixture SOURCES fixture.cc DEPS arbiter_a)\n"
        "arbiter_tests(NAME c SOURCES c_test.cc DEPS arbiter_c arbiter_c_fixture)\n",
    "src/arbiter/c/c.h": "#pragma once\n",
    "src/arbiter/c/c.cc": '#include "arbiter/c/c.h"\n#include "arbiter/b/b.h"\n',
    "src/arbiter/c/fixture.h": '#pragma once\n#include "arbiter/testing/temp_dir.h"\n',
    "src/arbiter/c/fixture.cc": '#include "arbiter/c/fixture.h"\n#include "arbiter/a/a.h"\n',
    "src/arbiter/c/c_test.cc": '#include "arbiter/c/fixture.h"\n#include "arbiter/c/c.h"\n',
}

CASES = [
    # (what, changes to BASE, expected substring of the output or None for a clean tree)
    ("a clean tree passes", {}, None),
    ("a transitive dependency does not count",
     {"src/arbiter/c/c.cc": '#include "arbiter/a/a.h"\n'},
     'module c (arbiter_c) includes "arbiter/a/a.h" from module a, which it does not declare'),
    ("an undeclared include in a header is found, with its line",
     {"src/arbiter/a/a.h": '#pragma once\n\n#include "arbiter/c/c.h"\n'},
     "src/arbiter/a/a.h:3: error:"),
    ("a test may not use what its module uses without declaring it",
     {"src/arbiter/c/c_test.cc": '#include "arbiter/b/b.h"\n'},
     "tests c (arbiter_c_tests) includes \"arbiter/b/b.h\""),
    ("a test library's header is owned by the test library, not the module",
     {"src/arbiter/b/b.cc": '#include "arbiter/c/fixture.h"\n'},
     "from test library c_fixture"),
    ("product code may not include test helpers",
     {"src/arbiter/b/b.cc": '#include "arbiter/testing/temp_dir.h"\n'},
     "product code includes \"arbiter/testing/temp_dir.h\""),
    ("a header may not expose a PRIVATE dependency",
     {"src/arbiter/c/c.h": '#pragma once\n#include "arbiter/b/b.h"\n'},
     "move arbiter_b to PUBLIC_DEPS"),
    ("a misspelt dependency is reported",
     {"src/arbiter/b/CMakeLists.txt": "arbiter_module(NAME b SOURCES b.cc PUBLIC_DEPS arbiter_aa arbiter_a)\n"},
     "declares arbiter_aa, which no arbiter_module"),
    ("a declared cycle is reported",
     {"src/arbiter/a/CMakeLists.txt": "arbiter_module(NAME a SOURCES a.cc DEPS arbiter_c)\n"
                                      "arbiter_tests(NAME a SOURCES a_test.cc DEPS arbiter_a)\n"},
     "module dependency cycle: arbiter_a -> arbiter_c -> arbiter_b -> arbiter_a"),
    ("a sub-module's files belong to the sub-module",
     {"src/arbiter/a/sub/CMakeLists.txt": "arbiter_module(NAME sub SOURCES s.cc)\n",
      "src/arbiter/a/sub/s.cc": '#include "arbiter/a/a.h"\n'},
     'module sub (arbiter_sub) includes "arbiter/a/a.h" from module a'),
]


SELF_TEST_PENDING = {("src/arbiter/c/c.cc", "arbiter/a/a.h"): "owned elsewhere"}
CASES += [
    ("a pending include is allowed while it exists",
     {"src/arbiter/c/c.cc": '#include "arbiter/a/a.h"\n', "pending": ""}, None),
    ("a pending entry that is no longer needed is reported",
     {"pending": ""}, "which is no longer a violation: remove the entry"),
]


def self_test() -> int:
    failures = 0
    for what, changes, expected in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            changes = dict(changes)
            pending = SELF_TEST_PENDING if changes.pop("pending", None) is not None else {}
            _write(root, {**BASE, **changes})
            out = [v.format(root) for v in check(root, pending)]
            ok = (not out) if expected is None else any(expected in line for line in out)
            if expected is not None and len(out) != 1:
                ok = False  # exactly the one planted violation, nothing else
            print(f"{'ok  ' if ok else 'FAIL'} {what}")
            if not ok:
                failures += 1
                print(f"     expected: {expected!r}\n     got: {out!r}")
    # And through main(): a violation makes the exit status 1.
    with tempfile.TemporaryDirectory() as tmp:
        _write(Path(tmp), {**BASE, "src/arbiter/c/c.cc": '#include "arbiter/a/a.h"\n'})
        with open(os.devnull, "w") as devnull:
            saved = sys.stdout, sys.stderr
            sys.stdout = sys.stderr = devnull
            try:
                saved_pending = dict(PENDING)
                PENDING.clear()
                status = main(["check_module_deps.py", tmp])
                PENDING.update(saved_pending)
            finally:
                sys.stdout, sys.stderr = saved
        ok = status == 1
        print(f"{'ok  ' if ok else 'FAIL'} a violation exits 1")
        failures += 0 if ok else 1
    print(f"check_module_deps self-test: {len(CASES) + 1 - failures}/{len(CASES) + 1} passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
