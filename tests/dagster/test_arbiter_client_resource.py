"""Arbiter under Dagster: a Dagster asset whose body is ArbiterClient.run (clients/dagster).

Real Dagster (.venv-dagster) materializes a partitioned asset; the resource asks the real
arbiter CLI to place and run it on a generated project (the job is the dagster-pipes job of
test_dagster_pipes_under_arbiter.py, on dagster-pipes 1.13.28), and the test checks through
Dagster's instance API that the Dagster run carries the job's materialization, metadata,
data version, checks and logs, and that a failed Arbiter run fails the Dagster run.
"""
import os
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import interop  # noqa: E402

sys.path.insert(0, str(interop.REPO / "clients" / "dagster"))
try:
    import dagster as dg
    from arbiter_dagster import ArbiterClient
except ImportError:  # a missing dependency fails on CI
    dg = None
interop.require(dg is not None, "dagster (.venv-dagster; run this test with its python)")

PIPES_VERSION = "1.13.28"
DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")


@dg.asset(key_prefix="dagster", name="job", partitions_def=DAYS,
          check_specs=[dg.AssetCheckSpec("rows_positive", asset=["dagster", "job"]),
                       dg.AssetCheckSpec("no_nulls", asset=["dagster", "job"])])
def arbiter_job(context: dg.AssetExecutionContext, arbiter: ArbiterClient):
    return arbiter.run(context)


class ArbiterUnderDagster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        binary = interop.arbiter_binary()
        pipes = interop.pipes_dir(PIPES_VERSION)
        cls.project = Path(tempfile.mkdtemp(prefix="arbiter-under-dagster-"))
        (cls.project / "jobs").mkdir()
        shutil.copy(HERE / "jobs" / "dagster_pipes_job.py", cls.project / "jobs")
        shutil.copy(HERE / "jobs" / "gated_job.py", cls.project / "jobs")
        (cls.project / "arbiter.yaml").write_text(f"""\
project: dagster-interop
runtimes:
  local:
    type: local
    python: {interop.JOB_PYTHON}
partitions:
  days:
    time: {{cadence: daily, start: 2024-01-01, end: 2024-01-04}}
assets:
  dagster/job:
    partitions: days
    code_version: "v7"
    runtimes: [local]
    job: {{kind: python, script: jobs/dagster_pipes_job.py}}
  dagster/gated:
    runtimes: [local]
    job: {{kind: python, script: jobs/gated_job.py}}
""")
        cls.binary, cls.pipes = binary, pipes
        cls.home = tempfile.mkdtemp(prefix="dagster-home-")
        os.environ["DAGSTER_HOME"] = cls.home
        cls.instance = dg.DagsterInstance.get()
        # The job's dagster-pipes release travels to it through arbiter's environment.
        resources = {"arbiter": ArbiterClient(project_dir=str(cls.project), arbiter=binary,
                                              env={"PYTHONPATH": str(pipes)})}
        cls.ok = dg.materialize([arbiter_job], instance=cls.instance, partition_key="2024-01-02",
                                resources=resources)
        cls.failed = dg.materialize([arbiter_job], instance=cls.instance,
                                    partition_key="2024-01-03", resources=resources,
                                    raise_on_error=False)
        # What Arbiter itself recorded, to compare with what Dagster got.
        _, cls.arbiter_runs, _ = interop.arbiter(binary, cls.project, "runs")

    @classmethod
    def tearDownClass(cls):
        cls.instance.dispose()
        shutil.rmtree(cls.home, ignore_errors=True)
        shutil.rmtree(cls.project, ignore_errors=True)

    def events(self, run_id, type_value):
        return [e for e in self.instance.all_logs(run_id)
                if e.dagster_event and e.dagster_event.event_type_value == type_value]

    def test_arbiter_ran_both_partitions(self):
        runs = {r["partition"]: r["status"] for r in self.arbiter_runs if r["asset"] == "dagster/job"}
        self.assertEqual(runs, {"2024-01-02": "SUCCESS", "2024-01-03": "FAILURE"})

    def test_materialization_in_dagster(self):
        self.assertTrue(self.ok.success)
        key = dg.AssetKey(["dagster", "job"])
        mat = self.instance.get_latest_materialization_event(key).asset_materialization
        self.assertEqual(mat.partition, "2024-01-02")
        self.assertEqual(mat.tags.get("dagster/data_version"), "dv-2024-01-02")
        md = mat.metadata
        arbiter_run = next(r for r in self.arbiter_runs if r["partition"] == "2024-01-02")
        self.assertEqual(md["arbiter/run_id"], dg.TextMetadataValue(arbiter_run["run_id"]))
        self.assertEqual(md["arbiter/runtime"], dg.TextMetadataValue("local"))
        self.assertEqual(md["int"], dg.IntMetadataValue(7))
        self.assertEqual(md["inferred_int"], dg.IntMetadataValue(42))
        self.assertEqual(md["float"], dg.FloatMetadataValue(1.25))
        self.assertEqual(md["bool"], dg.BoolMetadataValue(False))
        self.assertEqual(md["text"], dg.TextMetadataValue("plain text"))
        self.assertEqual(md["url"], dg.UrlMetadataValue("https://example.com/report"))
        self.assertEqual(md["path"], dg.PathMetadataValue("/data/out.parquet"))
        self.assertEqual(md["notebook"], dg.NotebookMetadataValue("/nb/analysis.ipynb"))
        self.assertEqual(md["md"], dg.MarkdownMetadataValue("# Title"))
        self.assertEqual(md["json"], dg.JsonMetadataValue({"rows": [1, 2, 3]}))
        self.assertEqual(md["dagster_run"], dg.DagsterRunMetadataValue("0123456789abcdef"))
        self.assertEqual(md["asset"], dg.DagsterAssetMetadataValue(dg.AssetKey(["other", "asset"])))
        self.assertEqual(md["null"], dg.NullMetadataValue())
        self.assertEqual(md["timestamp"], dg.TimestampMetadataValue(1704067200.0))
        self.assertEqual(md["table"].records, [dg.TableRecord({"a": 1, "b": "x"})])
        self.assertEqual([c.name for c in md["table_schema"].schema.columns], ["a"])
        deps = md["table_column_lineage"].column_lineage.deps_by_column["a"]
        self.assertEqual(deps, [dg.TableColumnDep(asset_key=dg.AssetKey("up"), column_name="x")])
        self.assertEqual(md["arbiter/custom_messages"].data[0]["seen"]["partition_key"],
                         "2024-01-02")

    def test_checks_in_dagster(self):
        evaluations = {e.dagster_event.event_specific_data.check_name:
                       e.dagster_event.event_specific_data
                       for e in self.events(self.ok.run_id, "ASSET_CHECK_EVALUATION")}
        self.assertEqual(set(evaluations), {"rows_positive", "no_nulls"})
        self.assertTrue(evaluations["rows_positive"].passed)
        self.assertEqual(evaluations["rows_positive"].severity, dg.AssetCheckSeverity.WARN)
        self.assertFalse(evaluations["no_nulls"].passed)
        self.assertEqual(evaluations["no_nulls"].severity, dg.AssetCheckSeverity.ERROR)
        self.assertEqual(evaluations["no_nulls"].metadata["nulls"], dg.IntMetadataValue(2))

    def test_job_logs_in_dagster(self):
        logs = {(e.level, e.user_message) for e in self.instance.all_logs(self.ok.run_id)}
        import logging
        for level, message in ((logging.INFO, "partition 2024-01-02"),
                               (logging.WARNING, "warning line"), (logging.ERROR, "error line"),
                               (logging.CRITICAL, "critical line")):
            self.assertIn((level, message), logs)

    def test_failed_arbiter_run_fails_dagster_run(self):
        self.assertFalse(self.failed.success)
        failures = self.events(self.failed.run_id, "STEP_FAILURE")
        self.assertEqual(len(failures), 1)
        data = failures[0].dagster_event.event_specific_data
        self.assertIn("bad input for 2024-01-03", data.user_failure_data.description)
        self.assertIn("FAILURE", data.user_failure_data.description)
        # No materialization for the failed partition in Dagster.
        self.assertEqual(self.instance.get_materialized_partitions(dg.AssetKey(["dagster", "job"])),
                         {"2024-01-02"})


    def gated_client(self, gate):
        return ArbiterClient(project_dir=str(self.project), arbiter=self.binary,
                             poll_interval_s=0.05,
                             env={"PYTHONPATH": str(self.pipes), "GATE": str(gate)})

    def test_events_stream_while_the_run_runs(self):
        gate = self.project / "gate-stream"
        client = self.gated_client(gate)
        run_id = client.materialize("dagster/gated")["run_id"]
        seen_running = False
        final = None
        for run, fresh in client.follow(run_id):
            messages = [e["message"] for e in fresh]
            if "waiting for gate" in messages:
                # The job cannot end before the gate opens: this event came live.
                self.assertEqual(run["status"], "RUNNING")
                seen_running = True
                gate.touch()
            final = run
        self.assertTrue(seen_running)
        self.assertEqual(final["status"], "SUCCESS")

    def test_interrupted_dagster_step_cancels_the_arbiter_run(self):
        class Interrupted(BaseException):  # what Dagster raises into a step it stops
            pass

        class Log:
            def info(self, message):
                if message == "waiting for gate":
                    raise Interrupted()
            debug = warning = error = critical = info

        class Context:  # the parts of AssetExecutionContext that run() uses
            asset_key = dg.AssetKey(["dagster", "gated"])
            has_partition_key = False
            selected_asset_check_keys = set()
            log = Log()

        client = self.gated_client(self.project / "gate-never")
        with self.assertRaises(Interrupted):
            client.run(Context())
        _, runs, _ = interop.arbiter(self.binary, self.project, "runs", "--asset", "dagster/gated")
        gated = [r for r in runs if r["status"] != "SUCCESS"]
        self.assertEqual([r["status"] for r in gated], ["CANCELED"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
