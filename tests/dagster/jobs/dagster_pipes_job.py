"""A job written for Dagster: it imports only `dagster_pipes` (whichever release PYTHONPATH
selects) and uses what that release offers. Run by tests/dagster/test_dagster_pipes_under_arbiter.py.

It reports the context it received as a custom message (or, on releases without custom
messages, as a `context` metadata entry), a materialization with every metadata type the
release knows, two checks, logs at every level and, where available, an external stream.
Partition keys ending in "-03" raise after reporting, to test exceptions.
"""
import json
import sys

import dagster_pipes as dp
from dagster_pipes.version import __version__ as CLIENT_VERSION

# 1.5.0-1.5.2 have init_dagster_pipes (closed at exit); 1.5.3+ open_dagster_pipes (a context manager).
if hasattr(dp, "open_dagster_pipes"):
    session = dp.open_dagster_pipes()
else:
    session = None
    pipes = dp.init_dagster_pipes()


def work(pipes):
    seen = {
        "client_version": CLIENT_VERSION,
        "asset_key": pipes.asset_key,
        "asset_keys": list(pipes.asset_keys),
        "code_version": pipes.code_version,
        "partition_key": pipes.partition_key,
        "partition_key_range": dict(pipes.partition_key_range._asdict()
                                    if hasattr(pipes.partition_key_range, "_asdict")
                                    else pipes.partition_key_range),
        "partition_time_window": (dict(pipes.partition_time_window._asdict()
                                       if hasattr(pipes.partition_time_window, "_asdict")
                                       else pipes.partition_time_window)
                                  if pipes.partition_time_window else None),
        "is_partition_step": pipes.is_partition_step,
        "run_id": pipes.run_id,
        "job_name": pipes.job_name,
        "retry_number": pipes.retry_number,
        "extras": dict(pipes.extras),
        "extra_runtime": pipes.get_extra("arbiter/runtime"),
    }
    types = set(dp.PipesMetadataType.__args__)
    metadata = {
        "inferred_int": 42,
        "inferred_float": 0.5,
        "inferred_str": "hello",
        "inferred_bool": True,
        "inferred_none": None,
        "text": {"raw_value": "plain text", "type": "text"},
        "url": {"raw_value": "https://example.com/report", "type": "url"},
        "path": {"raw_value": "/data/out.parquet", "type": "path"},
        "notebook": {"raw_value": "/nb/analysis.ipynb", "type": "notebook"},
        "json": {"raw_value": {"rows": [1, 2, 3]}, "type": "json"},
        "md": {"raw_value": "# Title", "type": "md"},
        "float": {"raw_value": 1.25, "type": "float"},
        "int": {"raw_value": 7, "type": "int"},
        "bool": {"raw_value": False, "type": "bool"},
        "dagster_run": {"raw_value": "0123456789abcdef", "type": "dagster_run"},
        "asset": {"raw_value": "other/asset", "type": "asset"},
        "null": {"raw_value": None, "type": "null"},
    }
    if "timestamp" in types:
        metadata["timestamp"] = {"raw_value": 1704067200.0, "type": "timestamp"}
    if "table" in types:
        metadata["table"] = {"raw_value": {"records": [{"a": 1, "b": "x"}],
                                           "schema": [{"name": "a", "type": "int"},
                                                      {"name": "b", "type": "string"}]},
                             "type": "table"}
        metadata["table_schema"] = {"raw_value": {"columns": [{"name": "a", "type": "int"}]},
                                    "type": "table_schema"}
        metadata["table_column_lineage"] = {
            "raw_value": {"deps_by_column": {"a": [{"asset_key": "up", "column_name": "x"}]}},
            "type": "table_column_lineage"}
    has_custom = hasattr(pipes, "report_custom_message")
    if not has_custom:
        metadata["context"] = {"raw_value": seen, "type": "json"}

    pipes.log.debug("debug line")
    pipes.log.info("partition %s", pipes.partition_key)
    pipes.log.warning("warning line")
    pipes.log.error("error line")
    pipes.log.critical("critical line")
    print("plain stdout line", flush=True)
    print("plain stderr line", file=sys.stderr, flush=True)
    if has_custom:
        pipes.report_custom_message({"seen": seen})
    if hasattr(pipes, "log_external_stream"):
        pipes.log_external_stream("stdout", "external text\n", {"source": "spark-driver"})
    pipes.report_asset_materialization(metadata=metadata, data_version="dv-" + pipes.partition_key)
    pipes.report_asset_check("rows_positive", passed=True, severity="WARN",
                             metadata={"rows": 3})
    pipes.report_asset_check("no_nulls", passed=False, metadata={"nulls": {"raw_value": 2, "type": "int"}})
    if pipes.partition_key.endswith("-03"):
        raise ValueError("bad input for " + pipes.partition_key)


if session is not None:
    with session as pipes:
        work(pipes)
else:
    work(pipes)
