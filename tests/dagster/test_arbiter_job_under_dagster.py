"""Jobs written with Arbiter's clients run under Dagster.

Run with .venv-dagster's Python (real Dagster, pinned in requirements/dagster.txt). Dagster's
own PipesSubprocessClient launches tests/dagster/jobs/arbiter_client_job.py, which uses only
clients/python/arbiter_pipes.py; the test reads what Dagster recorded through its instance
API (a temporary DAGSTER_HOME instance): materialization and metadata, check evaluation,
logs, custom messages and the failure of a job that raised.
"""
import os
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import interop  # noqa: E402

try:
    import dagster as dg
except ImportError:  # a missing dependency fails on CI
    dg = None
interop.require(dg is not None, "dagster (.venv-dagster; run this test with its python)")

JOB = Path(__file__).resolve().parent / "jobs" / "arbiter_client_job.py"
CLIENT_DIR = interop.REPO / "clients" / "python"
CUSTOM_MESSAGES = []  # what the asset's pipes session returned, run by run
DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-05")


@dg.asset(partitions_def=DAYS, code_version="v3",
          check_specs=[dg.AssetCheckSpec("rows_positive", asset="graph_nodes")])
def graph_nodes(context: dg.AssetExecutionContext, pipes: dg.PipesSubprocessClient):
    invocation = pipes.run(
        command=[interop.JOB_PYTHON, str(JOB)],
        context=context,
        extras={"seed_set": "seeds-a"},
        # Only Arbiter's client on the path: no dagster_pipes to fall back on.
        env={"PYTHONPATH": str(CLIENT_DIR), "PYTHONNOUSERSITE": "1"},
    )
    CUSTOM_MESSAGES.extend(invocation.get_custom_messages())
    return invocation.get_results()


class ArbiterJobUnderDagster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.home = tempfile.mkdtemp(prefix="dagster-home-")
        os.environ["DAGSTER_HOME"] = cls.home
        cls.instance = dg.DagsterInstance.get()
        resources = {"pipes": dg.PipesSubprocessClient()}
        cls.ok = dg.materialize([graph_nodes], instance=cls.instance, partition_key="2024-01-02",
                                resources=resources)
        cls.failed = dg.materialize([graph_nodes], instance=cls.instance,
                                    partition_key="2024-01-03", resources=resources,
                                    raise_on_error=False)

    @classmethod
    def tearDownClass(cls):
        cls.instance.dispose()
        shutil.rmtree(cls.home, ignore_errors=True)

    def test_materialization_and_metadata(self):
        self.assertTrue(self.ok.success)
        record = self.instance.get_latest_materialization_event(dg.AssetKey("graph_nodes"))
        mat = record.asset_materialization
        self.assertEqual(mat.partition, "2024-01-02")
        self.assertEqual(mat.tags.get("dagster/data_version"), "dv-2024-01-02")
        md = mat.metadata
        self.assertEqual(md["rows"], dg.IntMetadataValue(12))
        self.assertEqual(md["ratio"], dg.FloatMetadataValue(0.5))
        self.assertEqual(md["name"], dg.TextMetadataValue("nodes"))
        self.assertEqual(md["report"], dg.UrlMetadataValue("https://example.com/r.html"))
        self.assertEqual(md["flags"], dg.JsonMetadataValue({"k": [1, 2]}))
        self.assertEqual(md["schema"].schema.columns[0].name, "host")
        # Only the 2024-01-02 run materialized.
        self.assertEqual(self.instance.get_materialized_partitions(dg.AssetKey("graph_nodes")),
                         {"2024-01-02"})

    def test_check(self):
        evaluations = [e.dagster_event.event_specific_data
                       for e in self.instance.all_logs(self.ok.run_id)
                       if e.dagster_event and e.dagster_event.event_type_value
                       == "ASSET_CHECK_EVALUATION"]
        self.assertEqual(len(evaluations), 1)
        ev = evaluations[0]
        self.assertEqual(ev.check_name, "rows_positive")
        self.assertTrue(ev.passed)
        self.assertEqual(ev.severity, dg.AssetCheckSeverity.WARN)
        self.assertEqual(ev.metadata["rows"], dg.IntMetadataValue(12))

    def test_logs(self):
        messages = [e.user_message for e in self.instance.all_logs(self.ok.run_id)]
        self.assertTrue(any("arbiter client sees partition 2024-01-02" in m for m in messages),
                        messages)
        self.assertTrue(any("a warning from the job" in m for m in messages))

    def test_context_and_custom_message(self):
        custom = CUSTOM_MESSAGES
        # pipes.run raises for the failing run before its messages can be collected.
        self.assertEqual(len(custom), 1, custom)
        seen = custom[0]
        self.assertEqual(seen["asset_key"], "graph_nodes")
        self.assertEqual(seen["partition_key"], "2024-01-02")
        self.assertEqual(seen["run_id"], self.ok.run_id)
        self.assertEqual(seen["code_version"], "v3")
        self.assertEqual(seen["job_name"], "__ephemeral_asset_job__")
        self.assertEqual(seen["extras"], {"seed_set": "seeds-a"})
        self.assertEqual(seen["partition_time_window"],
                         {"start": "2024-01-02T00:00:00+00:00", "end": "2024-01-03T00:00:00+00:00"})

    def test_exception_fails_the_dagster_run(self):
        self.assertFalse(self.failed.success)
        events = [e.dagster_event for e in self.instance.all_logs(self.failed.run_id)
                  if e.dagster_event]
        self.assertEqual(len([e for e in events if e.event_type_value == "STEP_FAILURE"]), 1)
        # The exception our client puts in `closed` is what Dagster records as the job's error.
        closed = [e.event_specific_data.error for e in events
                  if e.event_type_value == "ENGINE_EVENT"
                  and "closed with exception" in (e.message or "")]
        self.assertEqual(len(closed), 1, [e.message for e in events])
        self.assertEqual(closed[0].cls_name, "RuntimeError")
        self.assertIn("job failed on purpose for 2024-01-03", closed[0].message)
        self.assertTrue(any("raise RuntimeError" in line for line in closed[0].stack))


if __name__ == "__main__":
    unittest.main(verbosity=2)
