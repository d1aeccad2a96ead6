"""EMR (on EC2) emulator: the JSON 1.1 API (X-Amz-Target: ElasticMapReduce.<Operation>) on
127.0.0.1, running each step as a local process.

DEVELOPMENT AND TEST TOOL ONLY. Not EMR: no EC2, no YARN, no security boundary. It keeps
clusters and steps in memory with EMR's state machines, verifies the SigV4 signature of every
request against the test credentials given, fetches step code from the S3 store (s3rver in
tests), runs it with spark-submit or python3 in --workdir with the environment the cluster
configuration and the step ask for, and delivers step logs gzip'd under LogUri like EMR.

Faults (flags, or POST /__emulator/faults with a JSON object):
  throttle_rate    fraction of requests answered 400 ThrottlingException
  error_burst      the next N requests get HTTP 500 (error_status to change the code)
  bootstrap_failure  the next cluster fails while bootstrapping (BOOTSTRAP_FAILURE)
  spot_loss        "task": the next running step's cluster loses its spot task nodes and the
                   step carries on; "cluster": the cluster is terminated with errors
                   (INSTANCE_FAILURE) and the step is interrupted
  spot_unavailable no spot capacity: fleets fall back to on-demand (SWITCH_TO_ON_DEMAND) or
                   the cluster ends with INSTANCE_FLEET_TIMEOUT (TERMINATE_CLUSTER)
  step_failure     {"stderr": "..."}: the next running step is killed with this on stderr
  provision_delay  seconds new clusters stay STARTING (slow provisioning), like the flag
Admin: GET /__emulator/state (clusters, steps, request counts, live processes),
GET /__emulator/requests (every request body, for validation), POST /__emulator/faults.
"""
import argparse
import math
import random
import string
import sys
import time

import aws_common
from aws_common import ApiError

ACTIVE = ("STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING")
SIZE_FACTORS = {"nano": 0.25, "micro": 0.5, "small": 1, "medium": 2, "large": 4, "xlarge": 8}


def new_id(prefix, n=13):
    return prefix + "".join(random.choice(string.ascii_uppercase + string.digits)
                            for _ in range(n))


def normalization_factor(instance_type):
    size = instance_type.split(".")[-1]
    if size in SIZE_FACTORS:
        return SIZE_FACTORS[size]
    if size.endswith("xlarge"):
        try:
            return 8 * int(size[:-len("xlarge")])
        except ValueError:
            return 8
    return 8


def invalid(message):
    return ApiError(400, "InvalidRequestException", message, {"ErrorCode": "INVALID_REQUEST"})


def validation(message):
    return ApiError(400, "ValidationException", message)


class Emr(aws_common.Emulator):
    service = "elasticmapreduce"
    protocol = "json"

    def __init__(self, args):
        super().__init__(args)
        self.clusters = {}
        self.order = []
        self.faults.update({k: v for k, v in (
            ("bootstrap_failure", args.fail_bootstrap or None),
            ("spot_loss", args.spot_loss or None)) if v})

    # ---- dispatch

    def dispatch(self, method, path, headers, body):
        target = headers.get("x-amz-target", "")
        if method != "POST" or path.split("?")[0] != "/":
            raise ApiError(404, "UnknownOperationException", "JSON 1.1 requests are POST /")
        if not target.startswith("ElasticMapReduce."):
            raise ApiError(400, "UnknownOperationException", "missing or unknown X-Amz-Target")
        if not headers.get("content-type", "").startswith("application/x-amz-json-1.1"):
            raise ApiError(400, "SerializationException",
                           "Content-Type must be application/x-amz-json-1.1")
        op = target.split(".", 1)[1]
        try:
            req = aws_common.json.loads(body or b"{}")
        except ValueError:
            raise ApiError(400, "SerializationException", "body is not JSON")
        handler = getattr(self, "op_" + op, None)
        if handler is None:
            raise ApiError(400, "UnknownOperationException", "operation %s is not emulated" % op)
        self.record(op, req)
        with self.lock:
            return 200, handler(req)

    def cluster(self, cid):
        c = self.clusters.get(cid or "")
        if c is None:
            raise invalid("Cluster id '%s' is not valid." % cid)
        return c

    # ---- operations

    def op_RunJobFlow(self, req):
        if not req.get("Name"):
            raise validation("1 validation error detected: Value null at 'name' failed to "
                             "satisfy constraint: Member must not be null")
        inst = req.get("Instances")
        if not isinstance(inst, dict):
            raise validation("Instances is required")
        t = time.time()
        cid = new_id("j-")
        fleets = []
        for f in inst.get("InstanceFleets") or []:
            configs = f.get("InstanceTypeConfigs") or []
            if not configs:
                raise validation("Instance fleet %s has no InstanceTypeConfigs" % f.get("Name"))
            fleets.append({"Id": new_id("if-"), "Name": f.get("Name", ""),
                           "InstanceFleetType": f["InstanceFleetType"], "spec": f,
                           "instances": []})
        if not fleets and not inst.get("InstanceGroups"):
            raise validation("Instances needs InstanceFleets or InstanceGroups")
        c = {
            "Id": cid, "Name": req["Name"], "created": t, "ready": None, "ended": None,
            "State": "STARTING", "reason": ("", ""), "LogUri": req.get("LogUri", ""),
            "ReleaseLabel": req.get("ReleaseLabel", ""), "Tags": req.get("Tags") or [],
            "Applications": req.get("Applications") or [],
            "Configurations": req.get("Configurations") or [],
            "keep_alive": bool(inst.get("KeepJobFlowAliveWhenNoSteps", False)),
            "idle_timeout": (req.get("AutoTerminationPolicy") or {}).get("IdleTimeout"),
            "idle_since": None, "fleets": fleets, "steps": [], "phase_at": t,
            "bootstrap_failure": bool(self.faults.take("bootstrap_failure")),
            "ServiceRole": req.get("ServiceRole", ""), "JobFlowRole": req.get("JobFlowRole", ""),
            "spot_interrupted": False,
        }
        self.clusters[cid] = c
        self.order.append(cid)
        for s in req.get("Steps") or []:
            self.add_step(c, s)
        return {"JobFlowId": cid,
                "ClusterArn": "arn:aws:elasticmapreduce:%s:123456789012:cluster/%s"
                              % (self.args.region, cid)}

    def add_step(self, c, s):
        hjs = s.get("HadoopJarStep") or {}
        if not s.get("Name") or not hjs.get("Jar"):
            raise validation("a step needs Name and HadoopJarStep.Jar")
        if len(c["steps"]) >= 256:
            raise invalid("Maximum number of steps for cluster exceeded.")
        step = {"Id": new_id("s-"), "Name": s["Name"], "Jar": hjs["Jar"],
                "Args": list(hjs.get("Args") or []),
                "ActionOnFailure": s.get("ActionOnFailure", "TERMINATE_CLUSTER"),
                "State": "PENDING", "reason": None, "failure": None,
                "created": time.time(), "started": None, "ended": None, "job": None}
        c["steps"].append(step)
        return step["Id"]

    def op_AddJobFlowSteps(self, req):
        c = self.cluster(req.get("JobFlowId"))
        if c["State"] not in ("STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"):
            raise invalid("A job flow that is shutting down, terminated, or finished may not "
                          "be modified.")
        ids = [self.add_step(c, s) for s in req.get("Steps") or []]
        c["idle_since"] = None
        return {"StepIds": ids}

    def cluster_json(self, c):
        status = {"State": c["State"],
                  "StateChangeReason": ({"Code": c["reason"][0], "Message": c["reason"][1]}
                                        if c["reason"][0] else {}),
                  "Timeline": {k: v for k, v in (("CreationDateTime", c["created"]),
                                                 ("ReadyDateTime", c["ready"]),
                                                 ("EndDateTime", c["ended"])) if v}}
        return {"Id": c["Id"], "Name": c["Name"], "Status": status,
                "InstanceCollectionType": "INSTANCE_FLEET", "LogUri": c["LogUri"],
                "ReleaseLabel": c["ReleaseLabel"], "AutoTerminate": not c["keep_alive"],
                "TerminationProtected": False, "VisibleToAllUsers": True,
                "Applications": c["Applications"], "Tags": c["Tags"],
                "ServiceRole": c["ServiceRole"], "Configurations": c["Configurations"],
                "NormalizedInstanceHours": self.normalized_hours(c),
                "ClusterArn": "arn:aws:elasticmapreduce:%s:123456789012:cluster/%s"
                              % (self.args.region, c["Id"])}

    def op_DescribeCluster(self, req):
        return {"Cluster": self.cluster_json(self.cluster(req.get("ClusterId")))}

    def op_ListClusters(self, req):
        states = req.get("ClusterStates") or []
        after = req.get("CreatedAfter")
        rows = []
        for cid in reversed(self.order):
            c = self.clusters[cid]
            if states and c["State"] not in states:
                continue
            if after is not None and c["created"] < float(after):
                continue
            j = self.cluster_json(c)
            rows.append({k: j[k] for k in ("Id", "Name", "Status", "NormalizedInstanceHours",
                                           "ClusterArn")})
        start = int(req.get("Marker") or 0)
        page = rows[start:start + 50]
        out = {"Clusters": page}
        if start + 50 < len(rows):
            out["Marker"] = str(start + 50)
        return out

    def step_json(self, c, s):
        status = {"State": s["State"],
                  "StateChangeReason": {"Message": s["reason"]} if s["reason"] else {},
                  "Timeline": {k: v for k, v in (("CreationDateTime", s["created"]),
                                                 ("StartDateTime", s["started"]),
                                                 ("EndDateTime", s["ended"])) if v}}
        if s["failure"]:
            status["FailureDetails"] = s["failure"]
        return {"Id": s["Id"], "Name": s["Name"],
                "Config": {"Jar": s["Jar"], "Args": s["Args"], "Properties": {}},
                "ActionOnFailure": s["ActionOnFailure"], "Status": status}

    def find_step(self, c, sid):
        for s in c["steps"]:
            if s["Id"] == sid:
                return s
        raise invalid("Step id '%s' is not valid." % sid)

    def op_DescribeStep(self, req):
        c = self.cluster(req.get("ClusterId"))
        return {"Step": self.step_json(c, self.find_step(c, req.get("StepId")))}

    def op_ListSteps(self, req):
        c = self.cluster(req.get("ClusterId"))
        ids, states = req.get("StepIds") or [], req.get("StepStates") or []
        rows = [self.step_json(c, s) for s in reversed(c["steps"])
                if (not ids or s["Id"] in ids) and (not states or s["State"] in states)]
        return {"Steps": rows}

    def op_ListInstanceFleets(self, req):
        c = self.cluster(req.get("ClusterId"))
        rows = []
        for f in c["fleets"]:
            spec = f["spec"]
            od = sum(1 for i in f["instances"] if i["Market"] == "ON_DEMAND"
                     and i["State"] != "TERMINATED")
            sp = sum(1 for i in f["instances"] if i["Market"] == "SPOT"
                     and i["State"] != "TERMINATED")
            rows.append({"Id": f["Id"], "Name": f["Name"],
                         "InstanceFleetType": f["InstanceFleetType"],
                         "TargetOnDemandCapacity": spec.get("TargetOnDemandCapacity", 0),
                         "TargetSpotCapacity": spec.get("TargetSpotCapacity", 0),
                         "ProvisionedOnDemandCapacity": od, "ProvisionedSpotCapacity": sp,
                         "InstanceTypeSpecifications": [
                             {"InstanceType": t["InstanceType"],
                              "WeightedCapacity": t.get("WeightedCapacity", 1)}
                             for t in spec.get("InstanceTypeConfigs", [])],
                         "Status": {"State": "TERMINATED" if c["ended"] else "RUNNING"}})
        return {"InstanceFleets": rows}

    def op_ListInstances(self, req):
        c = self.cluster(req.get("ClusterId"))
        want_type = req.get("InstanceFleetType")
        states = req.get("InstanceStates") or []
        rows = []
        for f in c["fleets"]:
            if want_type and f["InstanceFleetType"] != want_type:
                continue
            for i in f["instances"]:
                if states and i["State"] not in states:
                    continue
                rows.append({"Id": i["Id"], "Ec2InstanceId": i["Ec2InstanceId"],
                             "InstanceFleetId": f["Id"], "Market": i["Market"],
                             "InstanceType": i["InstanceType"],
                             "Status": {"State": i["State"],
                                        "StateChangeReason": ({"Code": i["reason_code"],
                                                               "Message": i["reason"]}
                                                              if i["reason"] else {}),
                                        "Timeline": {k: v for k, v in (
                                            ("CreationDateTime", i["created"]),
                                            ("ReadyDateTime", i["ready"]),
                                            ("EndDateTime", i["ended"])) if v}}})
        return {"Instances": rows}

    def op_CancelSteps(self, req):
        c = self.cluster(req.get("ClusterId"))
        out = []
        for sid in req.get("StepIds") or []:
            s = next((x for x in c["steps"] if x["Id"] == sid), None)
            if s is None:
                out.append({"StepId": sid, "Status": "FAILED", "Reason": "Step id not found"})
                continue
            if s["State"] == "PENDING":
                self.end_step(s, "CANCELLED", "Cancelled by user request")
            elif s["State"] == "RUNNING":
                s["State"] = "CANCEL_PENDING"
            else:
                out.append({"StepId": sid, "Status": "FAILED",
                            "Reason": "Step is in state %s and cannot be cancelled" % s["State"]})
                continue
            out.append({"StepId": sid, "Status": "SUBMITTED"})
        return {"CancelStepsInfoList": out}

    def op_TerminateJobFlows(self, req):
        ids = req.get("JobFlowIds") or []
        for cid in ids:
            self.cluster(cid)
        for cid in ids:
            c = self.clusters[cid]
            if c["State"] in ACTIVE and c["State"] != "TERMINATING":
                self.terminate(c, "USER_REQUEST", "Terminated by user request", errors=False)
        return {}

    # ---- state machine

    def provision(self, c):
        spot_unavailable = bool(self.faults.peek("spot_unavailable"))
        t = time.time()
        for f in c["fleets"]:
            spec = f["spec"]
            types = spec["InstanceTypeConfigs"]
            weight = max(1, int(types[0].get("WeightedCapacity", 1)))
            od = math.ceil(spec.get("TargetOnDemandCapacity", 0) / weight)
            sp = math.ceil(spec.get("TargetSpotCapacity", 0) / weight)
            if sp and spot_unavailable:
                action = (((spec.get("LaunchSpecifications") or {}).get("SpotSpecification")
                           or {}).get("TimeoutAction", "TERMINATE_CLUSTER"))
                if action != "SWITCH_TO_ON_DEMAND":
                    return ("INSTANCE_FLEET_TIMEOUT",
                            "The %s instance fleet timed out while provisioning Spot capacity."
                            % f["Name"])
                od, sp = od + sp, 0
            # Spread over the fleet's types (what an allocation strategy would diversify).
            for n, market in ((od, "ON_DEMAND"), (sp, "SPOT")):
                for k in range(n):
                    itype = types[k % len(types)]["InstanceType"]
                    f["instances"].append({"Id": new_id("ci-"), "Ec2InstanceId": new_id("i-", 17)
                                           .lower(), "InstanceType": itype, "Market": market,
                                           "State": "PROVISIONING", "reason": "",
                                           "reason_code": "",
                                           "created": t, "ready": None, "ended": None})
        return None

    def set_instances(self, c, state, t, reason=""):
        for f in c["fleets"]:
            for i in f["instances"]:
                if i["State"] == "TERMINATED":
                    continue
                i["State"] = state
                if state == "RUNNING":
                    i["ready"] = t
                if state == "TERMINATED":
                    i["ended"] = t
                    i["reason"], i["reason_code"] = reason, "CLUSTER_TERMINATED"

    def normalized_hours(self, c):
        total = 0.0
        now = time.time()
        for f in c["fleets"]:
            for i in f["instances"]:
                hours = max(0.0, ((i["ended"] or now) - i["created"]) / 3600.0)
                total += math.ceil(hours) * normalization_factor(i["InstanceType"])
        return int(total)

    def end_step(self, s, state, reason=None, failure=None):
        s["State"] = state
        s["ended"] = time.time()
        s["reason"] = reason
        s["failure"] = failure

    def terminate(self, c, code, message, errors):
        c["State"] = "TERMINATING"
        c["reason"] = (code, message)
        c["phase_at"] = time.time()
        c["errors"] = errors
        for s in c["steps"]:
            if s["State"] in ("RUNNING", "CANCEL_PENDING"):
                if s["job"]:
                    s["job"].kill()
                    s["job"].ship_logs(self.step_log_prefix(c, s))
                self.end_step(s, "CANCELLED" if code == "USER_REQUEST" else "INTERRUPTED",
                              message)
            elif s["State"] == "PENDING":
                self.end_step(s, "CANCELLED", message)

    def step_log_prefix(self, c, s):
        if not c["LogUri"]:
            return ""
        return aws_common.join_s3(c["LogUri"], c["Id"], "steps", s["Id"])

    def app_master_env(self, c):
        env = {}
        for conf in c["Configurations"]:
            if conf.get("Classification") == "spark-defaults":
                for k, v in (conf.get("Properties") or {}).items():
                    if k.startswith("spark.yarn.appMasterEnv."):
                        env[k[len("spark.yarn.appMasterEnv."):]] = v
        return env

    def start_step(self, c, s):
        s["State"] = "RUNNING"
        s["started"] = time.time()
        if s["Jar"] != "command-runner.jar":
            return "only command-runner.jar steps are emulated (got %s)" % s["Jar"]
        try:
            job = aws_common.build_job(self, s["Id"], s["Args"], self.app_master_env(c))
        except ValueError as e:
            return str(e)
        s["job"] = job
        return job.start()

    def fail_step(self, c, s, exit_code, stderr):
        lines = [ln for ln in stderr.splitlines() if ln.strip()]
        reason = lines[-1][:256] if lines else "Unknown Error."
        log = aws_common.join_s3(self.step_log_prefix(c, s), "stderr.gz") if c["LogUri"] else ""
        failure = {"Reason": reason,
                   "Message": "Step failed with exitCode %s." % exit_code}
        if log:
            failure["LogFile"] = log
        self.end_step(s, "FAILED", "Step failed", failure)
        action = s["ActionOnFailure"]
        if action in ("TERMINATE_CLUSTER", "TERMINATE_JOB_FLOW"):
            self.terminate(c, "STEP_FAILURE", "Shut down as step failed", errors=True)
        elif action == "CANCEL_AND_WAIT":
            for p in c["steps"]:
                if p["State"] == "PENDING":
                    self.end_step(p, "CANCELLED", "Cancelled because an earlier step failed")

    def tick(self):
        t = time.time()
        a = self.args
        for c in self.clusters.values():
            st = c["State"]
            delay = self.faults.peek("provision_delay")
            if st == "STARTING" and t - c["phase_at"] >= (a.provision_delay if delay is None
                                                           else float(delay)):
                problem = self.provision(c)
                if problem:
                    self.terminate(c, problem[0], problem[1], errors=True)
                    continue
                c["State"], c["phase_at"] = "BOOTSTRAPPING", t
                self.set_instances(c, "BOOTSTRAPPING", t)
            elif st == "BOOTSTRAPPING" and t - c["phase_at"] >= a.bootstrap_delay:
                if c["bootstrap_failure"]:
                    master = c["fleets"][0]["instances"][0]["Ec2InstanceId"] if c["fleets"] \
                        and c["fleets"][0]["instances"] else "i-0"
                    self.terminate(c, "BOOTSTRAP_FAILURE",
                                   "On the master instance (%s), bootstrap action 1 returned a "
                                   "non-zero return code" % master, errors=True)
                    continue
                c["State"], c["ready"], c["phase_at"] = "WAITING", t, t
                c["idle_since"] = t
                self.set_instances(c, "RUNNING", t)
            elif st in ("RUNNING", "WAITING"):
                self.advance_steps(c, t)
            elif st == "TERMINATING" and t - c["phase_at"] >= a.terminate_delay:
                c["State"] = "TERMINATED_WITH_ERRORS" if c.get("errors") else "TERMINATED"
                c["ended"] = t
                self.set_instances(c, "TERMINATED", t, c["reason"][1])

    def advance_steps(self, c, t):
        running = next((s for s in c["steps"] if s["State"] in ("RUNNING", "CANCEL_PENDING")),
                       None)
        if running is not None:
            self.follow_step(c, running)
            return
        pending = next((s for s in c["steps"] if s["State"] == "PENDING"), None)
        if pending is not None:
            c["State"], c["idle_since"] = "RUNNING", None
            err = self.start_step(c, pending)
            if err:
                pending["job"] = None
                self.fail_step(c, pending, 1, err)
            return
        if not c["keep_alive"]:
            self.terminate(c, "ALL_STEPS_COMPLETED", "Steps completed", errors=False)
            return
        if c["State"] == "RUNNING":
            c["State"], c["idle_since"] = "WAITING", t
        if c["idle_timeout"] and c["idle_since"] and t - c["idle_since"] >= c["idle_timeout"]:
            self.terminate(c, "ALL_STEPS_COMPLETED",
                           "Cluster was terminated after being idle for %ss" % c["idle_timeout"],
                           errors=False)

    def follow_step(self, c, s):
        job = s["job"]
        if s["State"] == "CANCEL_PENDING":
            job.kill()
            job.ship_logs(self.step_log_prefix(c, s))
            self.end_step(s, "CANCELLED", "Cancelled by user request")
            return
        loss = self.faults.take("spot_loss")
        if loss in ("task", "cluster"):
            t = time.time()
            for f in c["fleets"]:
                if f["InstanceFleetType"] != "TASK" and loss == "task":
                    continue
                for i in f["instances"]:
                    if i["Market"] == "SPOT" and i["State"] != "TERMINATED":
                        i["State"], i["ended"] = "TERMINATED", t
                        i["reason"] = "Spot instance interruption: EC2 reclaimed the capacity"
                        i["reason_code"] = "INSTANCE_FAILURE"
            c["spot_interrupted"] = True
        if loss == "cluster":
            job.kill("\nContainer lost: the node running it was reclaimed by EC2\n")
            self.terminate(c, "INSTANCE_FAILURE",
                           "Instance failure: EC2 reclaimed the Spot capacity the cluster's "
                           "nodes ran on", errors=True)
            return
        injected = self.faults.take("step_failure")
        if injected is not None:
            text = injected.get("stderr", "") if isinstance(injected, dict) else str(injected)
            job.kill(text if text.endswith("\n") else text + "\n")
        code = job.poll()
        if code is None:
            return
        job.ship_logs(self.step_log_prefix(c, s))
        if code == 0 and not job.killed:
            self.end_step(s, "COMPLETED")
        else:
            self.fail_step(c, s, code, job.stderr_text())

    def admin_state(self):
        return {"clusters": [dict(self.cluster_json(self.clusters[cid]),
                                  Steps=[self.step_json(self.clusters[cid], s)
                                         for s in self.clusters[cid]["steps"]],
                                  Instances=self.op_ListInstances({"ClusterId": cid})["Instances"])
                             for cid in self.order]}


def main(argv):
    p = argparse.ArgumentParser(
        prog=argv[0], description="EMR (on EC2) emulator. DEVELOPMENT AND TEST TOOL ONLY: "
        "runs steps as local processes on 127.0.0.1; not a platform, no security boundary.",
        epilog=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    aws_common.common_arguments(p)
    p.add_argument("--provision-delay", type=float, default=0.2,
                   help="seconds a cluster stays STARTING (slow provisioning)")
    p.add_argument("--bootstrap-delay", type=float, default=0.1,
                   help="seconds a cluster stays BOOTSTRAPPING")
    p.add_argument("--terminate-delay", type=float, default=0.1,
                   help="seconds a cluster stays TERMINATING")
    p.add_argument("--fail-bootstrap", action="store_true",
                   help="the first cluster fails while bootstrapping")
    p.add_argument("--spot-loss", choices=["task", "cluster"], default="",
                   help="spot capacity loss during the first running step")
    args = p.parse_args(argv[1:])
    return aws_common.serve(Emr(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
