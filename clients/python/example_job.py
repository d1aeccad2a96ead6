"""A job that exercises every pipes method; Arbiter's round-trip tests launch it as a child
process. Flags: --fail (raise after reporting), --garbage (also append junk lines straight to
a file messages channel, to prove the reader survives them)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arbiter_pipes as ap  # noqa: E402


def main():
    with ap.open_pipes() as pipes:
        print("ordinary stdout from the python job", flush=True)
        sys.stderr.write("ordinary stderr from the python job\n")
        sys.stderr.flush()
        pipes.log.debug("debug line")
        pipes.log.info("info line")
        pipes.log.warning("warning line")
        pipes.log.error("error line")
        pipes.log.critical("critical line")
        if "--garbage" in sys.argv:
            path = ap.load_bootstrap()[1]["path"]
            with open(path, "ab") as f:
                f.write(b"this is not json\n{\"__dagster_pipes_version\": \"0.1\", "
                        b"\"method\": \"bogus\", \"params\": {}}\n\xff\xfe\n")
        pipes.report_asset_materialization(
            metadata={
                "rows": 42, "ratio": 1.0, "name": "edges", "ok": True, "nan": float("nan"),
                "cfg": {"raw_value": {"k": [1, 2]}, "type": "json"},
                "doc": {"raw_value": "# report", "type": "md"},
                "link": {"raw_value": "https://example.com", "type": "url"},
                "when": {"raw_value": 1704067200.5, "type": "timestamp"},
                "none": {"raw_value": None, "type": "null"},
                "schema": {"raw_value": {"columns": [{"name": "a", "type": "int"}]},
                           "type": "table_schema"},
            },
            data_version="dv-" + pipes.partition_key)
        pipes.report_asset_check("row_count_positive", True, severity="WARN",
                                 metadata={"rows": 42})
        pipes.report_custom_message({
            "asset_keys": pipes.asset_keys,
            "partition_key": pipes.partition_key,
            "partition_key_range": pipes.partition_key_range,
            "partition_time_window": pipes.partition_time_window,
            "run_id": pipes.run_id,
            "job_name": pipes.job_name,
            "retry_number": pipes.retry_number,
            "extras": pipes.extras,
        })
        pipes.log_external_stream("stderr", "captured text\n")
        if "--fail" in sys.argv:
            raise ValueError("python job failed on purpose")


if __name__ == "__main__":
    main()
