"""Shared parts of Arbiter's AWS emulators (EMR, EMR Serverless).

DEVELOPMENT AND TEST TOOL ONLY: loopback servers that behave like the documented services
closely enough to run Arbiter end to end without a cloud account. No security boundary.

What lives here: SigV4 verification of incoming requests (hmac/hashlib, written from the
published algorithm), AWS error shapes for the JSON 1.1 and REST-JSON protocols, a fault
injector (throttling at a rate, 5xx bursts), S3 access to the test store through Debian's
boto3 (the stand-in for what a cluster's instance role reaches), local execution of a job
(script and --py-files fetched from S3, spark-submit or python3, logs gzip'd into the log
bucket), the request recorder behind the admin endpoint, and the HTTP server scaffolding.
"""
import argparse
import datetime
import gzip
import hashlib
import hmac
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from spark import find_spark_submit, spark_env

CLOCK_SKEW = datetime.timedelta(minutes=15)


# ---- SigV4 verification ---------------------------------------------------------------------

def _uri_encode(s, keep_slash=False):
    safe = "-_.~" + ("/" if keep_slash else "")
    return urllib.parse.quote(s, safe=safe)


def _normalize_path(path):
    out = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if out:
                out.pop()
            continue
        out.append(seg)
    norm = "/" + "/".join(out)
    if path.endswith("/") and norm != "/":
        norm += "/"
    return norm


def canonical_query(query):
    pairs = []
    for part in query.split("&") if query else []:
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((_uri_encode(urllib.parse.unquote(name)),
                      _uri_encode(urllib.parse.unquote(value))))
    pairs.sort()
    return "&".join("%s=%s" % p for p in pairs)


def signing_key(secret, date, region, service):
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


class AuthError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def verify_sigv4(method, raw_path, headers, body, service, credentials, now=None):
    """Checks the Authorization header of a request (generic-service rules: the path is
    normalised and encoded once more). `headers` maps lower-case names to values. Returns the
    access key id; raises AuthError with the code AWS uses."""
    auth = headers.get("authorization")
    if not auth:
        raise AuthError("MissingAuthenticationTokenException", "Missing Authentication Token")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        raise AuthError("IncompleteSignatureException",
                        "Authorization header requires the AWS4-HMAC-SHA256 algorithm")
    fields = {}
    for item in auth[len("AWS4-HMAC-SHA256 "):].split(","):
        k, _, v = item.strip().partition("=")
        fields[k] = v
    for need in ("Credential", "SignedHeaders", "Signature"):
        if need not in fields:
            raise AuthError("IncompleteSignatureException",
                            "Authorization header requires '%s' parameter" % need)
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise AuthError("IncompleteSignatureException", "Credential is malformed")
    akid, date, region, svc = scope[:4]
    if akid not in credentials:
        raise AuthError("UnrecognizedClientException",
                        "The security token included in the request is invalid.")
    if svc != service:
        raise AuthError("InvalidSignatureException",
                        "Credential should be scoped to correct service: '%s'." % service)
    amzdate = headers.get("x-amz-date", "")
    try:
        when = datetime.datetime.strptime(amzdate, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        raise AuthError("IncompleteSignatureException", "X-Amz-Date is missing or malformed")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if abs(now - when) > CLOCK_SKEW:
        raise AuthError("InvalidSignatureException", "Signature expired: %s is now earlier "
                        "than the allowed skew of 15 minutes" % amzdate)
    if not amzdate.startswith(date):
        raise AuthError("InvalidSignatureException", "Date in Credential scope does not match "
                        "YYYYMMDD from ISO-8601 version of date from HTTP")
    signed = fields["SignedHeaders"].split(";")
    if "host" not in signed:
        raise AuthError("InvalidSignatureException", "'Host' must be a signed header")
    path, _, query = raw_path.partition("?")
    canonical_uri = _uri_encode(_normalize_path(path), keep_slash=True)
    canonical_headers = "".join(
        "%s:%s\n" % (h, " ".join(headers.get(h, "").split())) for h in signed)
    payload_hash = hashlib.sha256(body).hexdigest()
    creq = "\n".join([method, canonical_uri, canonical_query(query), canonical_headers,
                      fields["SignedHeaders"], payload_hash])
    sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, "/".join(scope[1:]),
                     hashlib.sha256(creq.encode()).hexdigest()])
    key = signing_key(credentials[akid], date, region, svc)
    expect = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expect, fields["Signature"]):
        raise AuthError("InvalidSignatureException",
                        "The request signature we calculated does not match the signature you "
                        "provided. Check your AWS Secret Access Key and signing method. Consult "
                        "the service documentation for details.\n\nThe Canonical String for "
                        "this request should have been\n'%s'\n\nThe String-to-Sign should "
                        "have been\n'%s'\n" % (creq, sts))
    return akid


# ---- faults ---------------------------------------------------------------------------------

class Faults(object):
    """Request-level faults shared by both emulators; others are service-specific and live in
    `extra`. Changed at runtime through POST /__emulator/faults."""

    def __init__(self, seed=0):
        self.lock = threading.Lock()
        self.throttle_rate = 0.0
        self.error_burst = 0     # the next N API requests get a 5xx
        self.error_status = 500
        self.extra = {}
        self.rng = random.Random(seed)
        self.injected = {"throttled": 0, "errors": 0}

    def update(self, body):
        with self.lock:
            for key, value in body.items():
                if key == "throttle_rate":
                    self.throttle_rate = float(value)
                elif key == "error_burst":
                    self.error_burst = int(value)
                elif key == "error_status":
                    self.error_status = int(value)
                else:
                    self.extra[key] = value

    def take(self, key):
        with self.lock:
            return self.extra.pop(key, None)

    def peek(self, key):
        with self.lock:
            return self.extra.get(key)

    def request_fault(self):
        """None, "throttle" or "error" for the next API request."""
        with self.lock:
            if self.error_burst > 0:
                self.error_burst -= 1
                self.injected["errors"] += 1
                return "error"
            if self.throttle_rate > 0 and self.rng.random() < self.throttle_rate:
                self.injected["throttled"] += 1
                return "throttle"
            return None

    def state(self):
        with self.lock:
            return {"throttle_rate": self.throttle_rate, "error_burst": self.error_burst,
                    "error_status": self.error_status, "extra": dict(self.extra),
                    "injected": dict(self.injected)}


# ---- S3 -------------------------------------------------------------------------------------

def parse_s3_uri(uri):
    if not uri.startswith("s3://"):
        raise ValueError("not an S3 URI: %r" % (uri,))
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def join_s3(base, *parts):
    out = base.rstrip("/")
    for p in parts:
        out += "/" + p.strip("/")
    return out


class S3Store(object):
    """The object store jobs see (s3rver in tests), through boto3 with static test keys."""

    def __init__(self, endpoint, access_key, secret_key, region):
        self.endpoint = endpoint
        self.access_key, self.secret_key, self.region = access_key, secret_key, region
        self._client = None
        self._lock = threading.Lock()

    def client(self):
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config
                self._client = boto3.client(
                    "s3", endpoint_url=self.endpoint, region_name=self.region,
                    aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
                    config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
            return self._client

    def download(self, uri, path):
        bucket, key = parse_s3_uri(uri)
        body = self.client().get_object(Bucket=bucket, Key=key)["Body"].read()
        with open(path, "wb") as f:
            f.write(body)

    def put(self, uri, data):
        bucket, key = parse_s3_uri(uri)
        self.client().put_object(Bucket=bucket, Key=key, Body=data)

    def env(self):
        """What a job needs to reach the store with boto3 (the instance role's stand-in)."""
        env = {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
               "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region}
        if self.endpoint:
            env["AWS_ENDPOINT_URL_S3"] = self.endpoint
        return env


# ---- local job execution ---------------------------------------------------------------------

def parse_spark_submit(args):
    """spark-submit options that matter here -> (conf dict, py_files list, script, script args)."""
    conf, py_files = {}, []
    i = 0
    with_value = {"--conf", "--py-files", "--deploy-mode", "--master", "--class", "--name",
                  "--jars", "--files", "--archives", "--driver-memory", "--executor-memory",
                  "--driver-cores", "--executor-cores", "--num-executors", "--properties-file",
                  "--queue"}
    while i < len(args):
        a = args[i]
        if a.startswith("--") and "=" in a and a.split("=", 1)[0] in with_value:
            a, value = a.split("=", 1)
            i += 1
        elif a in with_value:
            if i + 1 >= len(args):
                raise ValueError("spark-submit option %s needs a value" % a)
            value = args[i + 1]
            i += 2
        elif a.startswith("--"):
            i += 1
            continue
        else:
            return conf, py_files, a, list(args[i + 1:])
        if a == "--conf":
            k, _, v = value.partition("=")
            conf[k] = v
        elif a == "--py-files":
            py_files.extend(p for p in value.split(",") if p)
    raise ValueError("spark-submit has no application script")


def parse_submit_parameters(text):
    return shlex.split(text or "")


class LocalJob(object):
    """One step or job run as a local process group in --workdir: its script and py-files
    fetched from S3 first, stdout/stderr in files that are gzip'd into the log bucket at the
    end (as EMR ships logs)."""

    def __init__(self, emulator, job_id, argv, env, py_files):
        self.emulator = emulator
        self.job_id = job_id
        self.dir = os.path.join(emulator.runs_dir, job_id)
        os.makedirs(self.dir, exist_ok=True)
        self.argv, self.env, self.py_files = argv, env, py_files
        self.proc = None
        self.exit_code = None
        self.killed = False
        self.extra_stderr = ""
        self.stdout_path = os.path.join(self.dir, "stdout")
        self.stderr_path = os.path.join(self.dir, "stderr")

    def localize(self, uri):
        if not uri.startswith("s3://"):
            return uri
        local = os.path.join(self.dir, "code", os.path.basename(parse_s3_uri(uri)[1]))
        os.makedirs(os.path.dirname(local), exist_ok=True)
        self.emulator.s3.download(uri, local)
        return local

    def start(self):
        """Fetches code and starts the process; returns an error text or None."""
        try:
            py_paths = [self.localize(u) for u in self.py_files]
            argv = list(self.argv)
            script_index = self.script_index
            if script_index is not None:
                argv[script_index] = self.localize(argv[script_index])
        except Exception as e:  # noqa: BLE001  (reported as the step's failure)
            return "cannot fetch the job's code: %s" % (e,)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_PIPES_")}
        env.update(self.emulator.s3.env())
        env.update(self.env)
        dirs = sorted({os.path.dirname(p) for p in py_paths})
        if dirs:
            env["PYTHONPATH"] = os.pathsep.join(dirs + [env.get("PYTHONPATH", "")]).rstrip(":")
        self.emulator.log("start %s: %s" % (self.job_id, " ".join(argv)))
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            try:
                self.proc = subprocess.Popen(argv, cwd=self.emulator.workdir, env=env,
                                             stdout=out, stderr=err, start_new_session=True)
            except OSError as e:
                return "cannot start %s: %s" % (argv[0], e)
        self.emulator.track(self)
        return None

    def poll(self):
        """None while running, else the exit code."""
        if self.exit_code is None and self.proc is not None:
            code = self.proc.poll()
            if code is not None:
                self.exit_code = code
                self.emulator.untrack(self)
        return self.exit_code

    def kill(self, extra_stderr=""):
        self.extra_stderr += extra_stderr
        if self.proc is not None and self.proc.poll() is None:
            self.killed = True
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.exit_code = self.proc.returncode
        self.emulator.untrack(self)

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                data = f.read()
        except OSError:
            data = b""
        return data.decode("utf-8", "replace") + self.extra_stderr

    def ship_logs(self, prefix):
        """stdout.gz and stderr.gz under `prefix` (an S3 URI), as EMR delivers step logs."""
        if not prefix:
            return
        try:
            with open(self.stdout_path, "rb") as f:
                out = f.read()
        except OSError:
            out = b""
        for name, data in (("stdout.gz", out), ("stderr.gz", self.stderr_text().encode())):
            try:
                self.emulator.s3.put(join_s3(prefix, name), gzip.compress(data))
            except Exception as e:  # noqa: BLE001
                self.emulator.log("cannot ship %s: %s" % (name, e))

    script_index = None


def build_job(emulator, job_id, argv, env):
    """A LocalJob for spark-submit arguments (or any other command): spark-submit when it is
    on PATH, else python3 on the script with the py-files on PYTHONPATH."""
    if argv and argv[0] == "spark-submit":
        conf, py_files, script, script_args = parse_spark_submit(argv[1:])
        for k, v in conf.items():
            for prefix in ("spark.yarn.appMasterEnv.", "spark.emr-serverless.driverEnv."):
                if k.startswith(prefix):
                    env.setdefault(k[len(prefix):], v)
        if conf.get("spark.submit.pyFiles"):
            py_files += [p for p in conf["spark.submit.pyFiles"].split(",") if p]
        spark = find_spark_submit()
        if spark:
            # The py-files are fetched from S3 and put on PYTHONPATH at start (start()), which
            # spark-submit passes on in local mode; it cannot read the s3:// URIs itself (no
            # S3A in a plain pyspark).
            cmd = [spark, "--master", "local[*]"]
            emulator.log("job %s: spark-submit (%s)" % (job_id, spark))
            job = LocalJob(emulator, job_id, cmd + [script] + script_args, spark_env(env), [])
            job.script_index = len(cmd)
            job.py_files = py_files
            return job
        emulator.log("job %s: no spark-submit, running the script under %s" % (job_id, sys.executable))
        job = LocalJob(emulator, job_id, [sys.executable or "python3", "-u", script] + script_args,
                       env, py_files)
        job.script_index = 2
        return job
    return LocalJob(emulator, job_id, list(argv), env, [])


# ---- HTTP scaffolding -----------------------------------------------------------------------

class Emulator(object):
    """State every emulator shares: credentials, faults, S3, the recorder and live jobs."""

    service = ""           # signing name
    protocol = "json"      # "json" (JSON 1.1) or "rest-json"

    def __init__(self, args):
        self.args = args
        self.credentials = {args.access_key: args.secret_key}
        self.faults = Faults(args.seed)
        self.s3 = S3Store(args.s3_endpoint, args.s3_access_key, args.s3_secret_key, args.region)
        self.workdir = os.path.abspath(args.workdir)
        self.runs_dir = os.path.join(args.state_dir or os.path.join(self.workdir, ".emulator"),
                                     self.service)
        os.makedirs(self.runs_dir, exist_ok=True)
        self.lock = threading.RLock()
        self.requests = []   # {"operation", "body"} of every authenticated API request
        self.counts = {}
        self.live = {}
        self.record_file = args.record

    def log(self, text):
        if self.args.verbose:
            sys.stderr.write("[%s] %s\n" % (self.service, text))
            sys.stderr.flush()

    def track(self, job):
        with self.lock:
            self.live[job.job_id] = job.proc.pid

    def untrack(self, job):
        with self.lock:
            self.live.pop(job.job_id, None)

    def record(self, operation, body):
        with self.lock:
            self.counts[operation] = self.counts.get(operation, 0) + 1
            entry = {"service": self.service, "operation": operation, "body": body}
            self.requests.append(entry)
            if self.record_file:
                with open(self.record_file, "a") as f:
                    f.write(json.dumps(entry) + "\n")

    def admin_state(self):
        raise NotImplementedError

    def tick(self):
        """Advances state machines; called every few milliseconds."""

    def shutdown(self):
        with self.lock:
            pids = list(self.live.values())
        for pid in pids:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class ApiError(Exception):
    def __init__(self, status, code, message, extra=None):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra or {}


def make_handler(emu):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # quiet unless --verbose
            emu.log(fmt % a)

        def _send(self, status, body, headers=None):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            ctype = "application/x-amz-json-1.1" if emu.protocol == "json" else "application/json"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", "%032x" % random.getrandbits(128))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status, code, message, extra=None):
            body = {"__type": code, "message": message}
            body.update(extra or {})
            headers = {"x-amzn-ErrorType": code} if emu.protocol == "rest-json" else {}
            self._send(status, body, headers)

        def _handle(self, method):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path
            if path.startswith("/__emulator/"):
                return self._admin(method, path, body)
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                verify_sigv4(method, path, headers, body, emu.service, emu.credentials)
            except AuthError as e:
                # JSON 1.1 services answer signature problems with 400, REST-JSON with 403.
                return self._error(400 if emu.protocol == "json" else 403, e.code, e.message)
            fault = emu.faults.request_fault()
            if fault == "throttle":
                return self._error(400 if emu.protocol == "json" else 429,
                                   "ThrottlingException", "Rate exceeded")
            if fault == "error":
                status = emu.faults.error_status
                return self._error(status, "InternalServerException" if emu.protocol ==
                                   "rest-json" else "InternalServerError",
                                   "Internal error (injected %d)" % status)
            try:
                status, out = emu.dispatch(method, path, headers, body)
            except ApiError as e:
                return self._error(e.status, e.code, e.message, e.extra)
            except Exception as e:  # noqa: BLE001  (a bug here must not kill the server)
                import traceback
                traceback.print_exc()
                return self._error(500, "InternalServerException", "emulator bug: %s" % e)
            self._send(status, out)

        def _admin(self, method, path, body):
            route = path.split("?", 1)[0][len("/__emulator/"):]
            if method == "POST" and route == "faults":
                try:
                    emu.faults.update(json.loads(body or b"{}"))
                except (ValueError, TypeError) as e:
                    return self._send(400, {"error": "bad faults body: %s" % e})
                return self._send(200, emu.faults.state())
            if method == "GET" and route == "state":
                with emu.lock:
                    state = emu.admin_state()
                    state.update({"counts": dict(emu.counts), "live_processes": dict(emu.live),
                                  "faults": emu.faults.state()})
                return self._send(200, state)
            if method == "GET" and route == "requests":
                with emu.lock:
                    return self._send(200, {"requests": list(emu.requests)})
            return self._send(404, {"error": "unknown admin route %s %s" % (method, route)})

        def do_GET(self):
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

        def do_DELETE(self):
            self._handle("DELETE")

        def do_PUT(self):
            self._handle("PUT")

    return Handler


def common_arguments(parser):
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--access-key", default="AKIDARBITERTEST",
                        help="access key id every request must be signed with")
    parser.add_argument("--secret-key", default="arbiter-test-secret",
                        help="its secret key (a test credential, never a real one)")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--s3-endpoint", default="",
                        help="S3 endpoint jobs and logs use (e.g. s3rver's http://127.0.0.1:PORT)")
    parser.add_argument("--s3-access-key", default="S3RVER")
    parser.add_argument("--s3-secret-key", default="S3RVER")
    parser.add_argument("--workdir", default=".",
                        help="where jobs run: the stand-in for the data the cluster sees")
    parser.add_argument("--state-dir", default="",
                        help="per-job files (default: WORKDIR/.emulator)")
    parser.add_argument("--record", default="",
                        help="append every authenticated request body as a JSON line here")
    parser.add_argument("--seed", type=int, default=1, help="seed of the fault injector")
    parser.add_argument("--throttle-rate", type=float, default=0.0,
                        help="fraction of API requests answered with ThrottlingException")
    parser.add_argument("--error-burst", type=int, default=0,
                        help="answer the next N API requests with HTTP 500")
    parser.add_argument("--tick", type=float, default=0.02, help=argparse.SUPPRESS)
    parser.add_argument("--verbose", action="store_true")
    return parser


def serve(emu):
    emu.faults.update({"throttle_rate": emu.args.throttle_rate,
                       "error_burst": emu.args.error_burst})
    server = ThreadingHTTPServer(("127.0.0.1", emu.args.port), make_handler(emu))
    server.daemon_threads = True
    stop = threading.Event()

    def ticker():
        while not stop.wait(emu.args.tick):
            try:
                with emu.lock:
                    emu.tick()
            except Exception:  # noqa: BLE001
                import traceback
                traceback.print_exc()

    t = threading.Thread(target=ticker, daemon=True)
    t.start()

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    sys.stdout.write("listening on http://127.0.0.1:%d\n" % server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        emu.shutdown()
        server.server_close()
    return 0


def now():
    return time.time()
