"""A job written with Arbiter's Python client (clients/python/arbiter_pipes.py), launched in
tests/dagster/test_arbiter_job_under_dagster.py by Dagster's PipesSubprocessClient."""
from arbiter_pipes import open_pipes

with open_pipes() as pipes:
    pipes.log.info("arbiter client sees partition %s", pipes.partition_key)
    pipes.log.warning("a warning from the job")
    pipes.report_custom_message({
        "asset_key": pipes.asset_key,
        "partition_key": pipes.partition_key,
        "partition_time_window": pipes.partition_time_window,
        "run_id": pipes.run_id,
        "job_name": pipes.job_name,
        "extras": pipes.extras,
        "code_version": pipes.code_version,
    })
    if pipes.partition_key == "2024-01-03":
        raise RuntimeError("job failed on purpose for " + pipes.partition_key)
    pipes.report_asset_materialization(
        metadata={
            "rows": 12,
            "ratio": 0.5,
            "name": "nodes",
            "report": {"raw_value": "https://example.com/r.html", "type": "url"},
            "schema": {"raw_value": {"columns": [{"name": "host", "type": "string"}]},
                       "type": "table_schema"},
            "flags": {"raw_value": {"k": [1, 2]}, "type": "json"},
        },
        data_version="dv-" + pipes.partition_key,
    )
    pipes.report_asset_check("rows_positive", passed=True, severity="WARN",
                             metadata={"rows": 12})
