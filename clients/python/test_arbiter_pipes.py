"""Unit tests for arbiter_pipes.py (stdlib unittest; run from ctest or by hand:
python3 -m unittest discover -s clients/python)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import types
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arbiter_pipes as ap  # noqa: E402

CONTEXT = {
    "asset_keys": ["crawl/edges"], "code_version_by_asset_key": {"crawl/edges": "v7"},
    "provenance_by_asset_key": {"crawl/edges": None}, "partition_key": "2024-01-01",
    "partition_key_range": {"start": "2024-01-01", "end": "2024-01-01"},
    "partition_time_window": {"start": "2024-01-01T00:00:00+00:00",
                              "end": "2024-01-02T00:00:00+00:00"},
    "run_id": "r-1", "job_name": "daily", "retry_number": 1, "extras": {"seed": 42},
}


def env_for(messages_params, context=CONTEXT):
    return {ap.CONTEXT_ENV_VAR: ap.encode_param({"data": context}),
            ap.MESSAGES_ENV_VAR: ap.encode_param(messages_params)}


def read_messages(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


class CodecTest(unittest.TestCase):
    def test_spec_vectors(self):
        self.assertEqual(ap.encode_param({"path": "/tmp/ctx.json"}),
                         "eJyrVipILMlQslJQ0i/JLdBPLqnQyyrOz1OqBQBpjQhu")
        self.assertEqual(ap.encode_param({"stdio": "stderr"}), "eJyrViouScnMV7JSADFSi4qUagFBNAaS")
        self.assertEqual(
            ap.decode_param("eJyrVipILMlQslJQ0i/JLdDPLU4vVtJRUMrMS84pTUmNLy5JycyPz8yLz00tLk5MTy0"
                            "GqkxLzClOrQUAMTMUOQ=="),
            {"path": "/tmp/msgs", "include_stdio_in_messages": False})

    def test_asset_keys(self):
        self.assertEqual(ap.escape_asset_key(["a", "b/c"]), "a/b\\/c")
        self.assertEqual(ap.parse_asset_key("a/b\\/c"), ["a", "b/c"])
        self.assertEqual(ap.parse_asset_key("a\\\\b"), ["a\\b"])
        self.assertEqual(ap.parse_asset_key("a/b/"), ["a", "b"])

    def test_bootstrap_from_argv(self):
        argv = ["job.py", "--x", ap.CONTEXT_CLI_FLAG, ap.encode_param({"data": CONTEXT}),
                ap.MESSAGES_CLI_FLAG, ap.encode_param({"stdio": "stderr"})]
        ctx, msgs = ap.load_bootstrap(env={}, argv=argv)
        self.assertEqual(ctx["data"]["run_id"], "r-1")
        self.assertEqual(msgs, {"stdio": "stderr"})
        self.assertIsNone(ap.load_bootstrap(env={}, argv=["job.py", "--dagster-pipes-context=x"]))
        with self.assertRaises(ap.PipesError):
            ap.load_bootstrap(env={ap.CONTEXT_ENV_VAR: "x"}, argv=[])


class MetadataTest(unittest.TestCase):
    def test_int_and_float_stay_apart(self):
        md = ap._normalize_metadata({"i": 1, "f": 1.0, "b": True, "t": {"raw_value": 3,
                                                                       "type": "int"}})
        self.assertEqual(json.dumps(md["i"]), '{"raw_value": 1, "type": "__infer__"}')
        self.assertEqual(json.dumps(md["f"]), '{"raw_value": 1.0, "type": "__infer__"}')
        self.assertEqual(md["t"], {"raw_value": 3, "type": "int"})
        self.assertIsNone(ap._normalize_metadata({}))
        with self.assertRaises(ap.PipesError):
            ap._normalize_metadata({"x": {"raw_value": 1, "type": "job"}})
        with self.assertRaises(ap.PipesError):
            ap._normalize_metadata({1: 2})


class FileChannelTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.path = os.path.join(self.dir, "messages")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_every_method(self):
        with ap.open_pipes(env=env_for({"path": self.path}), argv=[]) as pipes:
            self.assertEqual(pipes.asset_key, "crawl/edges")
            self.assertEqual(pipes.partition_key, "2024-01-01")
            self.assertEqual(pipes.partition_time_window["end"], "2024-01-02T00:00:00+00:00")
            self.assertEqual((pipes.run_id, pipes.job_name, pipes.retry_number),
                             ("r-1", "daily", 1))
            self.assertEqual(pipes.get_extra("seed"), 42)
            self.assertEqual(pipes.code_version, "v7")
            self.assertTrue(pipes.is_partition_step)
            with self.assertRaises(ap.PipesError):
                pipes.get_extra("missing")
            pipes.log.debug("d")
            pipes.log.info("rows=%d", 5)
            pipes.log.warning("w")
            pipes.log.error("e")
            pipes.log.critical("c")
            pipes.report_asset_materialization(metadata={"rows": 5, "ratio": 0.5},
                                               data_version="dv1")
            with self.assertRaises(ap.PipesError):
                pipes.report_asset_materialization()  # same key twice
            with self.assertRaises(ap.PipesError):
                pipes.report_asset_check("c", True, asset_key="other")  # not in scope
            pipes.report_asset_check("no_nulls", False, severity="WARN")
            pipes.report_custom_message({"k": [1, 2.5, None]})
            pipes.log_external_stream("stdout", "raw text\n")
        self.assertTrue(pipes.is_closed)
        with self.assertRaises(ap.PipesError):
            pipes.log.info("after close")
        msgs = read_messages(self.path)
        self.assertTrue(all(m["__dagster_pipes_version"] == "0.1" for m in msgs))
        self.assertEqual([m["method"] for m in msgs],
                         ["opened", "log", "log", "log", "log", "log",
                          "report_asset_materialization", "report_asset_check",
                          "report_custom_message", "log_external_stream", "closed"])
        self.assertEqual([m["params"]["level"] for m in msgs[1:6]],
                         ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
        self.assertEqual(msgs[2]["params"]["message"], "rows=5")
        self.assertEqual(msgs[6]["params"], {
            "asset_key": "crawl/edges", "data_version": "dv1",
            "metadata": {"rows": {"raw_value": 5, "type": "__infer__"},
                         "ratio": {"raw_value": 0.5, "type": "__infer__"}}})
        self.assertEqual(msgs[7]["params"], {"asset_key": "crawl/edges", "check_name": "no_nulls",
                                             "passed": False, "metadata": None,
                                             "severity": "WARN"})
        self.assertEqual(msgs[10]["params"], {})

    def test_closed_carries_the_exception(self):
        with self.assertRaises(ValueError):
            with ap.open_pipes(env=env_for({"path": self.path}), argv=[]):
                try:
                    raise KeyError("k")
                except KeyError:
                    raise ValueError("boom")
        closed = read_messages(self.path)[-1]
        self.assertEqual(closed["method"], "closed")
        exc = closed["params"]["exception"]
        self.assertEqual(set(exc), {"message", "stack", "name", "cause", "context"})
        self.assertEqual(exc["name"], "ValueError")
        self.assertEqual(exc["message"], "ValueError: boom\n")
        self.assertTrue(exc["stack"])
        self.assertIsNone(exc["cause"])
        self.assertEqual(exc["context"]["name"], "KeyError")

    def test_sys_exit_zero_is_not_an_error(self):
        with self.assertRaises(SystemExit):
            with ap.open_pipes(env=env_for({"path": self.path}), argv=[]):
                sys.exit(0)
        self.assertEqual(read_messages(self.path)[-1]["params"], {})

    def test_context_from_file(self):
        ctx_path = os.path.join(self.dir, "context.json")
        with open(ctx_path, "w") as f:
            json.dump(CONTEXT, f)
        env = {ap.CONTEXT_ENV_VAR: ap.encode_param({"path": ctx_path}),
               ap.MESSAGES_ENV_VAR: ap.encode_param({"path": self.path})}
        with ap.open_pipes(env=env, argv=[]) as pipes:
            self.assertEqual(pipes.run_id, "r-1")


class StdioChannelTest(unittest.TestCase):
    def test_messages_and_prints_share_stderr(self):
        script = ("import sys; sys.path.insert(0, %r)\n"
                  "import arbiter_pipes as ap\n"
                  "with ap.open_pipes() as p:\n"
                  "    sys.stderr.write('plain\\n')\n"
                  "    p.log.info('hello')\n"
                  "    print('to stdout')\n" % os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ)
        env.update(env_for({"stdio": "stderr"}))
        proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, check=True)
        lines = proc.stderr.splitlines()
        self.assertEqual(lines[1], "plain")
        self.assertEqual([json.loads(lines[i])["method"] for i in (0, 2, 3)],
                         ["opened", "log", "closed"])
        self.assertEqual(proc.stdout, "to stdout\n")

    def test_buffered_stdio_writes_on_close(self):
        writes = []
        orig = ap._write_all
        ap._write_all = lambda fd, data: writes.append((fd, data))
        try:
            with ap.open_pipes(env=env_for({"buffered_stdio": "stdout"}), argv=[]) as pipes:
                pipes.log.info("x")
                self.assertEqual(writes, [])
        finally:
            ap._write_all = orig
        self.assertEqual([fd for fd, _ in writes], [1, 1, 1])


class ChunkChannelTest(unittest.TestCase):
    def test_directory_chunks(self):
        d = tempfile.mkdtemp()
        try:
            chunks = os.path.join(d, "run", "msgs")
            params = {"path": chunks, "include_stdio_in_messages": False,
                      "arbiter_blob_chunks": True}
            with ap.open_pipes(env=env_for(params), argv=[], chunk_interval=3600) as pipes:
                pipes.log.info("one")
                pipes._writer._flush()  # what the upload thread does every interval
                pipes.log.info("two")
            self.assertEqual(sorted(os.listdir(chunks)), ["1.json", "2.json"])
            with open(os.path.join(chunks, "2.json")) as f:
                body = f.read()
            self.assertFalse(body.endswith("\n"))  # lines joined, no trailing newline
            self.assertEqual([json.loads(l)["method"] for l in body.split("\n")],
                             ["log", "closed"])
        finally:
            shutil.rmtree(d)

    def test_dbfs_and_volumes_paths_map_under_the_fuse_root(self):
        d = tempfile.mkdtemp()
        old = os.environ.get(ap.FUSE_ROOT_ENV_VAR)
        os.environ[ap.FUSE_ROOT_ENV_VAR] = d
        try:
            self.assertEqual(ap.fuse_path("/dbfs/a/b"), d + "/dbfs/a/b")
            self.assertEqual(ap.fuse_path("/Volumes/c/s/v/x"), d + "/Volumes/c/s/v/x")
            self.assertEqual(ap.fuse_path("/dbfsx/a"), "/dbfsx/a")  # not the mount
            self.assertEqual(ap.fuse_path("/tmp/a"), "/tmp/a")
            os.makedirs(os.path.join(d, "dbfs", "ctx"))
            with open(os.path.join(d, "dbfs", "ctx", "context.json"), "w") as f:
                json.dump(CONTEXT, f)
            env = {ap.CONTEXT_ENV_VAR: ap.encode_param({"path": "/dbfs/ctx/context.json"}),
                   ap.MESSAGES_ENV_VAR: ap.encode_param(
                       {"path": "/dbfs/run/msgs", "arbiter_blob_chunks": True})}
            with ap.open_pipes(env=env, argv=[], chunk_interval=3600) as pipes:
                self.assertEqual(pipes.partition_key, "2024-01-01")
            self.assertEqual(os.listdir(os.path.join(d, "dbfs", "run", "msgs")), ["1.json"])
        finally:
            if old is None:
                del os.environ[ap.FUSE_ROOT_ENV_VAR]
            else:
                os.environ[ap.FUSE_ROOT_ENV_VAR] = old
            shutil.rmtree(d)

    def test_s3_chunks_with_boto3(self):
        puts = []

        class FakeS3(object):
            def put_object(self, Bucket, Key, Body):
                puts.append((Bucket, Key, Body))

        fake = types.ModuleType("boto3")
        fake.client = lambda name: FakeS3()
        sys.modules["boto3"] = fake
        try:
            params = {"bucket": "b", "key_prefix": "pfx", "include_stdio_in_messages": False}
            with ap.open_pipes(env=env_for(params), argv=[], chunk_interval=3600) as pipes:
                pipes.report_custom_message(1)
        finally:
            del sys.modules["boto3"]
        self.assertEqual([(b, k) for b, k, _ in puts], [("b", "pfx/1.json")])
        self.assertEqual(len(puts[0][2].decode().split("\n")), 3)

    def test_s3_endpoint_params_reach_boto3(self):
        calls = []
        fake = types.ModuleType("boto3")
        fake.client = lambda name, **kwargs: calls.append((name, kwargs))
        sys.modules["boto3"] = fake
        try:
            ap._s3_client({"bucket": "b", "arbiter_s3_endpoint_url": "http://127.0.0.1:1",
                           "arbiter_s3_region": "eu-west-1"})
        finally:
            del sys.modules["boto3"]
        self.assertEqual(calls, [("s3", {"endpoint_url": "http://127.0.0.1:1",
                                         "region_name": "eu-west-1"})])

    def test_s3_without_boto3_is_a_clear_error(self):
        sys.modules["boto3"] = None  # makes "import boto3" raise ImportError
        try:
            with self.assertRaises(ap.PipesError):
                ap.open_writer({"bucket": "b", "key_prefix": "p"})
        finally:
            del sys.modules["boto3"]


class NoOpTest(unittest.TestCase):
    def test_standalone_run_warns_once_and_does_nothing(self):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with ap.open_pipes(env={}, argv=["job.py"]) as pipes:
                pipes.report_asset_materialization(metadata={"a": 1})
                pipes.report_asset_check("c", True)
                pipes.report_custom_message({})
                self.assertEqual(pipes.extras, {})
                self.assertIsNone(pipes.asset_keys)
        self.assertEqual(len(caught), 1)
        self.assertIn("not launched under pipes", str(caught[0].message))


if __name__ == "__main__":
    unittest.main()
