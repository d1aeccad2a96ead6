"""Jobs written for Dagster run unchanged under Arbiter.

    test_dagster_pipes_under_arbiter.py VERSION

Runs the real `arbiter materialize` on a generated project whose `python` job
(tests/dagster/jobs/dagster_pipes_job.py) imports the real dagster-pipes VERSION from
.venv-pipes/VERSION (selected with PYTHONPATH), then checks through `arbiter --json runs`,
`logs` and `materializations` what Arbiter recorded: context, partition key/range/window,
extras, logs, every metadata type the release knows, checks, custom messages, exceptions and
log_external_stream.
"""
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import interop  # noqa: E402

VERSION = sys.argv.pop(1) if len(sys.argv) > 1 else "1.13.28"
VERSION_TUPLE = tuple(int(p) for p in VERSION.split("."))

# What each release offers (read from its source, see docs/pipes.md "Compatibility").
BASE_TYPES = {"text", "url", "path", "notebook", "json", "md", "float", "int", "bool",
              "dagster_run", "asset", "null"}
NEW_TYPES = {"table", "table_schema", "table_column_lineage", "timestamp"}  # 1.8+
HAS_NEW_TYPES = VERSION_TUPLE >= (1, 8, 0)
HAS_OPENED_CLOSED = VERSION_TUPLE >= (1, 5, 3)      # 1.5.0-1.5.2 send neither
HAS_CUSTOM = VERSION_TUPLE >= (1, 5, 14)            # report_custom_message
HAS_EXTERNAL_STREAM = hasattr  # decided from the installed source below

PROJECT_YAML = f"""\
project: dagster-interop
runtimes:
  local:
    type: local
    python: {interop.JOB_PYTHON}
partitions:
  days:
    time:
      cadence: daily
      start: 2024-01-01
      end: 2024-01-04
assets:
  dagster/job:
    partitions: days
    code_version: "v7"
    runtimes: [local]
    job:
      kind: python
      script: jobs/dagster_pipes_job.py
"""


class DagsterPipesUnderArbiter(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.binary = interop.arbiter_binary()
        cls.pipes = interop.pipes_dir(VERSION)
        source = (cls.pipes / "dagster_pipes" / "__init__.py").read_text()
        cls.has_external_stream = "def log_external_stream" in source
        cls.tmp = Path(tempfile.mkdtemp(prefix="arbiter-dagster-pipes-"))
        (cls.tmp / "jobs").mkdir()
        shutil.copy(Path(__file__).parent / "jobs" / "dagster_pipes_job.py", cls.tmp / "jobs")
        (cls.tmp / "arbiter.yaml").write_text(PROJECT_YAML)
        # The job selects the release only through PYTHONPATH, as a Dagster user's venv would.
        env = interop.clean_env(PYTHONPATH=str(cls.pipes))
        code, runs, stderr = interop.arbiter(cls.binary, cls.tmp, "materialize", "dagster/job",
                                             "-p", "2024-01-02", "-p", "2024-01-03", env=env)
        cls.materialize_code, cls.materialize_stderr = code, stderr
        cls.runs = {r["partition"]: r for r in runs or []}
        cls.events = {}
        for key, run in cls.runs.items():
            _, logs, _ = interop.arbiter(cls.binary, cls.tmp, "logs", run["run_id"])
            cls.events[key] = logs["events"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def kinds(self, partition, kind):
        return [e for e in self.events[partition] if e["kind"] == kind]

    def test_runs_outcome(self):
        self.assertEqual(self.materialize_code, 1, self.materialize_stderr)  # one run fails
        self.assertEqual(set(self.runs), {"2024-01-02", "2024-01-03"})
        ok = self.runs["2024-01-02"]
        self.assertEqual(ok["status"], "SUCCESS", ok)
        failed = self.runs["2024-01-03"]
        self.assertEqual(failed["status"], "FAILURE")
        self.assertIn("bad input for 2024-01-03", failed["stderr_tail"])

    def test_exception(self):
        failed = self.runs["2024-01-03"]
        pipes_errors = [e for e in self.kinds("2024-01-03", "pipes") if e["level"] == "error"]
        if HAS_OPENED_CLOSED:
            # The exception travels in `closed` and becomes the run's reason.
            self.assertIn("ValueError", failed["failure_reason"])
            self.assertIn("bad input for 2024-01-03", failed["failure_reason"])
            self.assertEqual(len(pipes_errors), 1, pipes_errors)
            self.assertTrue(any("raise ValueError" in line
                                for line in pipes_errors[0]["data"]["stack"]))
        else:
            # 1.5.0-1.5.2 never send `closed`: only the exit code and stderr tell.
            self.assertEqual(failed["failure_reason"].strip(), "job failed: exit code 1")
            self.assertEqual(pipes_errors, [])

    def test_opened_and_closed(self):
        messages = [e["message"] for e in self.kinds("2024-01-02", "pipes")]
        warnings = [e["data"]["kind"] for e in self.kinds("2024-01-02", "pipes_warning")]
        if HAS_OPENED_CLOSED:
            self.assertEqual(messages, ["pipes opened", "pipes closed"])
            self.assertEqual(warnings, [])
        else:
            self.assertEqual(messages, [])
            self.assertEqual(warnings, ["missing_opened"])

    def context_seen(self, partition):
        if HAS_CUSTOM:
            customs = self.kinds(partition, "custom")
            self.assertEqual(len(customs), 1, customs)
            return customs[0]["data"]["seen"]
        mats = self.kinds(partition, "materialization")
        self.assertEqual(len(mats), 1, self.events[partition])
        return mats[0]["data"]["metadata"]["context"]["raw_value"]

    def test_context(self):
        for partition, end in (("2024-01-02", "2024-01-03"), ("2024-01-03", "2024-01-04")):
            seen = self.context_seen(partition)
            self.assertEqual(seen, {
                "client_version": VERSION,
                "asset_key": "dagster/job",
                "asset_keys": ["dagster/job"],
                "code_version": "v7",
                "partition_key": partition,
                "partition_key_range": {"start": partition, "end": partition},
                "partition_time_window": {"start": partition + "T00:00:00+00:00",
                                          "end": end + "T00:00:00+00:00"},
                "is_partition_step": True,
                "run_id": self.runs[partition]["run_id"],
                "job_name": "dagster/job",
                "retry_number": 0,
                "extras": {"arbiter/runtime": "local", "arbiter/runtime_type": "local",
                           "arbiter/project": "dagster-interop"},
                "extra_runtime": "local",
            })

    def test_logs(self):
        logs = [(e["level"], e["message"]) for e in self.kinds("2024-01-02", "log")]
        self.assertEqual(logs, [("debug", "debug line"), ("info", "partition 2024-01-02"),
                                ("warning", "warning line"), ("error", "error line"),
                                ("critical", "critical line")])
        stdout = [e["message"] for e in self.kinds("2024-01-02", "stdout")]
        stderr = [e["message"] for e in self.kinds("2024-01-02", "stderr")]
        self.assertIn("plain stdout line", stdout)
        self.assertIn("plain stderr line", stderr)

    def test_log_external_stream(self):
        external = [e for e in self.kinds("2024-01-02", "stdout") if e["data"]]
        if self.has_external_stream:
            self.assertEqual([(e["message"], e["data"]) for e in external],
                             [("external text\n", {"source": "spark-driver"})])
        else:
            self.assertEqual(external, [])

    def test_materialization_metadata(self):
        code, mats, err = interop.arbiter(self.binary, self.tmp, "materializations",
                                          "dagster/job", "-p", "2024-01-02")
        self.assertEqual(code, 0, err)
        self.assertEqual(len(mats), 1, mats)
        mat = mats[0]
        self.assertEqual(mat["run_id"], self.runs["2024-01-02"]["run_id"])
        self.assertEqual(mat["data_version"], "dv-2024-01-02")
        md = mat["metadata"]
        expected_types = BASE_TYPES | (NEW_TYPES if HAS_NEW_TYPES else set())
        explicit = {k: v["type"] for k, v in md.items() if not k.startswith("inferred_")
                    and k != "context"}
        self.assertEqual(explicit, {t: t for t in expected_types})  # each key names its type
        self.assertEqual(md["int"]["raw_value"], 7)
        self.assertIsInstance(md["int"]["raw_value"], int)
        self.assertEqual(md["float"]["raw_value"], 1.25)
        self.assertIs(md["bool"]["raw_value"], False)
        self.assertEqual(md["json"]["raw_value"], {"rows": [1, 2, 3]})
        self.assertIsNone(md["null"]["raw_value"])
        if HAS_NEW_TYPES:
            self.assertEqual(md["table"]["raw_value"]["records"], [{"a": 1, "b": "x"}])
            self.assertEqual(md["timestamp"]["raw_value"], 1704067200.0)
        # Dagster's client sends plain values as __infer__; Arbiter resolves them like Dagster.
        inferred = {k: (v["type"], v["raw_value"]) for k, v in md.items()
                    if k.startswith("inferred_")}
        self.assertEqual(inferred, {"inferred_int": ("int", 42), "inferred_float": ("float", 0.5),
                                    "inferred_str": ("text", "hello"),
                                    "inferred_bool": ("bool", True),
                                    "inferred_none": ("null", None)})

    def test_checks(self):
        checks = [e["data"] for e in self.kinds("2024-01-02", "asset_check")]
        self.assertEqual(checks, [
            {"asset_key": "dagster/job", "check_name": "rows_positive", "passed": True,
             "severity": "WARN", "metadata": {"rows": {"raw_value": 3, "type": "int"}}},
            {"asset_key": "dagster/job", "check_name": "no_nulls", "passed": False,
             "severity": "ERROR", "metadata": {"nulls": {"raw_value": 2, "type": "int"}}},
        ])


if __name__ == "__main__":
    unittest.main(verbosity=2)
