"""arbiter_pipes: the job side of the pipes protocol, in one file, standard library only.

Wire-compatible with Dagster Pipes protocol 0.1: a job using this module runs under Arbiter
or under Dagster, and a job written for dagster-pipes runs under Arbiter. Copy this file next
to your PySpark script (or ship it with --py-files) and:

    from arbiter_pipes import open_pipes

    with open_pipes() as pipes:
        pipes.log.info("partition %s" % pipes.partition_key)
        ...
        pipes.report_asset_materialization(metadata={"rows": 12}, data_version="v1")

Outside a pipes launch the context is a no-op (one warning), so the same script runs
standalone. Thread-safety: a PipesContext may be used from several threads; each message is
written whole, under a lock.
"""

import base64
import json
import logging
import os
import sys
import threading
import time
import traceback
import warnings
import zlib

__all__ = [
    "PipesContext",
    "PipesError",
    "open_pipes",
    "open_dagster_pipes",
    "encode_param",
    "decode_param",
    "escape_asset_key",
    "parse_asset_key",
    "fuse_path",
]

PIPES_PROTOCOL_VERSION = "0.1"
VERSION_KEY = "__dagster_pipes_version"
CONTEXT_ENV_VAR = "DAGSTER_PIPES_CONTEXT"
MESSAGES_ENV_VAR = "DAGSTER_PIPES_MESSAGES"
CONTEXT_CLI_FLAG = "--dagster-pipes-context"
MESSAGES_CLI_FLAG = "--dagster-pipes-messages"

METADATA_TYPES = frozenset([
    "__infer__", "text", "url", "path", "notebook", "md", "json", "float", "int", "bool",
    "dagster_run", "asset", "null", "timestamp", "table", "table_schema",
    "table_column_lineage",
])
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class PipesError(Exception):
    """Misuse of the pipes API or a bad bootstrap payload."""


# ---- codec ---------------------------------------------------------------------------------

def encode_param(value):
    """base64(zlib(json)), exactly as the orchestrator encodes bootstrap params."""
    return base64.b64encode(zlib.compress(json.dumps(value).encode("utf-8"))).decode("ascii")


def decode_param(text):
    return json.loads(zlib.decompress(base64.b64decode(text)).decode("utf-8"))


def escape_asset_key(parts):
    """["a", "b/c"] -> "a/b\\/c"."""
    return "/".join(p.replace("/", "\\/") for p in parts)


def parse_asset_key(text):
    """"a/b\\/c" -> ["a", "b/c"]; a backslash escapes the next character."""
    parts, current, i = [], [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            current.append(text[i + 1])
            i += 2
            continue
        if c == "/":
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    if current:
        parts.append("".join(current))
    return parts


# ---- bootstrap -----------------------------------------------------------------------------

def load_bootstrap(env=None, argv=None):
    """(context_params, messages_params), or None when this is not a pipes launch.

    The environment is checked first, then argv (flag and value as separate entries)."""
    env = os.environ if env is None else env
    argv = sys.argv if argv is None else argv
    if CONTEXT_ENV_VAR in env:
        if MESSAGES_ENV_VAR not in env:
            raise PipesError("%s is set but %s is not" % (CONTEXT_ENV_VAR, MESSAGES_ENV_VAR))
        return decode_param(env[CONTEXT_ENV_VAR]), decode_param(env[MESSAGES_ENV_VAR])
    if CONTEXT_CLI_FLAG in argv:
        values = {}
        for flag in (CONTEXT_CLI_FLAG, MESSAGES_CLI_FLAG):
            if flag not in argv:
                raise PipesError("%s given without %s" % (CONTEXT_CLI_FLAG, MESSAGES_CLI_FLAG))
            i = argv.index(flag)
            if i + 1 >= len(argv):
                raise PipesError("%s needs a value" % flag)
            values[flag] = decode_param(argv[i + 1])
        return values[CONTEXT_CLI_FLAG], values[MESSAGES_CLI_FLAG]
    return None


def _s3_client(params=None):
    """A boto3 S3 client. The endpoint (an S3-compatible store) comes from the params'
    "arbiter_s3_endpoint_url" extension or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, which
    older boto3 releases do not read themselves; path-style addressing likewise."""
    try:
        import boto3  # noqa: F401 (optional: present on EMR)
    except ImportError:
        raise PipesError("S3 pipes channel needs boto3, which is not importable here")
    params = params or {}
    endpoint = (params.get("arbiter_s3_endpoint_url") or os.environ.get("AWS_ENDPOINT_URL_S3")
                or os.environ.get("AWS_ENDPOINT_URL"))
    kwargs = {}
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    if params.get("arbiter_s3_region"):
        kwargs["region_name"] = params["arbiter_s3_region"]
    if params.get("arbiter_s3_path_style"):
        from botocore.config import Config
        kwargs["config"] = Config(signature_version="s3v4", s3={"addressing_style": "path"})
    return boto3.client("s3", **kwargs)


FUSE_ROOT_ENV_VAR = "ARBITER_FUSE_ROOT"


def fuse_path(path, env=None):
    """`path` as this process sees it. On a Databricks cluster /dbfs/... and /Volumes/... are
    FUSE mounts; where ARBITER_FUSE_ROOT is set (the Databricks emulator), they live under
    that directory instead: /dbfs/x -> $ARBITER_FUSE_ROOT/dbfs/x."""
    env = os.environ if env is None else env
    root = env.get(FUSE_ROOT_ENV_VAR)
    if root and isinstance(path, str):
        for mount in ("/dbfs", "/Volumes"):
            if path == mount or path.startswith(mount + "/"):
                return root.rstrip("/") + path
    return path


def load_context_data(params):
    """The context object from the context params: a file path, inline data, or S3."""
    if "path" in params:
        with open(fuse_path(params["path"]), "r", encoding="utf-8") as f:
            return json.load(f)
    if "data" in params:
        if not isinstance(params["data"], dict):
            raise PipesError("context params 'data' must be an object")
        return params["data"]
    if "bucket" in params and "key" in params:
        body = _s3_client(params).get_object(Bucket=params["bucket"],
                                             Key=params["key"])["Body"].read()
        return json.loads(body.decode("utf-8"))
    raise PipesError("context params need 'path', 'data' or 'bucket'/'key': %r" % (params,))


# ---- writers -------------------------------------------------------------------------------

def _write_all(fd, data):
    # One write() for the whole line in the normal case; loop only on a short write.
    while data:
        n = os.write(fd, data)
        data = data[n:]


class _FileWriter(object):
    def __init__(self, path):
        self._fd = os.open(fuse_path(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, line):
        _write_all(self._fd, (line + "\n").encode("utf-8"))

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class _StdioWriter(object):
    def __init__(self, stream_name):
        if stream_name not in ("stdout", "stderr"):
            raise PipesError("stdio must be 'stdout' or 'stderr', got %r" % (stream_name,))
        self._stream = sys.stdout if stream_name == "stdout" else sys.stderr
        self._fd = 1 if stream_name == "stdout" else 2

    def write(self, line):
        # Flush Python's own buffer first so ordinary prints never split a message line.
        try:
            self._stream.flush()
        except Exception:
            pass
        _write_all(self._fd, (line + "\n").encode("utf-8"))

    def close(self):
        pass


class _BufferedStdioWriter(_StdioWriter):
    def __init__(self, stream_name):
        super(_BufferedStdioWriter, self).__init__(stream_name)
        self._lines = []

    def write(self, line):
        self._lines.append(line)

    def close(self):
        lines, self._lines = self._lines, []
        for line in lines:
            _StdioWriter.write(self, line)


class _ChunkWriter(object):
    """Queues messages and uploads them as numbered chunks (1.json, 2.json, ...), each the
    queued lines joined by newlines, from a background thread every `interval` seconds and
    once more on close."""

    def __init__(self, interval):
        self._interval = interval
        self._queue = []
        self._index = 1
        self._lock = threading.Lock()
        self._upload_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="arbiter-pipes-upload")
        self._thread.daemon = True
        self._thread.start()

    def write(self, line):
        with self._lock:
            self._queue.append(line)

    def _flush(self):
        with self._upload_lock:
            with self._lock:
                lines, self._queue = self._queue, []
            if not lines:
                return
            self.upload(self._index, "\n".join(lines))
            self._index += 1

    def _run(self):
        while not self._stop.wait(self._interval):
            try:
                self._flush()
            except Exception as e:  # keep going; the final flush retries what is queued
                sys.stderr.write("arbiter_pipes: chunk upload failed: %s\n" % (e,))

    def close(self):
        self._stop.set()
        self._thread.join(60)
        self._flush()

    def upload(self, index, body):
        raise NotImplementedError


class _DirChunkWriter(_ChunkWriter):
    """Chunks as files in a directory: local disk, /dbfs/... or /Volumes/... mounts."""

    def __init__(self, path, interval):
        path = fuse_path(path)
        if path.startswith("/dbfs/") or path.startswith("/Volumes/") or os.path.isdir(path):
            self._dir = path
        elif os.path.isdir("/dbfs") and not path.startswith("/dbfs"):
            self._dir = "/dbfs" + path  # a DBFS path given without its FUSE prefix
        else:
            self._dir = path
        if not os.path.isdir(self._dir):
            os.makedirs(self._dir)
        super(_DirChunkWriter, self).__init__(interval)

    def upload(self, index, body):
        final = os.path.join(self._dir, "%d.json" % index)
        tmp = os.path.join(self._dir, ".%d.json.tmp" % index)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(body)
        os.replace(tmp, final)  # readers never see half a chunk


class _S3ChunkWriter(_ChunkWriter):
    def __init__(self, bucket, key_prefix, interval, client=None, params=None):
        self._client = client or _s3_client(params)
        self._bucket = bucket
        self._prefix = key_prefix
        super(_S3ChunkWriter, self).__init__(interval)

    def upload(self, index, body):
        key = "%s/%d.json" % (self._prefix, index) if self._prefix else "%d.json" % index
        self._client.put_object(Bucket=self._bucket, Key=key, Body=body.encode("utf-8"))


def open_writer(params, chunk_interval=10.0):
    """The message writer the messages params ask for."""
    if "path" in params:
        path = params["path"]
        if params.get("arbiter_blob_chunks") or os.path.isdir(path):
            return _DirChunkWriter(path, chunk_interval)
        return _FileWriter(path)
    if "stdio" in params:
        return _StdioWriter(params["stdio"])
    if "buffered_stdio" in params:
        return _BufferedStdioWriter(params["buffered_stdio"])
    if "bucket" in params:
        return _S3ChunkWriter(params["bucket"], params.get("key_prefix"), chunk_interval,
                              params=params)
    raise PipesError("messages params need 'path', 'stdio', 'buffered_stdio' or 'bucket': %r"
                     % (params,))


# ---- metadata and exceptions ---------------------------------------------------------------

def _normalize_metadata(metadata):
    """{name: value} -> {name: {"raw_value": ..., "type": ...}}, or None when empty.

    A value that is already {"raw_value": v, "type": t} keeps its type; anything else is sent
    as "__infer__". Python keeps 1 and 1.0 apart, and so does the JSON written here."""
    if not metadata:
        return None
    out = {}
    for name, value in metadata.items():
        if not isinstance(name, str):
            raise PipesError("metadata keys must be strings, got %r" % (name,))
        if isinstance(value, dict) and set(value.keys()) == {"raw_value", "type"}:
            if value["type"] not in METADATA_TYPES:
                raise PipesError("metadata %r: unknown type %r" % (name, value["type"]))
            out[name] = {"raw_value": value["raw_value"], "type": value["type"]}
        else:
            out[name] = {"raw_value": value, "type": "__infer__"}
    return out


def _exception_payload(exc, seen=None):
    if exc is None:
        return None
    seen = set() if seen is None else seen
    if id(exc) in seen:  # cause/context chains can loop
        return None
    seen.add(id(exc))
    return {
        "message": "".join(traceback.format_exception_only(type(exc), exc)),
        "stack": traceback.format_tb(exc.__traceback__) if exc.__traceback__ else [],
        "name": type(exc).__name__,
        "cause": _exception_payload(exc.__cause__, seen),
        "context": _exception_payload(exc.__context__, seen),
    }


# ---- context -------------------------------------------------------------------------------

class _Log(object):
    def __init__(self, emit):
        self._emit = emit

    def log(self, level, message, *args):
        level = str(level).upper()
        if level == "WARN":
            level = "WARNING"
        if level not in LOG_LEVELS:
            raise PipesError("unknown log level %r" % (level,))
        self._emit(level, (message % args) if args else str(message))

    def debug(self, message, *args):
        self.log("DEBUG", message, *args)

    def info(self, message, *args):
        self.log("INFO", message, *args)

    def warning(self, message, *args):
        self.log("WARNING", message, *args)

    warn = warning

    def error(self, message, *args):
        self.log("ERROR", message, *args)

    def critical(self, message, *args):
        self.log("CRITICAL", message, *args)


class PipesContext(object):
    """What the orchestrator told the job, plus the calls that report back."""

    def __init__(self, data, writer):
        self._data = data
        self._writer = writer
        self._lock = threading.Lock()
        self._closed = False
        self._materialized = set()
        self.log = _Log(lambda level, message: self._write("log", {"message": message,
                                                                   "level": level}))
        self._write("opened", {})

    # -- plumbing --
    def _write(self, method, params):
        line = json.dumps({VERSION_KEY: PIPES_PROTOCOL_VERSION, "method": method,
                           "params": params})
        with self._lock:
            if self._closed:
                raise PipesError("pipes already closed; cannot send %r" % (method,))
            self._writer.write(line)

    @property
    def is_closed(self):
        return self._closed

    def close(self, exception=None):
        """Sends `closed` (with the exception, if any) once; later calls do nothing."""
        with self._lock:
            if self._closed:
                return
        params = {}
        if exception is not None:
            params["exception"] = _exception_payload(exception)
        self._write("closed", params)
        with self._lock:
            self._closed = True
        self._writer.close()

    # -- accessors --
    @property
    def is_asset_step(self):
        return self._data.get("asset_keys") is not None

    @property
    def asset_keys(self):
        return self._data.get("asset_keys")

    @property
    def asset_key(self):
        keys = self.asset_keys
        if not keys or len(keys) != 1:
            raise PipesError("asset_key needs exactly one asset in scope, have %r" % (keys,))
        return keys[0]

    @property
    def code_version_by_asset_key(self):
        return self._data.get("code_version_by_asset_key")

    @property
    def provenance_by_asset_key(self):
        return self._data.get("provenance_by_asset_key")

    @property
    def code_version(self):
        return (self.code_version_by_asset_key or {}).get(self.asset_key)

    @property
    def provenance(self):
        return (self.provenance_by_asset_key or {}).get(self.asset_key)

    @property
    def is_partition_step(self):
        return self._data.get("partition_key_range") is not None

    @property
    def partition_key(self):
        key = self._data.get("partition_key")
        if key is None:
            raise PipesError("this run has no single partition key")
        return key

    @property
    def partition_key_range(self):
        return self._data.get("partition_key_range")

    @property
    def partition_time_window(self):
        return self._data.get("partition_time_window")

    @property
    def run_id(self):
        return self._data["run_id"]

    @property
    def job_name(self):
        return self._data.get("job_name")

    @property
    def retry_number(self):
        return self._data.get("retry_number", 0)

    @property
    def extras(self):
        return self._data.get("extras") or {}

    def get_extra(self, key):
        if key not in self.extras:
            raise PipesError("no extra %r; have %r" % (key, sorted(self.extras)))
        return self.extras[key]

    # -- reports --
    def _resolve_asset_key(self, asset_key):
        keys = self.asset_keys or []
        if asset_key is None:
            if len(keys) != 1:
                raise PipesError("asset_key is required with %d assets in scope" % len(keys))
            return keys[0]
        if isinstance(asset_key, (list, tuple)):
            asset_key = escape_asset_key(asset_key)
        if keys and asset_key not in keys:
            raise PipesError("asset %r is not in scope %r" % (asset_key, keys))
        return asset_key

    def report_asset_materialization(self, metadata=None, data_version=None, asset_key=None):
        key = self._resolve_asset_key(asset_key)
        if key in self._materialized:
            raise PipesError("asset %r already reported as materialized" % (key,))
        if data_version is not None and not isinstance(data_version, str):
            raise PipesError("data_version must be a string")
        params = {"asset_key": key, "data_version": data_version,
                  "metadata": _normalize_metadata(metadata)}
        self._write("report_asset_materialization", params)
        self._materialized.add(key)

    def report_asset_check(self, check_name, passed, severity="ERROR", metadata=None,
                           asset_key=None):
        if not isinstance(check_name, str) or not isinstance(passed, bool):
            raise PipesError("check_name must be a str and passed a bool")
        self._write("report_asset_check", {
            "asset_key": self._resolve_asset_key(asset_key),
            "check_name": check_name,
            "passed": passed,
            "metadata": _normalize_metadata(metadata),
            "severity": severity,
        })

    def report_custom_message(self, payload):
        self._write("report_custom_message", {"payload": payload})

    def log_external_stream(self, stream, text):
        if stream not in ("stdout", "stderr"):
            raise PipesError("stream must be 'stdout' or 'stderr'")
        self._write("log_external_stream", {"stream": stream, "text": text, "extras": {}})


class _NoOpContext(PipesContext):
    """Stands in when the script runs without an orchestrator: reports go nowhere, logs go to
    stderr, accessors return empty values."""

    def __init__(self):
        self._data = {"asset_keys": None, "run_id": "", "retry_number": 0, "extras": {}}
        self._lock = threading.Lock()
        self._closed = False
        self._materialized = set()
        self.log = _Log(lambda level, message: sys.stderr.write("%s %s\n" % (level, message)))

    def _write(self, method, params):
        pass

    def close(self, exception=None):
        self._closed = True

    def _resolve_asset_key(self, asset_key):
        if isinstance(asset_key, (list, tuple)):
            return escape_asset_key(asset_key)
        return asset_key or ""


class _PipesSession(object):
    def __init__(self, env, argv, chunk_interval):
        self._env, self._argv, self._interval = env, argv, chunk_interval
        self.context = None

    def __enter__(self):
        bootstrap = load_bootstrap(self._env, self._argv)
        if bootstrap is None:
            warnings.warn("arbiter_pipes: not launched under pipes (no %s in the environment "
                          "or %s argument); reporting is a no-op"
                          % (CONTEXT_ENV_VAR, CONTEXT_CLI_FLAG), stacklevel=2)
            self.context = _NoOpContext()
            return self.context
        context_params, messages_params = bootstrap
        data = load_context_data(context_params)
        writer = open_writer(messages_params, self._interval)
        self.context = PipesContext(data, writer)
        return self.context

    def __exit__(self, exc_type, exc, tb):
        if isinstance(exc, SystemExit) and exc.code in (0, None):
            exc = None  # sys.exit(0) is a normal end
        if self.context is not None:
            self.context.close(exc)
        return False  # never swallow the job's exception


def open_pipes(env=None, argv=None, chunk_interval=10.0):
    """Context manager yielding a PipesContext (or a no-op one outside pipes)."""
    return _PipesSession(env, argv, chunk_interval)


# Same name as the dagster-pipes entry point, for scripts ported from Dagster.
open_dagster_pipes = open_pipes

logging.getLogger(__name__).addHandler(logging.NullHandler())
