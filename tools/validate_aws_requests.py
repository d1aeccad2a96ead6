#!/usr/bin/env python3
"""Validates recorded AWS request bodies against botocore's service models (test tool).

Each input file holds JSON lines {"service": "elasticmapreduce" | "emr-serverless" | "s3",
"operation": "RunJobFlow", "body": {...}} as the emulators record them (--record). Every body
is checked with botocore's ParamValidator against the operation's input shape (unknown
members, types, required members, lengths and ranges) and, since that validator skips them,
every string member whose shape has an enum is checked against that enum here.

Uses the service models of the botocore this interpreter imports: run it with the project
virtualenv (.venv/bin/python, botocore pinned in requirements/dev.txt), whose models are
current, so every enum value is checked against the model as AWS publishes it.

Exit status: 0 when every body is valid, 1 with one line per problem otherwise, 2 on usage
errors.
"""
import json
import sys

SERVICES = {"elasticmapreduce": "emr", "emr-serverless": "emr-serverless", "s3": "s3"}

def enum_problems(shape, value, path, out):
    """Walks `value` along `shape`, collecting enum violations."""
    if shape is None:
        return
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                enum_problems(member, value[name], path + "." + name, out)
    elif shape.type_name == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            enum_problems(shape.member, item, "%s[%d]" % (path, i), out)
    elif shape.type_name == "map" and isinstance(value, dict):
        for k, v in value.items():
            enum_problems(shape.key, k, path + " key", out)
            enum_problems(shape.value, v, "%s[%r]" % (path, k), out)
    elif shape.type_name == "string" and isinstance(value, str):
        allowed = shape.enum
        if allowed and value not in allowed:
            out.append("%s: %r is not one of %s (%s)" % (path, value, sorted(allowed),
                                                          shape.name))


def validate(entries):
    import botocore.session
    from botocore.validate import ParamValidator
    session = botocore.session.get_session()
    models = {}
    problems = []
    for n, entry in enumerate(entries, 1):
        service = SERVICES.get(entry.get("service"))
        if service is None:
            problems.append("#%d: unknown service %r" % (n, entry.get("service")))
            continue
        if service not in models:
            models[service] = session.get_service_model(service)
        model = models[service]
        op = entry.get("operation")
        try:
            shape = model.operation_model(op).input_shape
        except Exception:  # noqa: BLE001  (botocore raises OperationNotFoundError)
            problems.append("#%d: %s has no operation %r" % (n, service, op))
            continue
        body = entry.get("body") or {}
        # REST-JSON: the path carries the URI members; the recorder adds them to the body.
        report = ParamValidator().validate(body, shape) if shape is not None else None
        if report is not None and report.has_errors():
            for line in report.generate_report().splitlines():
                problems.append("#%d %s.%s: %s" % (n, service, op, line.strip()))
        found = []
        enum_problems(shape, body, op, found)
        problems.extend("#%d %s.%s: %s" % (n, service, op, p) for p in found)
    return problems


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        return 2
    entries = []
    for path in argv[1:]:
        with open(path) as f:
            entries.extend(json.loads(line) for line in f if line.strip())
    if not entries:
        sys.stderr.write("validate_aws_requests: no requests recorded in %s\n" % argv[1:])
        return 1
    problems = validate(entries)
    for p in problems:
        print(p)
    ops = sorted({"%s.%s" % (e["service"], e["operation"]) for e in entries})
    print("validated %d request(s): %s" % (len(entries), ", ".join(ops)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
