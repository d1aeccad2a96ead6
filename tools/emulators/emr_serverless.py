"""EMR Serverless emulator: the REST-JSON job run API on 127.0.0.1, running each job run as a
local process.

DEVELOPMENT AND TEST TOOL ONLY. Not EMR Serverless: no workers, no security boundary. It keeps
applications and job runs in memory with the service's state machine (SUBMITTED, PENDING,
SCHEDULED, RUNNING, SUCCESS | FAILED, CANCELLING, CANCELLED), verifies the SigV4 signature
of every request, honours clientToken idempotency, fetches the entry point and
spark.submit.pyFiles from the S3 store, runs the driver with spark-submit or python3 in
--workdir with the spark.emr-serverless.driverEnv.* environment, writes driver logs gzip'd
under the S3 monitoring logUri and reports resource utilization from the requested sizes.

Faults (flags, or POST /__emulator/faults): throttle_rate (429 ThrottlingException),
error_burst / error_status (5xx), job_failure {"stderr": "..."} (the next running job run is
killed with this on stderr), provision_delay S (slow capacity: seconds in SCHEDULED).
Admin: GET /__emulator/state, GET /__emulator/requests, POST /__emulator/faults.
"""
import argparse
import math
import random
import re
import string
import sys
import time

import aws_common
from aws_common import ApiError

TERMINAL = ("SUCCESS", "FAILED", "CANCELLED")


def new_id(n=16):
    return "00f" + "".join(random.choice(string.ascii_lowercase + string.digits)
                           for _ in range(n))


def size(conf, key, default):
    """Cores or memory in GB from a Spark setting such as 4, 16g, 16G, 2048m."""
    text = str(conf.get(key, default)).strip().lower()
    m = re.fullmatch(r"([0-9.]+)\s*([gm]?)b?", text)
    if not m:
        return float(default)
    value = float(m.group(1))
    return value / 1024 if m.group(2) == "m" else value


class Serverless(aws_common.Emulator):
    service = "emr-serverless"
    protocol = "rest-json"

    def __init__(self, args):
        super().__init__(args)
        self.applications = {a: {"state": "STARTED", "runs": {}} for a in args.application}
        self.tokens = {}
        self.order = []

    def dispatch(self, method, path, headers, body):
        route = path.split("?", 1)[0].rstrip("/").split("/")[1:]
        if len(route) < 3 or route[0] != "applications" or route[2] != "jobruns":
            raise ApiError(404, "ResourceNotFoundException", "no such route %s" % path)
        app_id = route[1]
        if method == "POST" and len(route) == 3:
            op = "StartJobRun"
        elif method == "GET" and len(route) == 4:
            op = "GetJobRun"
        elif method == "DELETE" and len(route) == 4:
            op = "CancelJobRun"
        elif method == "GET" and len(route) == 3:
            op = "ListJobRuns"
        else:
            raise ApiError(404, "ResourceNotFoundException", "no such route %s %s" % (method, path))
        try:
            req = aws_common.json.loads(body) if body else {}
        except ValueError:
            raise ApiError(400, "ValidationException", "body is not JSON")
        uri = {"applicationId": app_id}
        if len(route) == 4:
            uri["jobRunId"] = route[3]
        self.record(op, dict(req, **uri))  # URI members too, as the model's input shape has them
        with self.lock:
            app = self.applications.get(app_id)
            if app is None:
                raise ApiError(404, "ResourceNotFoundException",
                               "Application %s does not exist" % app_id)
            if op == "StartJobRun":
                return 200, self.start(app_id, app, req)
            if op == "ListJobRuns":
                return 200, {"jobRuns": [self.summary(r) for r in app["runs"].values()]}
            run = app["runs"].get(route[3])
            if run is None:
                raise ApiError(404, "ResourceNotFoundException",
                               "Job run %s does not exist" % route[3])
            if op == "GetJobRun":
                return 200, {"jobRun": self.job_run_json(run)}
            if run["state"] not in TERMINAL and run["state"] != "CANCELLING":
                self.set_state(run, "CANCELLING", "Job run cancellation requested by user")
            return 200, {"applicationId": app_id, "jobRunId": run["jobRunId"]}

    def start(self, app_id, app, req):
        for need in ("clientToken", "executionRoleArn"):
            if not req.get(need):
                raise ApiError(400, "ValidationException", "%s is required" % need)
        driver = (req.get("jobDriver") or {}).get("sparkSubmit")
        if not driver or not driver.get("entryPoint"):
            raise ApiError(400, "ValidationException", "jobDriver.sparkSubmit.entryPoint is "
                           "required (only Spark job runs are emulated)")
        if app["state"] != "STARTED":
            raise ApiError(409, "ConflictException", "Application %s is %s" % (app_id,
                                                                               app["state"]))
        key = (app_id, req["clientToken"])
        if key in self.tokens:  # idempotent: the same run for the same token
            run = app["runs"][self.tokens[key]]
            return {"applicationId": app_id, "jobRunId": run["jobRunId"], "arn": run["arn"]}
        rid = new_id()
        t = time.time()
        run = {"applicationId": app_id, "jobRunId": rid, "name": req.get("name", ""),
               "arn": "arn:aws:emr-serverless:%s:123456789012:/applications/%s/jobruns/%s"
                      % (self.args.region, app_id, rid),
               "executionRole": req["executionRoleArn"], "state": "SUBMITTED",
               "stateDetails": "", "createdAt": t, "updatedAt": t, "phase_at": t,
               "started": None, "ended": None, "jobDriver": req["jobDriver"],
               "configurationOverrides": req.get("configurationOverrides") or {},
               "tags": req.get("tags") or {}, "releaseLabel": self.args.release_label,
               "job": None, "timeout": req.get("executionTimeoutMinutes")}
        app["runs"][rid] = run
        self.tokens[key] = rid
        self.order.append((app_id, rid))
        return {"applicationId": app_id, "jobRunId": rid, "arn": run["arn"]}

    def set_state(self, run, state, details=""):
        t = time.time()
        run["state"], run["stateDetails"], run["updatedAt"], run["phase_at"] = state, details, t, t
        if state == "RUNNING":
            run["started"] = t
        if state in TERMINAL:
            run["ended"] = t

    def conf(self, run):
        params = aws_common.parse_submit_parameters(
            run["jobDriver"]["sparkSubmit"].get("sparkSubmitParameters", ""))
        conf = {}
        i = 0
        while i < len(params):
            if params[i] == "--conf" and i + 1 < len(params):
                k, _, v = params[i + 1].partition("=")
                conf[k] = v
                i += 2
            else:
                i += 1
        return params, conf

    def utilization(self, run):
        """vCPU, memory and storage hours from the sizes asked for and the run's duration."""
        if not run["started"]:
            return None, None
        _, conf = self.conf(run)
        secs = math.ceil((run["ended"] or time.time()) - run["started"])
        workers = [(size(conf, "spark.driver.cores", 4), size(conf, "spark.driver.memory", 16))]
        n = int(size(conf, "spark.executor.instances", 3))
        workers += [(size(conf, "spark.executor.cores", 4),
                     size(conf, "spark.executor.memory", 16))] * n
        disk = 20.0
        total = {"vCPUHour": sum(c for c, _ in workers) * secs / 3600.0,
                 "memoryGBHour": sum(m for _, m in workers) * secs / 3600.0,
                 "storageGBHour": disk * len(workers) * secs / 3600.0}
        billed_secs = max(secs, 60)  # one minute minimum per worker
        billed = {"vCPUHour": sum(c for c, _ in workers) * billed_secs / 3600.0,
                  "memoryGBHour": sum(m for _, m in workers) * billed_secs / 3600.0,
                  "storageGBHour": 0.0}  # only storage above 20 GB per worker is billed
        return total, billed

    def job_run_json(self, run):
        out = {k: run[k] for k in ("applicationId", "jobRunId", "name", "arn", "state",
                                   "stateDetails", "createdAt", "updatedAt", "releaseLabel",
                                   "jobDriver", "configurationOverrides", "tags")}
        out["executionRole"] = run["executionRole"]
        out["createdBy"] = "arn:aws:iam::123456789012:user/arbiter-test"
        if run["started"]:
            out["startedAt"] = run["started"]
        if run["ended"]:
            out["endedAt"] = run["ended"]
            total, billed = self.utilization(run)
            if total:
                out["totalResourceUtilization"] = total
                out["billedResourceUtilization"] = billed
                out["totalExecutionDurationSeconds"] = int(math.ceil(run["ended"] -
                                                                     run["started"]))
        return out

    def summary(self, run):
        """A JobRunSummary: as in AWS's model, the run's id is "id" here (not "jobRunId")."""
        out = {k: run[k] for k in ("applicationId", "name", "arn", "state", "stateDetails",
                                   "createdAt", "updatedAt", "releaseLabel")}
        out["id"] = run["jobRunId"]
        out["executionRole"] = run["executionRole"]
        out["createdBy"] = "arn:aws:iam::123456789012:user/arbiter-test"
        return out

    def log_prefix(self, run):
        mon = (run["configurationOverrides"].get("monitoringConfiguration") or {})
        uri = (mon.get("s3MonitoringConfiguration") or {}).get("logUri")
        if not uri:
            return ""
        return aws_common.join_s3(uri, "applications", run["applicationId"], "jobs",
                                  run["jobRunId"], "SPARK_DRIVER")

    def start_job(self, run):
        driver = run["jobDriver"]["sparkSubmit"]
        params, _ = self.conf(run)
        argv = ["spark-submit"] + params + [driver["entryPoint"]] + \
            list(driver.get("entryPointArguments") or [])
        try:
            job = aws_common.build_job(self, run["jobRunId"], argv, {})
        except ValueError as e:
            return str(e)
        run["job"] = job
        return job.start()

    def finish(self, run, state, details):
        if run["job"]:
            run["job"].ship_logs(self.log_prefix(run))
        self.set_state(run, state, details)

    def tick(self):
        t = time.time()
        a = self.args
        for app_id, rid in self.order:
            run = self.applications[app_id]["runs"][rid]
            st, since = run["state"], t - run["phase_at"]
            if st == "SUBMITTED" and since >= a.queue_delay:
                self.set_state(run, "PENDING")
            elif st == "PENDING" and since >= a.queue_delay:
                self.set_state(run, "SCHEDULED")
            elif st == "SCHEDULED" and since >= self.provision_delay():
                self.set_state(run, "RUNNING")
                err = self.start_job(run)
                if err:
                    self.finish(run, "FAILED", err)
            elif st == "RUNNING":
                job = run["job"]
                injected = self.faults.take("job_failure")
                if injected is not None:
                    text = injected.get("stderr", "") if isinstance(injected, dict) \
                        else str(injected)
                    job.kill(text if text.endswith("\n") else text + "\n")
                if run["timeout"] and t - run["started"] >= run["timeout"] * 60:
                    job.kill()
                    self.finish(run, "CANCELLED", "Job run timed out")
                    continue
                code = job.poll()
                if code is None:
                    continue
                if code == 0 and not job.killed:
                    self.finish(run, "SUCCESS", "")
                else:
                    lines = [ln for ln in job.stderr_text().splitlines() if ln.strip()]
                    last = lines[-1][:512] if lines else ""
                    self.finish(run, "FAILED", "Job failed, please check complete logs in "
                                "configured logging destination. ExitCode: %s. Last few "
                                "exceptions: %s" % (code, last))
            elif st == "CANCELLING" and since >= a.cancel_delay:
                if run["job"]:
                    run["job"].kill()
                self.finish(run, "CANCELLED", "Job run cancelled by user")

    def provision_delay(self):
        """Seconds a job run stays SCHEDULED: --provision-delay, or the provision_delay fault."""
        injected = self.faults.peek("provision_delay")
        return float(injected) if injected is not None else self.args.provision_delay

    def admin_state(self):
        return {"applications": {a: {"state": v["state"]} for a, v in
                                 self.applications.items()},
                "job_runs": [self.job_run_json(self.applications[a]["runs"][r])
                             for a, r in self.order]}


def main(argv):
    p = argparse.ArgumentParser(
        prog=argv[0], description="EMR Serverless emulator. DEVELOPMENT AND TEST TOOL ONLY: "
        "runs job runs as local processes on 127.0.0.1; not a platform, no security boundary.",
        epilog=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    aws_common.common_arguments(p)
    p.add_argument("--application", action="append", default=[],
                   help="an application id in state STARTED (repeatable; default "
                        "00fabcd1234efg09)")
    p.add_argument("--release-label", default="emr-7.2.0")
    p.add_argument("--queue-delay", type=float, default=0.05,
                   help="seconds in SUBMITTED and in PENDING")
    p.add_argument("--provision-delay", type=float, default=0.1,
                   help="seconds in SCHEDULED (slow worker provisioning)")
    p.add_argument("--cancel-delay", type=float, default=0.05, help="seconds in CANCELLING")
    args = p.parse_args(argv[1:])
    if not args.application:
        args.application = ["00fabcd1234efg09"]
    return aws_common.serve(Serverless(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
