"""arbiter-emulator databricks: a loopback emulator of the Databricks REST API.

DEVELOPMENT AND TEST TOOL ONLY: no security boundary, 127.0.0.1 only, never a platform.

It implements what Arbiter's Databricks runtime uses, as documented for Jobs API 2.1/2.2,
DBFS API 2.0 and the Files API: jobs runs submit/get/cancel/get-output/list; DBFS
put/create/add-block/close/read/get-status/list/mkdirs/delete/move; Files API files and
directories. A submitted `spark_python_task` runs locally: its script is copied out of the
emulated DBFS (as a cluster downloads it), then run with spark-submit when on PATH, else
python3, in --workdir, with the cluster's spark_env_vars plus ARBITER_FUSE_ROOT=<state>/fs
(the stand-in for the /dbfs and /Volumes FUSE mounts). Driver stdout/stderr go to the
cluster_log_conf destination, <dest>/<cluster id>/driver/{stdout,stderr}, as they are written.

Life cycle: PENDING (--start-delay), RUNNING, TERMINATING, TERMINATED with a result state;
INTERNAL_ERROR when the emulator cannot start the task. Idempotency tokens are honoured.

Faults (flags, or POST /__emulator/faults with the same names as JSON keys):
  rate_429 F        fraction of API requests answered 429 with Retry-After (deterministic)
  retry_after S     the Retry-After value in seconds (default 1)
  burst_status N    the status of a burst (500 or 503); burst_count K: the next K requests
  start_delay S     PENDING time of new runs (slow cluster start)
  spot_loss_after S spot capacity lost S seconds into RUNNING: the cluster terminates and the
                    run fails with the state message Databricks gives for it
  vanish_after S    the run disappears S seconds into RUNNING (runs/get: does not exist)
  expired_tokens    list of tokens answered 403 "Invalid access token" from now on
  truncate_logs     delivered driver logs are cut to half when the run ends; get-output
                    says logs_truncated
Admin (no token): GET /__emulator/runs (runs, submit counts, live processes),
GET/POST /__emulator/faults, GET /__emulator/requests (counts by endpoint).
"""

import argparse
import base64
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from spark import find_spark_submit, spark_env

MAX_BLOCK = 1024 * 1024
LOG_TAIL = 5 * 1024 * 1024
TERMINAL = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")


class ApiError(Exception):
    def __init__(self, status, code, message, headers=None):
        Exception.__init__(self, message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def now_ms():
    return int(time.time() * 1000)


class Faults(object):
    FIELDS = {"rate_429": 0.0, "retry_after": 1, "burst_status": 503, "burst_count": 0,
              "start_delay": None, "spot_loss_after": None, "vanish_after": None,
              "expired_tokens": [], "truncate_logs": False}

    def __init__(self):
        for k, v in self.FIELDS.items():
            setattr(self, k, list(v) if isinstance(v, list) else v)
        self._acc = 0.0

    def update(self, doc):
        unknown = sorted(set(doc) - set(self.FIELDS))
        if unknown:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "unknown fault(s): %s (known: %s)"
                           % (", ".join(unknown), ", ".join(sorted(self.FIELDS))))
        for k, v in doc.items():
            setattr(self, k, v)

    def as_json(self):
        return {k: getattr(self, k) for k in self.FIELDS}

    def before_request(self):
        """Raises the injected error for this request, if any."""
        if self.burst_count > 0:
            self.burst_count -= 1
            raise ApiError(self.burst_status, "TEMPORARILY_UNAVAILABLE" if self.burst_status == 503
                           else "INTERNAL_ERROR", "injected %d (burst)" % self.burst_status)
        if self.rate_429 > 0:
            self._acc += self.rate_429
            if self._acc >= 1.0:
                self._acc -= 1.0
                raise ApiError(429, "REQUEST_LIMIT_EXCEEDED",
                               "Too many requests. Please wait a moment and try again.",
                               {"Retry-After": str(int(self.retry_after))})


class Run(object):
    def __init__(self, run_id, body, task, cluster_id):
        self.run_id, self.task_run_id = run_id, run_id + 1
        self.body, self.task = body, task
        self.cluster_id = cluster_id
        self.life_cycle, self.result, self.message = "PENDING", None, "Waiting for cluster"
        self.termination = None  # (code, type)
        self.user_cancelled = False
        self.start_time, self.end_time = now_ms(), 0
        self.running_at = self.terminating_at = None
        self.proc = None
        self.cancel_requested = False
        self.error = self.error_trace = None
        self.logs_truncated = False
        self.log_dir = None


class Emulator(object):
    def __init__(self, args):
        self.args = args
        self.state = os.path.abspath(args.state_dir)
        self.fs = os.path.join(self.state, "fs")
        os.makedirs(os.path.join(self.fs, "dbfs"), exist_ok=True)
        os.makedirs(os.path.join(self.fs, "Volumes"), exist_ok=True)
        self.workdir = os.path.abspath(args.workdir or self.state)
        self.tokens = set(args.token or [])
        self.faults = Faults()
        self.faults.start_delay = args.start_delay
        self.faults.update({k: v for k, v in (
            ("rate_429", args.fault_429_rate), ("retry_after", args.retry_after),
            ("spot_loss_after", args.fault_spot_loss_after),
            ("vanish_after", args.fault_vanish_after), ("truncate_logs", args.fault_truncate_logs),
            ("expired_tokens", args.fault_expired_token or [])) if v not in (None, 0.0)})
        if args.fault_5xx_burst:
            self.faults.burst_count = args.fault_5xx_burst
        self.lock = threading.RLock()
        self.runs = {}
        self.tokens_seen = {}  # idempotency token -> run id
        self.submits = 0
        self.requests = {}
        self.handles = {}
        self.next_id = random.randint(10 ** 11, 10 ** 12) // 2 * 2
        self.next_handle = 1000
        self.base_url = ""

    # ---- paths ----

    def dbfs_path(self, path):
        if not isinstance(path, str) or not path:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "path must be a non-empty string")
        if path.startswith("dbfs:"):
            path = path[len("dbfs:"):]
        if not path.startswith("/"):
            raise ApiError(400, "INVALID_PARAMETER_VALUE",
                           "Path must be absolute: %s" % path)
        parts = [p for p in path.split("/") if p]
        if ".." in parts:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "Invalid path: %s" % path)
        return os.path.join(self.fs, "dbfs", *parts)

    def volume_path(self, path):
        parts = [p for p in path.split("/") if p]
        if len(parts) < 4 or parts[0] != "Volumes" or ".." in parts:
            raise ApiError(400, "INVALID_PARAMETER_VALUE",
                           "Path must be /Volumes/<catalog>/<schema>/<volume>/...: %s" % path)
        vol_root = os.path.join(self.fs, *parts[:4])
        os.makedirs(vol_root, exist_ok=True)  # every volume exists in the emulator
        return os.path.join(self.fs, *parts)

    def local_of_uri(self, uri):
        """Where a cluster would find a dbfs:/, /dbfs/ or /Volumes/ path."""
        if uri.startswith("dbfs:/"):
            return self.dbfs_path(uri)
        if uri.startswith("/dbfs/"):
            return self.dbfs_path(uri[len("/dbfs"):])
        if uri.startswith("/Volumes/"):
            return self.volume_path(uri)
        return None

    # ---- jobs ----

    def submit(self, body):
        tasks = body.get("tasks")
        if not isinstance(tasks, list) or len(tasks) != 1:
            raise ApiError(400, "INVALID_PARAMETER_VALUE",
                           "the emulator runs exactly one task per submitted run")
        task = tasks[0]
        if not isinstance(task, dict) or not task.get("task_key"):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "Task key is required")
        spt = task.get("spark_python_task")
        if not isinstance(spt, dict) or not isinstance(spt.get("python_file"), str):
            raise ApiError(400, "INVALID_PARAMETER_VALUE",
                           "the emulator runs spark_python_task tasks with a python_file only")
        nc, existing = task.get("new_cluster"), task.get("existing_cluster_id")
        if (nc is None) == (existing is None):
            raise ApiError(400, "INVALID_PARAMETER_VALUE",
                           "exactly one of new_cluster and existing_cluster_id is required")
        if nc is not None:
            for key in ("spark_version", "node_type_id"):
                if not nc.get(key):
                    raise ApiError(400, "INVALID_PARAMETER_VALUE",
                                   "Missing required field: new_cluster.%s" % key)
            if ("num_workers" in nc) == ("autoscale" in nc):
                raise ApiError(400, "INVALID_PARAMETER_VALUE",
                               "new_cluster needs exactly one of num_workers and autoscale")
        token = body.get("idempotency_token")
        if token is not None and (not isinstance(token, str) or len(token) > 64):
            raise ApiError(400, "INVALID_PARAMETER_VALUE",
                           "idempotency_token must be a string of at most 64 characters")
        with self.lock:
            self.submits += 1
            if token is not None and token in self.tokens_seen:
                run_id = self.tokens_seen[token]
                if run_id not in self.runs:
                    raise ApiError(400, "INVALID_STATE", "The run with idempotency token %s "
                                   "was deleted" % token)
                return {"run_id": run_id}
            run_id = self.next_id
            self.next_id += 2
            cluster = existing or "%s-%06d-emu%05d" % (time.strftime("%m%d"), run_id % 10 ** 6,
                                                       run_id % 10 ** 5)
            run = Run(run_id, body, task, cluster)
            run.token = token
            self.runs[run_id] = run
            if token is not None:
                self.tokens_seen[token] = run_id
        threading.Thread(target=self.drive, args=(run,), daemon=True).start()
        return {"run_id": run_id}

    def get_run(self, run_id, as_task=False):
        with self.lock:
            for run in self.runs.values():
                if run.run_id == run_id or (as_task and run.task_run_id == run_id):
                    return run
        raise ApiError(400, "INVALID_PARAMETER_VALUE", "Run %s does not exist." % run_id)

    def set_state(self, run, life_cycle, result=None, message="", termination=None):
        with self.lock:
            run.life_cycle, run.result, run.message = life_cycle, result, message
            if termination:
                run.termination = termination
            if life_cycle == "RUNNING" and run.running_at is None:
                run.running_at = now_ms()
            if life_cycle == "TERMINATING" and run.terminating_at is None:
                run.terminating_at = now_ms()
            if life_cycle in TERMINAL:
                run.end_time = now_ms()

    def wait(self, run, seconds):
        """Sleeps up to `seconds`; returns early (True) when a cancel arrives."""
        end = time.time() + (seconds or 0)
        while time.time() < end:
            if run.cancel_requested:
                return True
            time.sleep(min(0.02, max(0, end - time.time())))
        return run.cancel_requested

    def drive(self, run):
        try:
            self._drive(run)
        except Exception as e:  # the emulator's own failure: what Databricks calls INTERNAL_ERROR
            self.set_state(run, "INTERNAL_ERROR", "FAILED", "Emulator error: %s" % e,
                           ("INTERNAL_ERROR", "INTERNAL_ERROR"))

    def _drive(self, run):
        if self.wait(run, self.faults.start_delay):
            self.set_state(run, "TERMINATED", "CANCELED", "Run cancelled.",
                           ("USER_CANCELED", "SUCCESS"))
            run.user_cancelled = True
            return
        nc = run.task.get("new_cluster") or {}
        spt = run.task["spark_python_task"]
        script = self.local_of_uri(spt["python_file"])
        if script is None or not os.path.isfile(script):
            self.set_state(run, "INTERNAL_ERROR", "FAILED",
                           "Cannot read the python file %s. Please check driver logs for more "
                           "details." % spt["python_file"], ("RESOURCE_NOT_FOUND", "CLIENT_ERROR"))
            return
        cluster_dir = os.path.join(self.state, "clusters", run.cluster_id)
        local_script = os.path.join(cluster_dir, "tmp", os.path.basename(script))
        os.makedirs(os.path.dirname(local_script), exist_ok=True)
        shutil.copyfile(script, local_script)
        run.log_dir = self.log_dir(nc.get("cluster_log_conf"), run.cluster_id) or \
            os.path.join(cluster_dir, "driver")
        os.makedirs(run.log_dir, exist_ok=True)
        env = dict(os.environ)
        for k, v in (nc.get("spark_env_vars") or {}).items():
            env[k] = str(v)
        if env.get("PYTHONPATH"):
            env["PYTHONPATH"] = ":".join(self.local_of_uri(p) or p
                                         for p in env["PYTHONPATH"].split(":"))
        env["ARBITER_FUSE_ROOT"] = self.fs
        env["DATABRICKS_RUNTIME_VERSION"] = nc.get("spark_version", "")
        spark = find_spark_submit()
        if spark:
            env = spark_env(env)
        argv = ([spark, local_script] if spark else [self.args.python, local_script]) + \
            [str(p) for p in spt.get("parameters") or []]
        with open(os.path.join(run.log_dir, "stdout"), "ab") as out, \
                open(os.path.join(run.log_dir, "stderr"), "ab") as err:
            run.proc = subprocess.Popen(argv, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL,
                                        stdout=out, stderr=err, start_new_session=True)
        self.set_state(run, "RUNNING", None, "In run")
        timeout = run.body.get("timeout_seconds") or 0
        started = time.time()
        outcome = None
        while outcome is None:
            code = run.proc.poll()
            elapsed = time.time() - started
            if code is not None:
                outcome = "exit"
            elif run.cancel_requested:
                outcome = "cancel"
            elif timeout and elapsed >= timeout:
                outcome = "timeout"
            elif self.faults.spot_loss_after is not None and elapsed >= self.faults.spot_loss_after:
                outcome = "spot"
            elif self.faults.vanish_after is not None and elapsed >= self.faults.vanish_after:
                outcome = "vanish"
            else:
                time.sleep(0.02)
        if outcome != "exit":
            self.stop(run.proc, graceful=outcome in ("cancel", "timeout"))
        if outcome == "vanish":
            with self.lock:
                del self.runs[run.run_id]
            return
        self.set_state(run, "TERMINATING", None, "Terminating the cluster")
        if self.faults.truncate_logs:
            for name in ("stdout", "stderr"):
                path = os.path.join(run.log_dir, name)
                size = os.path.getsize(path)
                with open(path, "r+b") as f:
                    f.truncate(size // 2)
            run.logs_truncated = True
        time.sleep(self.args.terminate_delay)
        if outcome == "exit" and run.proc.returncode == 0:
            self.set_state(run, "TERMINATED", "SUCCESS", "", ("SUCCESS", "SUCCESS"))
        elif outcome == "exit":
            tail = self.tail(os.path.join(run.log_dir, "stderr"), 64 * 1024)
            lines = [l for l in tail.splitlines() if l.strip()]
            run.error = lines[-1] if lines else "Python process exited with code %d" % \
                run.proc.returncode
            run.error_trace = tail
            self.set_state(run, "TERMINATED", "FAILED",
                           "Workload failed, see run output for details",
                           ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"))
        elif outcome == "cancel":
            run.user_cancelled = True
            self.set_state(run, "TERMINATED", "CANCELED", "Run cancelled.",
                           ("USER_CANCELED", "SUCCESS"))
        elif outcome == "timeout":
            run.user_cancelled = True
            self.set_state(run, "TERMINATED", "TIMEDOUT", "Run timed out.",
                           ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"))
        else:
            run.error = ("Cluster %s was terminated. Reason: SPOT_INSTANCE_TERMINATION "
                         "(CLOUD_FAILURE). Parameters: aws_instance_state_reason:Server."
                         "SpotInstanceTermination." % run.cluster_id)
            self.set_state(run, "TERMINATED", "FAILED", run.error,
                           ("CLUSTER_ERROR", "CLOUD_FAILURE"))

    def log_dir(self, conf, cluster_id):
        if not conf:
            return None
        dest = (conf.get("dbfs") or {}).get("destination") or \
            (conf.get("volumes") or {}).get("destination")
        local = self.local_of_uri(dest) if dest else None
        return os.path.join(local, cluster_id, "driver") if local else None

    @staticmethod
    def stop(proc, graceful):
        try:
            os.killpg(proc.pid, signal.SIGTERM if graceful else signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        try:  # whatever the job left in its group goes with the cluster
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    @staticmethod
    def tail(path, limit):
        try:
            with open(path, "rb") as f:
                f.seek(max(0, os.path.getsize(path) - limit))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def cancel(self, run_id):
        run = self.get_run(run_id, as_task=True)
        run.cancel_requested = True
        return {}

    def run_json(self, run, task_view=False):
        with self.lock:
            state = {"life_cycle_state": run.life_cycle, "state_message": run.message,
                     "user_cancelled_or_timedout": run.user_cancelled}
            if run.result:
                state["result_state"] = run.result
            v2 = {"PENDING": "PENDING", "RUNNING": "RUNNING", "TERMINATING": "TERMINATING"}
            status = {"state": v2.get(run.life_cycle, "TERMINATED")}
            if run.termination:
                status["termination_details"] = {"code": run.termination[0],
                                                 "type": run.termination[1],
                                                 "message": run.message}
            end = run.end_time
            t_run = run.running_at or 0
            t_term = run.terminating_at or 0
            setup = ((t_run or end or now_ms()) - run.start_time) if run.life_cycle != "PENDING" \
                else 0
            execution = ((t_term or end or now_ms()) - t_run) if t_run else 0
            cleanup = (end - t_term) if (end and t_term) else 0
            task = {"task_key": run.task["task_key"], "run_id": run.task_run_id,
                    "state": dict(state), "status": dict(status),
                    "start_time": run.start_time, "end_time": end,
                    "setup_duration": setup, "execution_duration": execution,
                    "cleanup_duration": cleanup, "attempt_number": 0,
                    "spark_python_task": run.task["spark_python_task"],
                    "run_page_url": "%s/#job/runs/%d" % (self.base_url, run.task_run_id)}
            if run.life_cycle != "PENDING":
                task["cluster_instance"] = {"cluster_id": run.cluster_id,
                                            "spark_context_id": str(run.run_id * 7919)}
            if "new_cluster" in run.task:
                task["new_cluster"] = run.task["new_cluster"]
            else:
                task["existing_cluster_id"] = run.task["existing_cluster_id"]
            if task_view:
                return task
            doc = {"run_id": run.run_id, "run_name": run.body.get("run_name", "Untitled"),
                   "run_type": "SUBMIT_RUN", "number_in_job": run.run_id,
                   "original_attempt_run_id": run.run_id, "creator_user_name": "emulator",
                   "state": state, "status": status, "start_time": run.start_time,
                   "end_time": end, "setup_duration": 0, "execution_duration": 0,
                   "cleanup_duration": 0, "run_duration": ((end or now_ms()) - run.start_time),
                   "run_page_url": "%s/#job/runs/%d" % (self.base_url, run.run_id),
                   "tasks": [task], "format": "MULTI_TASK"}
            if "cluster_instance" in task:
                doc["cluster_instance"] = task["cluster_instance"]
            if run.body.get("tags"):
                doc["tags"] = run.body["tags"]
            return doc

    def get_output(self, run_id):
        with self.lock:
            if any(r.run_id == run_id for r in self.runs.values()):
                raise ApiError(400, "INVALID_PARAMETER_VALUE",
                               "Retrieving the output of runs with multiple tasks is not "
                               "supported. Please retrieve the output of each individual task "
                               "run instead.")
        run = self.get_run(run_id, as_task=True)
        out = {"metadata": self.run_json(run, task_view=True)}
        if run.log_dir:
            out["logs"] = self.tail(os.path.join(run.log_dir, "stdout"), LOG_TAIL)
            out["logs_truncated"] = run.logs_truncated or \
                os.path.getsize(os.path.join(run.log_dir, "stdout")) > LOG_TAIL
        if run.error:
            out["error"] = run.error
        if run.error_trace:
            out["error_trace"] = run.error_trace
        return out

    def list_runs(self, q):
        active_only = q.get("active_only") == "true"
        completed_only = q.get("completed_only") == "true"
        limit = int(q.get("limit") or 25)
        offset = int(q.get("offset") or 0)
        with self.lock:
            runs = sorted(self.runs.values(), key=lambda r: -r.run_id)
        runs = [r for r in runs if (not active_only or r.life_cycle not in TERMINAL) and
                (not completed_only or r.life_cycle in TERMINAL)]
        page = runs[offset:offset + limit]
        return {"runs": [self.run_json(r) for r in page],
                "has_more": offset + limit < len(runs)}

    def admin_runs(self):
        with self.lock:
            runs = list(self.runs.values())
        return {"submits": self.submits,
                "runs": [{"run_id": r.run_id, "task_run_id": r.task_run_id,
                          "idempotency_token": r.token, "life_cycle_state": r.life_cycle,
                          "result_state": r.result, "cluster_id": r.cluster_id,
                          "pid": r.proc.pid if r.proc else None,
                          "alive": bool(r.proc and r.proc.poll() is None)} for r in runs],
                "live_processes": sum(1 for r in runs if r.proc and r.proc.poll() is None)}

    def shutdown(self):
        with self.lock:
            runs = list(self.runs.values())
        for r in runs:
            if r.proc and r.proc.poll() is None:
                self.stop(r.proc, graceful=False)

    # ---- DBFS ----

    def dbfs(self, op, q, body):
        if op == "put":
            path = self.dbfs_path(body.get("path"))
            data = self.b64(body.get("contents", ""))
            if len(data) > MAX_BLOCK:
                raise ApiError(400, "MAX_BLOCK_SIZE_EXCEEDED",
                               "File uploaded directly is larger than 1048576 bytes.")
            self.write_new(path, body.get("overwrite", False), body.get("path"))
            self.atomic_write(path, data)
            return {}
        if op == "create":
            path = self.dbfs_path(body.get("path"))
            self.write_new(path, body.get("overwrite", False), body.get("path"))
            with self.lock:
                self.next_handle += 1
                handle = self.next_handle
                self.handles[handle] = (path, bytearray())
            return {"handle": handle}
        if op in ("add-block", "close"):
            handle = body.get("handle")
            with self.lock:
                if handle not in self.handles:
                    raise ApiError(404, "RESOURCE_DOES_NOT_EXIST",
                                   "The handle %s does not exist." % handle)
                path, buf = self.handles[handle]
                if op == "add-block":
                    data = self.b64(body.get("data", ""))
                    if len(data) > MAX_BLOCK:
                        raise ApiError(400, "MAX_BLOCK_SIZE_EXCEEDED",
                                       "Block size exceeds 1048576 bytes.")
                    buf.extend(data)
                    return {}
                del self.handles[handle]
            self.atomic_write(path, bytes(buf))
            return {}
        if op == "read":
            path = self.dbfs_path(q.get("path"))
            offset, length = int(q.get("offset") or 0), int(q.get("length") or 512 * 1024)
            if offset < 0 or length < 0:
                raise ApiError(400, "INVALID_PARAMETER_VALUE",
                               "offset and length must be non-negative")
            if length > MAX_BLOCK:
                raise ApiError(400, "MAX_READ_SIZE_EXCEEDED",
                               "Cannot read more than 1048576 bytes at once.")
            self.must_exist(path, q.get("path"))
            if os.path.isdir(path):
                raise ApiError(400, "INVALID_PARAMETER_VALUE",
                               "The path %s is a directory." % q.get("path"))
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read(length)
            return {"bytes_read": len(data), "data": base64.b64encode(data).decode()}
        if op == "get-status":
            path = self.dbfs_path(q.get("path"))
            self.must_exist(path, q.get("path"))
            return self.file_info(path)
        if op == "list":
            path = self.dbfs_path(q.get("path"))
            self.must_exist(path, q.get("path"))
            if not os.path.isdir(path):
                return {"files": [self.file_info(path)]}
            return {"files": [self.file_info(os.path.join(path, n))
                              for n in sorted(os.listdir(path)) if not n.startswith(".tmp-")]}
        if op == "mkdirs":
            path = self.dbfs_path(body.get("path"))
            if os.path.isfile(path):
                raise ApiError(400, "RESOURCE_ALREADY_EXISTS",
                               "A file exists at %s." % body.get("path"))
            os.makedirs(path, exist_ok=True)
            return {}
        if op == "delete":
            path = self.dbfs_path(body.get("path"))
            if not os.path.lexists(path):
                return {}
            if os.path.isdir(path):
                if os.listdir(path) and not body.get("recursive"):
                    raise ApiError(400, "IO_ERROR", "The directory %s is not empty; set "
                                   "recursive to delete it." % body.get("path"))
                shutil.rmtree(path)
            else:
                os.remove(path)
            return {}
        if op == "move":
            src = self.dbfs_path(body.get("source_path"))
            dst = self.dbfs_path(body.get("destination_path"))
            self.must_exist(src, body.get("source_path"))
            if os.path.exists(dst):
                raise ApiError(400, "RESOURCE_ALREADY_EXISTS",
                               "%s already exists." % body.get("destination_path"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            os.rename(src, dst)
            return {}
        raise ApiError(404, "ENDPOINT_NOT_FOUND", "No API found for 'dbfs/%s'" % op)

    @staticmethod
    def b64(text):
        try:
            return base64.b64decode(text, validate=True)
        except Exception:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "contents/data must be base64")

    def write_new(self, path, overwrite, shown):
        if os.path.isdir(path):
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", "%s is a directory." % shown)
        if os.path.exists(path) and not overwrite:
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", "%s already exists." % shown)

    def must_exist(self, path, shown):
        if not os.path.exists(path):
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", "No file or directory exists on "
                           "path %s." % shown)

    def file_info(self, local):
        dbfs_root = os.path.join(self.fs, "dbfs")
        st = os.stat(local)
        rel = os.path.relpath(local, dbfs_root).replace(os.sep, "/")
        return {"path": "/" if rel == "." else "/" + rel,
                "is_dir": os.path.isdir(local),
                "file_size": 0 if os.path.isdir(local) else st.st_size,
                "modification_time": int(st.st_mtime * 1000)}

    @staticmethod
    def atomic_write(path, data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    # ---- Files API ----

    def files(self, handler, method, kind, path, q, raw):
        local = self.volume_path(path)
        if kind == "files":
            if method == "PUT":
                if os.path.isdir(local):
                    raise ApiError(409, "ALREADY_EXISTS", "%s is a directory" % path)
                if os.path.exists(local) and q.get("overwrite", "true") == "false":
                    raise ApiError(409, "ALREADY_EXISTS", "The file %s already exists" % path)
                self.atomic_write(local, raw)
                return handler.send(204, b"", "application/octet-stream")
            if not os.path.isfile(local):
                raise ApiError(404, "NOT_FOUND", "The file %s does not exist" % path)
            if method == "DELETE":
                os.remove(local)
                return handler.send(204, b"", "application/octet-stream")
            with open(local, "rb") as f:
                data = f.read()
            headers = {"Last-Modified": time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                                      time.gmtime(os.path.getmtime(local)))}
            status = 200
            rng = handler.headers.get("Range")
            if rng and rng.startswith("bytes="):
                first, _, last = rng[6:].partition("-")
                start = int(first or 0)
                end = min(int(last), len(data) - 1) if last else len(data) - 1
                if start >= len(data):
                    raise ApiError(416, "INVALID_PARAMETER_VALUE", "Range not satisfiable")
                headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, len(data))
                data, status = data[start:end + 1], 206
            return handler.send(status, b"" if method == "HEAD" else data,
                                "application/octet-stream", headers, length=len(data))
        if method == "PUT":
            if os.path.isfile(local):
                raise ApiError(409, "ALREADY_EXISTS", "A file exists at %s" % path)
            os.makedirs(local, exist_ok=True)
            return handler.send(204, b"", "application/json")
        if not os.path.isdir(local):
            raise ApiError(404, "NOT_FOUND", "The directory %s does not exist" % path)
        if method == "HEAD":
            return handler.send(200, b"", "application/json")
        if method == "DELETE":
            if os.listdir(local):
                raise ApiError(409, "DIRECTORY_NOT_EMPTY", "The directory %s is not empty" % path)
            os.rmdir(local)
            return handler.send(204, b"", "application/json")
        names = sorted(n for n in os.listdir(local) if not n.startswith(".tmp-"))
        start = int(q.get("page_token") or 0)
        size = min(int(q.get("page_size") or 1000), 1000)
        contents = []
        for n in names[start:start + size]:
            p = os.path.join(local, n)
            entry = {"path": path.rstrip("/") + "/" + n, "name": n, "is_directory": os.path.isdir(p)}
            if not entry["is_directory"]:
                entry["file_size"] = os.path.getsize(p)
                entry["last_modified"] = int(os.path.getmtime(p) * 1000)
            contents.append(entry)
        doc = {"contents": contents}
        if start + size < len(names):
            doc["next_page_token"] = str(start + size)
        return handler.json(200, doc)


def make_handler(emu):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            if emu.args.verbose:
                sys.stderr.write("%s\n" % (fmt % args))

        def send(self, status, body, ctype, headers=None, length=None):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if body:
                self.wfile.write(body)

        def json(self, status, doc, headers=None):
            self.send(status, json.dumps(doc).encode(), "application/json", headers)

        def do_GET(self):
            self.handle_any("GET")

        def do_POST(self):
            self.handle_any("POST")

        def do_PUT(self):
            self.handle_any("PUT")

        def do_DELETE(self):
            self.handle_any("DELETE")

        def do_HEAD(self):
            self.handle_any("HEAD")

        def handle_any(self, method):
            url = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(url.query))
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            try:
                if url.path.startswith("/__emulator/"):
                    return self.admin(method, url.path, raw)
                with emu.lock:
                    key = "%s %s" % (method, url.path if not url.path.startswith("/api/2.0/fs/")
                                     else "/".join(url.path.split("/")[:5]))
                    emu.requests[key] = emu.requests.get(key, 0) + 1
                self.check_token()
                with emu.lock:
                    emu.faults.before_request()
                self.route(method, url.path, q, raw)
            except ApiError as e:
                self.json(e.status, {"error_code": e.code, "message": e.message}, e.headers)
            except (ValueError, KeyError, TypeError) as e:
                self.json(400, {"error_code": "MALFORMED_REQUEST", "message": str(e)})

        def check_token(self):
            auth = self.headers.get("Authorization") or ""
            if not auth.startswith("Bearer ") or not auth[7:].strip():
                raise ApiError(401, "UNAUTHENTICATED",
                               "Credential was not sent or was of an unsupported type for this "
                               "API.")
            token = auth[7:].strip()
            if token in emu.faults.expired_tokens or (emu.tokens and token not in emu.tokens):
                raise ApiError(403, "PERMISSION_DENIED", "Invalid access token.")

        def body_json(self, raw):
            try:
                doc = json.loads(raw.decode("utf-8") or "{}")
            except ValueError:
                raise ApiError(400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the "
                               "request - expected a map")
            if not isinstance(doc, dict):
                raise ApiError(400, "MALFORMED_REQUEST", "expected a JSON object")
            return doc

        def route(self, method, path, q, raw):
            parts = path.strip("/").split("/")
            if len(parts) >= 4 and parts[0] == "api" and parts[1] in ("2.1", "2.2") and \
                    parts[2] == "jobs" and parts[3] == "runs":
                op = "/".join(parts[4:])
                if method == "POST" and op == "submit":
                    return self.json(200, emu.submit(self.body_json(raw)))
                if method == "POST" and op == "cancel":
                    return self.json(200, emu.cancel(int(self.body_json(raw)["run_id"])))
                if method == "GET" and op == "get":
                    return self.json(200, emu.run_json(emu.get_run(int(q["run_id"]))))
                if method == "GET" and op == "get-output":
                    return self.json(200, emu.get_output(int(q["run_id"])))
                if method == "GET" and op == "list":
                    return self.json(200, emu.list_runs(q))
            if len(parts) == 4 and parts[:3] == ["api", "2.0", "dbfs"]:
                body = self.body_json(raw) if method == "POST" else {}
                return self.json(200, emu.dbfs(parts[3], q, body))
            if len(parts) >= 4 and parts[:3] == ["api", "2.0", "fs"] and \
                    parts[3] in ("files", "directories"):
                vol = urllib.parse.unquote("/" + "/".join(parts[4:]))
                return emu.files(self, method, parts[3], vol, q, raw)
            raise ApiError(404, "ENDPOINT_NOT_FOUND", "No API found for '%s %s'" % (method, path))

        def admin(self, method, path, raw):
            if path == "/__emulator/runs":
                return self.json(200, emu.admin_runs())
            if path == "/__emulator/requests":
                with emu.lock:
                    return self.json(200, dict(emu.requests))
            if path == "/__emulator/faults":
                if method == "POST":
                    with emu.lock:
                        emu.faults.update(self.body_json(raw))
                with emu.lock:
                    return self.json(200, emu.faults.as_json())
            raise ApiError(404, "ENDPOINT_NOT_FOUND", "unknown admin endpoint %s" % path)

    return Handler


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog=argv[0],
        description="Loopback emulator of the Databricks Jobs, DBFS and Files APIs that runs "
                    "submitted spark_python_task runs as local processes. DEVELOPMENT AND TEST "
                    "TOOL ONLY: no security boundary; it listens on 127.0.0.1 only.",
        epilog="Admin endpoints: GET /__emulator/runs, GET /__emulator/requests, "
               "GET|POST /__emulator/faults (JSON keys: %s)." % ", ".join(sorted(Faults.FIELDS)))
    p.add_argument("--port", type=int, default=0, help="TCP port (0 = any free port)")
    p.add_argument("--state-dir", help="its DBFS and Volumes store (DIR/fs/dbfs, DIR/fs/Volumes) "
                   "and cluster scratch; default a new temporary directory")
    p.add_argument("--token", action="append",
                   help="an accepted bearer token (repeatable); none given = any token")
    p.add_argument("--workdir", help="directory jobs run in (default: the state dir)")
    p.add_argument("--python", default="python3", help="interpreter when spark-submit is absent")
    p.add_argument("--start-delay", type=float, default=0.5,
                   help="seconds a run stays PENDING (cluster start)")
    p.add_argument("--terminate-delay", type=float, default=0.1,
                   help="seconds a run stays TERMINATING")
    p.add_argument("--fault-429-rate", type=float, default=0.0,
                   help="fraction of API requests answered 429 with Retry-After")
    p.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds on 429")
    p.add_argument("--fault-5xx-burst", type=int, default=0,
                   help="answer the first N API requests with 503")
    p.add_argument("--fault-spot-loss-after", type=float,
                   help="lose spot capacity this many seconds into each run")
    p.add_argument("--fault-vanish-after", type=float,
                   help="runs disappear this many seconds into RUNNING")
    p.add_argument("--fault-expired-token", action="append",
                   help="a token answered as expired (repeatable)")
    p.add_argument("--fault-truncate-logs", action="store_true",
                   help="cut delivered driver logs to half when a run ends")
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return p.parse_args(argv[1:])


def main(argv):
    args = parse_args(argv)
    if not args.state_dir:
        args.state_dir = tempfile.mkdtemp(prefix="arbiter-databricks-emulator-")
    emu = Emulator(args)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(emu))
    server.daemon_threads = True
    emu.base_url = "http://127.0.0.1:%d" % server.server_address[1]
    sys.stdout.write("listening on %s\n" % emu.base_url)
    sys.stdout.flush()

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        emu.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
