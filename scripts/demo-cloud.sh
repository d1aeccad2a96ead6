#!/usr/bin/env bash
# The same example jobs, with the same definitions and code, on every runtime: local,
# Databricks, EMR and EMR Serverless. No cloud account is needed: the platforms are
# Arbiter's loopback emulators (development and test tools, tools/arbiter-emulator) and
# S3 is s3rver, all on 127.0.0.1. Only runtimes.yaml of a copy of the example differs,
# pointing the runtimes at them. Then the cost ledger compares what each run cost.
#   scripts/demo-cloud.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh ci >/dev/null
source scripts/venv-env.sh
repo="$PWD"
arbiter="$repo/build/ci/src/arbiter/cli/arbiter"
work=$(mktemp -d /tmp/arbiter-cloud-demo-XXXXXX)
source scripts/lib/servers.sh  # stops every server it starts, however the script ends

cp -r examples/commoncrawl "$work/project"
rm -rf "$work/project/.arbiter"
start_server s3 s3rver "$work/s3rver.log" env NODE_OPTIONS=--openssl-legacy-provider \
  node third_party/node/node_modules/s3rver/bin/s3rver.js -d "$work/s3" -a 127.0.0.1 -p 0 \
  --configure-bucket demo-bucket
start_server dbx databricks "$work/databricks.log" tools/arbiter-emulator databricks --port 0 \
  --state-dir "$work/databricks" --token demo-token --workdir "$work/project" \
  --start-delay 1 --terminate-delay 0.2
aws_args=(--access-key S3RVER --secret-key S3RVER --s3-endpoint "http://127.0.0.1:$s3"
  --workdir "$work/project")
start_server emr emr "$work/emr.log" tools/arbiter-emulator emr --port 0 "${aws_args[@]}" \
  --state-dir "$work/emr" --provision-delay 1 --bootstrap-delay 0.5 --terminate-delay 0.2
start_server emrs emr-serverless "$work/emr-serverless.log" tools/arbiter-emulator emr-serverless \
  --port 0 "${aws_args[@]}" --state-dir "$work/emr-serverless"

cat >"$work/project/runtimes.yaml" <<YAML
# The example's runtimes, pointed at the loopback emulators (plain http is allowed
# only to 127.0.0.1). Everything else in the project is unchanged.
runtimes:
  local: {type: local, max_concurrency: 2}
  databricks:
    type: databricks
    host: http://127.0.0.1:$dbx
    token: \${env:DATABRICKS_TOKEN}
    spark_version: 15.4.x-scala2.12
    staging: dbfs:/arbiter/commoncrawl/staging
    region: us-east-1
  emr:
    type: emr
    region: us-east-1
    release_label: emr-7.2.0
    staging: s3://demo-bucket/staging
    log_uri: s3://demo-bucket/logs
    subnets: [subnet-0123456789abcdef0]
    endpoint: http://127.0.0.1:$emr
    credentials:
      access_key_id: \${env:DEMO_AWS_KEY}
      secret_access_key: \${env:DEMO_AWS_SECRET}
  emr-serverless:
    type: emr-serverless
    region: us-east-1
    application_id: 00fabcd1234efg09
    execution_role_arn: arn:aws:iam::123456789012:role/arbiter-emr-serverless
    staging: s3://demo-bucket/staging
    log_uri: s3://demo-bucket/logs
    endpoint: http://127.0.0.1:$emrs
    credentials:
      access_key_id: \${env:DEMO_AWS_KEY}
      secret_access_key: \${env:DEMO_AWS_SECRET}
YAML
export DATABRICKS_TOKEN=demo-token DEMO_AWS_KEY=S3RVER DEMO_AWS_SECRET=S3RVER
export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$s3" ARBITER_POLL_INTERVAL_MS=250

step() {
  echo
  echo "\$ arbiter $*"
  "$arbiter" -C "$work/project" "$@"
}
step check
step plan commoncrawl/nodes
for runtime in local databricks emr emr-serverless; do
  step materialize commoncrawl/nodes -p 'CC-MAIN-2024-10|seeds-a' --runtime "$runtime"
done
step runs
step materializations commoncrawl/nodes
dbx_run=$("$arbiter" -C "$work/project" --json runs 2>/dev/null | python3 -c \
  'import json, sys; print([r["run_id"] for r in json.load(sys.stdin) if r["runtime"] == "databricks"][0])')
step logs "$dbx_run"
# Predictions come from expected_duration until runs teach the model; the emulated runs
# take seconds, so the "everything on" column compares seconds with predicted minutes.
step cost --by runtime
echo
echo "The project copy, its run database and the emulators' state are in $work"
