"""arbiter_dagster: run Dagster assets through Arbiter without migrating them.

A team keeps Dagster (its UI, schedules, lineage) and lets Arbiter place and run the heavy
assets on the cheapest platform. Inside a Dagster asset:

    from arbiter_dagster import ArbiterClient

    @dg.asset(partitions_def=days, key_prefix="commoncrawl",
              check_specs=[dg.AssetCheckSpec("rows_positive", asset="commoncrawl/nodes")])
    def nodes(context: dg.AssetExecutionContext, arbiter: ArbiterClient):
        return arbiter.run(context)

    defs = dg.Definitions(assets=[nodes],
                          resources={"arbiter": ArbiterClient(project_dir="/srv/pipelines")})

`run` invokes the `arbiter` CLI (`arbiter -C DIR --json materialize ASSET -p KEY --detach`),
so the run is placed, recorded and costed by Arbiter exactly as if it had been started
there; it then follows the run's events (`arbiter --json logs RUN_ID`, polled) and reports
them into the Dagster run as they come: the job's logs through context.log, then its
materialization (metadata, data version) and checks as a MaterializeResult, or a failed run
as dagster.Failure with Arbiter's reason. A stopped Dagster step cancels the Arbiter run.
"""
import json
import os
import subprocess
import time
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import dagster as dg

__all__ = ["ArbiterClient", "ArbiterRunError", "to_dagster_metadata"]
__version__ = "0.1.0"


class ArbiterRunError(Exception):
    """The arbiter CLI could not be run or answered something unexpected."""


def _asset_key(text: str) -> dg.AssetKey:
    return dg.AssetKey.from_user_string(text)


def _metadata_value(entry: Mapping[str, Any]) -> Any:
    """One pipes metadata entry ({"raw_value", "type"}), as Arbiter stored it, as Dagster's value."""
    kind, raw = entry.get("type"), entry.get("raw_value")
    if kind == "text":
        return dg.MetadataValue.text(raw)
    if kind == "url":
        return dg.MetadataValue.url(raw)
    if kind == "path":
        return dg.MetadataValue.path(raw)
    if kind == "notebook":
        return dg.MetadataValue.notebook(raw)
    if kind == "md":
        return dg.MetadataValue.md(raw)
    if kind == "json":
        return dg.MetadataValue.json(raw)
    if kind == "float":
        return dg.MetadataValue.float(float(raw))
    if kind == "int":
        return dg.MetadataValue.int(int(raw))
    if kind == "bool":
        return dg.MetadataValue.bool(bool(raw))
    if kind == "dagster_run":
        return dg.MetadataValue.dagster_run(raw)
    if kind == "asset":
        return dg.MetadataValue.asset(_asset_key(raw))
    if kind == "null":
        return dg.MetadataValue.null()
    if kind == "timestamp":
        return dg.MetadataValue.timestamp(float(raw))
    if kind == "table_schema":
        return dg.MetadataValue.table_schema(_table_schema(raw["columns"]))
    if kind == "table":
        schema = _table_schema(raw["schema"]) if raw.get("schema") else None
        records = [dg.TableRecord(r) for r in raw["records"]]
        return dg.MetadataValue.table(records, schema=schema)
    if kind == "table_column_lineage":
        deps = {col: [dg.TableColumnDep(asset_key=_asset_key(d["asset_key"]),
                                        column_name=d["column_name"]) for d in items]
                for col, items in raw["deps_by_column"].items()}
        return dg.MetadataValue.column_lineage(dg.TableColumnLineage(deps_by_column=deps))
    # Arbiter resolves __infer__ before storing; anything else is kept as JSON, never dropped.
    return dg.MetadataValue.json({"type": kind, "raw_value": raw})


def _table_schema(columns: Sequence[Mapping[str, Any]]) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name=c["name"], type=c.get("type", "string"),
                                                  description=c.get("description"))
                                   for c in columns])


def to_dagster_metadata(metadata: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """Arbiter's stored metadata (pipes form) as Dagster metadata values."""
    return {k: _metadata_value(v) for k, v in (metadata or {}).items()}


_ENDED = {"SUCCESS", "FAILURE", "CANCELED"}
_LOG_METHODS = {"debug": "debug", "info": "info", "warning": "warning", "error": "error",
                "critical": "critical"}


class ArbiterClient(dg.ConfigurableResource):
    """Asks Arbiter to place and run an asset's partition, and reports the run into Dagster."""

    project_dir: str
    """The Arbiter project (the directory with arbiter.yaml)."""
    arbiter: str = "arbiter"
    """The arbiter CLI: a path or a name on PATH."""
    runtime: Optional[str] = None
    """Force a runtime (`--runtime`); by default Arbiter's placement chooses."""
    storage: Optional[str] = None
    """Storage URL (`--storage`); by default the project's."""
    timeout_s: Optional[float] = None
    """Upper bound on following one run (then it is canceled); None: the run's max_duration."""
    poll_interval_s: float = 0.5
    """How often the run's new events are fetched while it runs."""
    env: Dict[str, str] = {}
    """Extra environment for arbiter (and so for local jobs)."""

    def _cli(self, *args: str, timeout: Optional[float] = 120) -> subprocess.CompletedProcess:
        argv = [self.arbiter, "-C", self.project_dir, "--json"]
        if self.storage:
            argv += ["--storage", self.storage]
        argv += list(args)
        env = dict(os.environ)
        env.update(self.env)
        try:
            return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise ArbiterRunError(f"could not run {' '.join(argv)}: {e}") from e

    def _json(self, proc: subprocess.CompletedProcess, what: str) -> Any:
        try:
            return json.loads(proc.stdout)
        except json.JSONDecodeError:
            raise ArbiterRunError(f"arbiter {what} exited {proc.returncode} without JSON: "
                                  f"{proc.stderr.strip()[-2000:]}") from None

    def materialize(self, asset: str, partition: Optional[str] = None) -> Dict[str, Any]:
        """Queues one partition (or the unpartitioned asset) on Arbiter, which places it and runs
        it in a background executor (`materialize --detach`); returns the queued run."""
        args = ["materialize", asset, "--detach"]
        if partition is not None:
            args += ["-p", partition]
        if self.runtime:
            args += ["--runtime", self.runtime]
        proc = self._cli(*args)
        runs = self._json(proc, "materialize") if proc.stdout.strip() else None
        if proc.returncode != 0 or not runs:
            raise ArbiterRunError(f"arbiter materialize {asset} failed (exit {proc.returncode}): "
                                  f"{proc.stderr.strip()[-2000:]}")
        if len(runs) != 1:
            raise ArbiterRunError(f"expected one run for {asset}, arbiter queued {len(runs)}")
        return runs[0]

    def cancel(self, run_id: str) -> None:
        self._cli("cancel", run_id, "--wait", "30", timeout=60)

    def follow(self, run_id: str) -> Iterator[Tuple[Dict[str, Any], List[Dict[str, Any]]]]:
        """Yields (run, new events) until the run has ended, polling `arbiter --json logs`
        (its `-f` prints JSON only at the end). Events come once each, in order (by seq)."""
        last_seq = 0
        deadline = None if self.timeout_s is None else time.monotonic() + self.timeout_s
        while True:
            logs = self.logs(run_id)
            run = logs["run"]
            fresh = [e for e in logs["events"] if e["seq"] > last_seq]
            if fresh:
                last_seq = fresh[-1]["seq"]
            ended = run["status"] in _ENDED
            yield run, fresh
            if ended:
                return
            if deadline is not None and time.monotonic() > deadline:
                raise ArbiterRunError(f"run {run_id} still {run['status']} after "
                                      f"{self.timeout_s} s")
            time.sleep(self.poll_interval_s)

    def logs(self, run_id: str) -> Dict[str, Any]:
        proc = self._cli("logs", run_id)
        if proc.returncode != 0:
            raise ArbiterRunError(f"arbiter logs {run_id} failed: {proc.stderr.strip()}")
        return self._json(proc, "logs")

    @staticmethod
    def _replay(context: dg.AssetExecutionContext, events: List[Dict[str, Any]]) -> None:
        """The job's logs and output, and Arbiter's notes, into the Dagster run's log."""
        for event in events:
            kind, message = event["kind"], event["message"]
            if kind == "log":
                getattr(context.log, _LOG_METHODS.get(event["level"], "info"))(message)
            elif kind in ("stdout", "stderr"):
                context.log.debug(f"[{kind}] {message}")
            elif kind in ("pipes_warning", "warning"):
                context.log.warning(f"arbiter: {message}")
            elif kind in ("status", "pipes"):
                context.log.debug(f"arbiter: {message}")

    def run(self, context: dg.AssetExecutionContext, asset: Optional[str] = None,
            partition: Optional[str] = None) -> dg.MaterializeResult:
        """Runs `asset` (default: the Dagster asset's key, `a/b` for AssetKey(["a", "b"])) for
        `partition` (default: the Dagster run's partition) on Arbiter, replays the job's logs
        into context.log and returns its materialization with the checks the asset declares.
        A failed Arbiter run raises dagster.Failure carrying Arbiter's reason."""
        dagster_key = context.asset_key
        asset = asset or dagster_key.to_user_string()
        if partition is None and context.has_partition_key:
            partition = context.partition_key
        context.log.info(f"arbiter: materializing {asset}"
                         + (f" partition {partition}" if partition else "")
                         + f" in {self.project_dir}")
        run_id = self.materialize(asset, partition)["run_id"]
        context.log.info(f"arbiter: run {run_id} queued")

        materialization: Optional[Mapping[str, Any]] = None
        checks: List[dg.AssetCheckResult] = []
        custom: List[Any] = []
        declared = {k.name for k in context.selected_asset_check_keys}
        run: Dict[str, Any] = {}
        events: List[Dict[str, Any]] = []
        try:
            for run, fresh in self.follow(run_id):
                events.extend(fresh)
                self._replay(context, fresh)
        except BaseException:
            # The Dagster run was stopped (or following failed): stop the Arbiter run too,
            # so nothing keeps running (and costing) unseen.
            self.cancel(run_id)
            raise
        for event in events:
            kind, data = event["kind"], event.get("data")
            if kind == "materialization":
                materialization = data  # the job's last report wins, as in Dagster
            elif kind == "asset_check":
                if data["check_name"] not in declared:
                    context.log.warning(f"arbiter: check {data['check_name']} is not declared "
                                        f"in the asset's check_specs; not reported")
                    continue
                checks.append(dg.AssetCheckResult(
                    check_name=data["check_name"], passed=data["passed"],
                    severity=dg.AssetCheckSeverity(data.get("severity", "ERROR")),
                    metadata=to_dagster_metadata(data.get("metadata"))))
            elif kind == "custom":
                custom.append(data)

        run_meta = {"arbiter/run_id": dg.MetadataValue.text(run_id),
                    "arbiter/runtime": dg.MetadataValue.text(run.get("runtime") or "")}
        if run["status"] != "SUCCESS":
            raise dg.Failure(
                description=f"Arbiter run {run_id} {run['status']}: {run.get('failure_reason', '')}",
                metadata={**run_meta,
                          "stderr_tail": dg.MetadataValue.text(run.get("stderr_tail") or "")})
        if custom:
            run_meta["arbiter/custom_messages"] = dg.MetadataValue.json(custom)
        metadata = {**to_dagster_metadata((materialization or {}).get("metadata")), **run_meta}
        version = (materialization or {}).get("data_version")
        return dg.MaterializeResult(
            metadata=metadata, check_results=checks,
            data_version=dg.DataVersion(version) if version else None)
