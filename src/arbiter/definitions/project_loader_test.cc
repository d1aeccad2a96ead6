// Every validation error `arbiter check` promises, asserted with its message
// and its position in the file.
#include "arbiter/definitions/project_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "arbiter/definitions/partitions/time_window_partitions.h"
#include "arbiter/testing/temp_dir.h"

namespace arbiter::definitions {
namespace {

using ::testing::HasSubstr;

// 2024-06-01T00:00:00Z
constexpr TimePoint kNow{std::chrono::seconds(1717200000)};

const char* kRuntimes = R"(
runtimes:
  local: {type: local}
  emr:
    type: emr
    region: us-east-1
    release_label: emr-7.2.0
    staging: s3://bucket/staging
)";

class LoaderTest : public ::testing::Test {
 protected:
  LoaderTest() {
    dir_.Write("jobs/a.py", "print('a')\n");
    dir_.Write("jobs/b.py", "print('b')\n");
  }

  LoadResult Load(const std::string& yaml) {
    dir_.Write("arbiter.yaml", yaml);
    LoadOptions options;
    options.now = kNow;
    options.env.get_env = [this](const std::string& n) -> std::optional<std::string> {
      auto it = env_.find(n);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    options.env.read_file = [](const std::string& p) -> Result<std::string> {
      return NotFoundError("no file " + p);
    };
    return LoadProject(dir_.str(), options);
  }

  // "line:col: message" of every error, for compact assertions.
  static std::vector<std::string> Errors(const LoadResult& r) {
    std::vector<std::string> out;
    for (const auto& d : r.diagnostics.all()) {
      if (d.severity != Severity::kError) continue;
      out.push_back(std::to_string(d.location.line) + ":" + std::to_string(d.location.column) +
                    ": " + d.message);
    }
    return out;
  }
  static std::vector<std::string> Warnings(const LoadResult& r) {
    std::vector<std::string> out;
    for (const auto& d : r.diagnostics.all()) {
      if (d.severity == Severity::kWarning) out.push_back(d.message);
    }
    return out;
  }

  testing::TempDir dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(LoaderTest, ValidProjectLoads) {
  LoadResult r = Load(std::string(kRuntimes) + R"(
project: demo
partitions:
  days:
    time: {cadence: daily, start: 2024-01-01, end: 2024-02-01, timezone: Europe/Vienna}
assets:
  raw/a:
    partitions: days
    job: {script: jobs/a.py}
  clean/b:
    deps: [raw/a]
    partitions: days
    job: {kind: python, script: jobs/b.py, env: {LEVEL: info}}
    runtimes: [local]
    placement: {fixed: local}
schedules:
  nightly: {cron: "0 3 * * *", timezone: Europe/Vienna, assets: [clean/b]}
)");
  ASSERT_TRUE(r.project) << ::testing::PrintToString(Errors(r));
  const Project& p = *r.project;
  EXPECT_EQ(p.name, "demo");
  ASSERT_EQ(p.assets.size(), 2u);
  const AssetDef* a = p.FindAsset("raw/a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->job.kind, JobKind::kPySpark);
  EXPECT_EQ(a->runtimes, (std::vector<std::string>{"emr", "local"}));  // default: all runtimes
  EXPECT_EQ(a->placement.ToString(), "cheapest");
  EXPECT_EQ(p.PartitionsOf(*a)->Size(), 31);
  const AssetDef* b = p.FindAsset("clean/b");
  EXPECT_EQ(b->placement.ToString(), "fixed: local");
  EXPECT_EQ(b->deps[0].str(), "raw/a");
  EXPECT_EQ(b->location.line, 18);
  EXPECT_EQ(p.schedules.at("nightly").assets.size(), 1u);
  EXPECT_TRUE(Errors(r).empty());
}

TEST_F(LoaderTest, UnknownKeySuggestsTheClosestOne) {
  LoadResult r = Load(std::string(kRuntimes) + R"(
assets:
  raw/a:
    partitons: days
    job: {script: jobs/a.py}
)");
  EXPECT_FALSE(r.project);
  ASSERT_EQ(Errors(r).size(), 1u);
  EXPECT_EQ(Errors(r)[0],
            "12:5: unknown key 'partitons' in asset 'raw/a'; did you mean 'partitions'?");
  EXPECT_THAT(r.diagnostics.all()[0].hint, HasSubstr("allowed keys: description, deps"));
  EXPECT_EQ(r.SourceLine(r.diagnostics.all()[0].location), "    partitons: days");
}

TEST_F(LoaderTest, UnknownTopLevelKey) {
  LoadResult r = Load(std::string(kRuntimes) + "asets: {}\n");
  EXPECT_EQ(Errors(r), (std::vector<std::string>{
                           "9:1: unknown key 'asets' in the project file; did you mean 'assets'?"}));
}

TEST_F(LoaderTest, DependencyCycleReportsTheFullPath) {
  LoadResult r = Load(std::string(kRuntimes) + R"(
assets:
  a:
    deps: [c]
    job: {script: jobs/a.py}
  b:
    deps: [a]
    job: {script: jobs/a.py}
  c:
    deps: [b]
    job: {script: jobs/a.py}
  d:
    deps: [d]
    job: {script: jobs/a.py}
)");
  EXPECT_THAT(Errors(r), ::testing::UnorderedElementsAre("11:3: dependency cycle: a -> c -> b -> a",
                                                         "20:3: dependency cycle: d -> d"));
}

TEST_F(LoaderTest, UnknownDepsRuntimesAndPartitions) {
  LoadResult r = Load(std::string(kRuntimes) + R"(
assets:
  raw/a:
    job: {script: jobs/a.py}
  clean/b:
    deps: [raw/aa, raw/a, raw/a]
    partitions: dayz
    runtimes: [locl, emr]
    placement: {fixed: databricks}
    job: {script: jobs/b.py}
)");
  EXPECT_THAT(Errors(r),
              ::testing::ElementsAre(
                  "14:12: asset 'clean/b' depends on unknown asset 'raw/aa'; did you mean 'raw/a'?",
                  "14:27: asset 'clean/b' lists dependency 'raw/a' twice",
                  "15:17: asset 'clean/b': unknown partitions 'dayz'",
                  "16:16: asset 'clean/b': unknown runtime 'locl'; did you mean 'local'?",
                  "17:16: asset 'clean/b': placement is fixed to unknown runtime 'databricks'"));
}

TEST_F(LoaderTest, PlacementMustUseOneOfTheAssetsRuntimes) {
  LoadResult r = Load(std::string(kRuntimes) + R"(
assets:
  a:
    runtimes: [local]
    placement: {fixed: emr}
    job: {script: jobs/a.py}
  b:
    placement: {cheapest_within: 2x}
    job: {script: jobs/a.py}
  c:
    placement: cheapset
    job: {script: jobs/a.py}
)");
  EXPECT_THAT(Errors(r),
              ::testing::ElementsAre(
                  HasSubstr("13:16: asset 'a': placement is fixed to 'emr', which is not among"),
                  HasSubstr("16:34: cheapest_within: invalid duration unit in '2x'"),
                  "19:16: unknown placement 'cheapset'; did you mean 'cheapest'?"));
}

TEST_F(LoaderTest, BadCronAndTimeZone) {
  LoadResult r = Load(std::string(kRuntimes) + R"(
assets:
  a:
    job: {script: jobs/a.py}
schedules:
  s1: {cron: "61 * * * *", assets: [a]}
  s2: {cron: "0 3 * * *", timezone: Europe/Viena, assets: [a, zz]}
)");
  auto errors = Errors(r);
  ASSERT_EQ(errors.size(), 3u) << ::testing::PrintToString(errors);
  EXPECT_THAT(errors[0], HasSubstr("14:14: invalid cron expression '61 * * * *': minute"));
  EXPECT_EQ(errors[1], "15:37: unknown time zone 'Europe/Viena'; did you mean 'Europe/Vienna'?");
  EXPECT_EQ(errors[2], "15:63: schedule 's2' targets unknown asset 'zz'");
}

TEST_F(LoaderTest, TimePartitionErrors) {
  LoadResult r = Load(std::string(kRuntimes) + R"(
partitions:
  backwards:
    time: {cadence: daily, start: 2024-02-01, end: 2024-01-01}
  badzone:
    time: {cadence: hourly, start: 2024-01-01, timezone: Mars/Olympus}
  baddate:
    time: {cadence: monthly, start: 2023-02-29}
  badformat:
    time: {cadence: daily, start: 2024-01-01, format: "%Y-%m"}
  nocadence:
    time: {start: 2024-01-01}
  weekly_dom:
    time: {cadence: weekly, start: 2024-01-01, day_of_month: 3}
)");
  auto errors = Errors(r);
  ASSERT_EQ(errors.size(), 6u) << ::testing::PrintToString(errors);
  EXPECT_THAT(errors[0], HasSubstr("12:52: time partitions 'backwards': "));
  EXPECT_THAT(errors[0], HasSubstr("end"));
  EXPECT_THAT(errors[1], HasSubstr("14:58: unknown time zone 'Mars/Olympus'"));
  EXPECT_THAT(errors[2], HasSubstr("16:37: invalid start: "));
  EXPECT_THAT(errors[3], HasSubstr("18:55: invalid key format: "));
  EXPECT_THAT(errors[3], HasSubstr("%d"));
  EXPECT_EQ(errors[4], "20:11: missing required key 'cadence'");
  EXPECT_EQ(errors[5], "22:62: day_of_month applies only to monthly partitions");
}

TEST_F(LoaderTest, StaticAndMultiPartitionErrors) {
  LoadResult r = Load(std::string(kRuntimes) + R"(
partitions:
  crawls:
    static: [c1, c2, c1, "a|b"]
  seeds:
    static: [s1]
  both:
    static: [x]
    dynamic: {}
  grid:
    multi: {crawl: crawls, seed: seedz}
  grid2:
    multi: {a: grid, b: seeds}
  grid3:
    multi: {a: seeds}
)");
  auto errors = Errors(r);
  ASSERT_EQ(errors.size(), 6u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0], "12:22: duplicate partition key 'c1' in 'crawls'");
  EXPECT_THAT(errors[1], HasSubstr("12:26: partition key 'a|b' contains '|'"));
  EXPECT_EQ(errors[2], "15:3: partitions 'both' have more than one kind (static, dynamic)");
  EXPECT_EQ(errors[3],
            "19:34: multi partitions 'grid': unknown partitions 'seedz'; did you mean 'seeds'?");
  EXPECT_EQ(errors[4],
            "21:16: multi partitions 'grid2': dimension 'a' cannot itself be multi-dimensional");
  EXPECT_THAT(errors[5], HasSubstr("23:12: multi partitions 'grid3' must have exactly two"));
}

TEST_F(LoaderTest, DuplicateKeysInYamlAndAcrossFiles) {
  dir_.Write("more.yaml", "assets:\n  a:\n    job: {script: jobs/b.py}\n");
  LoadResult r = Load(std::string(kRuntimes) + R"(
include: [more.yaml]
assets:
  a:
    job: {script: jobs/a.py}
    job: {script: jobs/b.py}
)");
  auto errors = Errors(r);
  ASSERT_EQ(errors.size(), 2u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0], "14:5: duplicate key 'job' in asset 'a'");
  EXPECT_EQ(r.diagnostics.all()[1].location.file, "more.yaml");
  EXPECT_EQ(errors[1], "2:3: asset 'a' is defined twice");
  EXPECT_THAT(r.diagnostics.all()[1].hint, HasSubstr("first defined at arbiter.yaml:12:3"));
}

// The second definition of an asset is checked too: its own mistakes are
// reported with the duplicate, in one pass.
TEST_F(LoaderTest, ASecondDefinitionStillHasItsErrorsReported) {
  dir_.Write("more.yaml",
             "assets:\n  a:\n    job: {script: jobs/b.py}\n    compute: {workers: -1}\n");
  LoadResult r = Load(std::string(kRuntimes) + R"(
include: [more.yaml]
assets:
  a:
    job: {script: jobs/a.py}
)");
  auto errors = Errors(r);
  ASSERT_EQ(errors.size(), 2u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0], "2:3: asset 'a' is defined twice");
  EXPECT_EQ(errors[1].rfind("4:", 0), 0u) << errors[1];
  EXPECT_THAT(errors[1], HasSubstr("workers"));
}

// `check` says in advance which runtime would refuse a job env value (a
// resolved secret for a platform that stores job parameters).
TEST_F(LoaderTest, JobEnvSecretsARuntimeWouldRefuseAreWarnedAbout) {
  LoadResult r = Load(R"(
runtimes:
  local: {type: local}
  dbx: {type: databricks, host: "https://x.cloud.databricks.com", token: "${env:T}",
        spark_version: 15.4.x-scala2.12, staging: "dbfs:/s"}
assets:
  a:
    job: {script: jobs/a.py, env: {KEY: "${env:KEY}", MODE: fast}}
    runtimes: [local, dbx]
  b:
    job: {script: jobs/b.py, env: {KEY: "${dbsecret:scope/key}"}}
    runtimes: [dbx]
)");
  auto warnings = Warnings(r);
  auto has = [&](const std::string& needle) {
    return std::any_of(warnings.begin(), warnings.end(),
                       [&](const std::string& w) { return w.find(needle) != std::string::npos; });
  };
  EXPECT_TRUE(has("asset 'a': job env KEY on runtime 'dbx': refusing to send the value of "
                  "${env:KEY} to Databricks"))
      << ::testing::PrintToString(warnings);
  EXPECT_FALSE(has("job env MODE"));
  EXPECT_FALSE(has("asset 'b': job env KEY on runtime"));  // a Databricks secret on Databricks
}

TEST_F(LoaderTest, IncludesWithGlobsAndProblems) {
  dir_.Write("assets/one.yaml", "assets:\n  one:\n    job: {script: jobs/a.py}\n");
  dir_.Write("assets/two.yaml", "assets:\n  two:\n    deps: [one]\n    job: {script: jobs/b.py}\n");
  LoadResult ok = Load(std::string(kRuntimes) + "include: [assets/*.yaml]\n");
  ASSERT_TRUE(ok.project) << ::testing::PrintToString(Errors(ok));
  EXPECT_EQ(ok.project->assets.size(), 2u);
  EXPECT_EQ(ok.project->files,
            (std::vector<std::string>{"arbiter.yaml", "assets/one.yaml", "assets/two.yaml"}));

  LoadResult bad =
      Load(std::string(kRuntimes) + "include: [missing.yaml, ../outside.yaml, nomatch/*.yaml]\n");
  EXPECT_THAT(Errors(bad), ::testing::ElementsAre(
                               "9:11: included file 'missing.yaml' not found",
                               "9:25: include '../outside.yaml' points outside the project directory"));
  EXPECT_THAT(Warnings(bad), ::testing::Contains(HasSubstr("matches no files")));
}

TEST_F(LoaderTest, YamlSyntaxErrorHasAPosition) {
  LoadResult r = Load("assets:\n  a: [1, 2\n  b: 3\n");
  auto errors = Errors(r);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("YAML syntax error"));
  EXPECT_EQ(r.diagnostics.all()[0].location.line, 3);
}

TEST_F(LoaderTest, ASyntaxErrorInAnIncludedFileIsTheOnlyError) {
  // Its runtimes are lost; references to them are not reported on top.
  dir_.Write("runtimes.yaml", "runtimes:\n  local: {type: local\n  emr: {type: emr}\n");
  LoadResult r = Load(R"(include: [runtimes.yaml]
defaults: {runtimes: [local]}
assets:
  a: {job: {script: jobs/a.py}, runtimes: [local], placement: {fixed: local}}
)");
  auto errors = Errors(r);
  ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);
  EXPECT_THAT(errors[0], HasSubstr("YAML syntax error"));
  EXPECT_FALSE(r.project);
}

TEST_F(LoaderTest, SecretsOnlyByReference) {
  LoadResult r = Load(R"(
runtimes:
  dbx:
    type: databricks
    host: https://dbc-1.cloud.databricks.com
    token: dapi0123456789abcdef
    spark_version: 15.4.x-scala2.12
    staging: dbfs:/arbiter
)");
  auto errors = Errors(r);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "6:12: 'token' must reference a secret, not contain it");
  for (const auto& d : r.diagnostics.all()) {
    EXPECT_EQ(d.message.find("dapi0123"), std::string::npos) << "secret leaked into a message";
    EXPECT_EQ(d.hint.find("dapi0123"), std::string::npos) << "secret leaked into a hint";
  }
}

TEST_F(LoaderTest, UnresolvableReferencesWarnAtCheckTime) {
  const std::string yaml = R"(
runtimes:
  dbx:
    type: databricks
    host: https://${env:DBX_HOST}
    token: ${env:DATABRICKS_TOKEN}
    spark_version: 15.4.x-scala2.12
    staging: dbfs:/arbiter
assets:
  a: {job: {script: jobs/a.py}}
)";
  LoadResult r = Load(yaml);
  ASSERT_TRUE(r.project);
  EXPECT_THAT(Warnings(r),
              ::testing::ElementsAre(
                  "runtime 'dbx': host: environment variable DBX_HOST is not set",
                  "runtime 'dbx': token: environment variable DATABRICKS_TOKEN is not set"));
  env_["DBX_HOST"] = "dbc-1.cloud.databricks.com";
  env_["DATABRICKS_TOKEN"] = "dapi-secret";
  LoadResult r2 = Load(yaml);
  EXPECT_TRUE(Warnings(r2).empty());
  // Stored as the template; resolved only at use.
  const auto& dbx = r2.project->runtimes.at("dbx").databricks;
  EXPECT_EQ(dbx.token->text(), "${env:DATABRICKS_TOKEN}");
}

TEST_F(LoaderTest, RuntimeFieldValidation) {
  LoadResult r = Load(R"(
runtimes:
  dbx:
    type: databricks
    host: http://example.com
    client_id: abc
    spark_version: "15.4"
    staging: s3://wrong
    first_on_demand: 0
  emr:
    type: emr
    region: useast1
    release_label: "7.2"
    staging: dbfs:/x
    subnets: [subnet-xyz]
  sls:
    type: emr-serverless
    region: us-east-1
  odd:
    type: kubernetes
)");
  auto errors = Errors(r);
  EXPECT_THAT(errors, ::testing::IsSupersetOf(std::vector<::testing::Matcher<std::string>>{
                          HasSubstr("host 'http://example.com' is not encrypted"),
                          HasSubstr("OAuth M2M needs both client_id and client_secret"),
                          HasSubstr("invalid spark_version '15.4'"),
                          HasSubstr("invalid staging 's3://wrong'"),
                          HasSubstr("first_on_demand must be at least 1"),
                          HasSubstr("invalid region 'useast1'"),
                          HasSubstr("invalid release_label '7.2'"),
                          HasSubstr("invalid subnet id 'subnet-xyz'"),
                          HasSubstr("missing required key 'application_id'"),
                          HasSubstr("invalid type 'kubernetes'"),
                      }));
}

TEST_F(LoaderTest, EachBadFieldIsReportedOnce) {
  LoadResult r = Load(R"(
runtimes:
  emr:
    type: emr
    region: [us-east-1]
    release_label: emr-7.2.0
    staging: s3://bucket/x
)");
  EXPECT_EQ(Errors(r), (std::vector<std::string>{
                           "5:13: 'region' must be a single value, not a list"}));
}

TEST_F(LoaderTest, JobAndComputeValidation) {
  LoadResult r = Load(std::string(kRuntimes) + R"(
assets:
  a:
    job: {script: jobs/missing.py}
    compute: {workers: -1, worker: {vcpu: 0}, instance_types: {emrr: m5.xlarge}, spot: maybe}
  b:
    job: {kind: command, command: "spark-submit x.py"}
  c:
    description: no job
  d:
    job: {script: ../outside.py}
    compute: {workers: 10, max_workers: 5, max_duration: soon}
)");
  auto errors = Errors(r);
  EXPECT_THAT(errors, ::testing::IsSupersetOf(std::vector<::testing::Matcher<std::string>>{
                          "12:19: job script 'jobs/missing.py' not found",
                          "13:24: 'workers' must be between 0 and 10000, not -1",
                          HasSubstr("'vcpu' must be greater than 0"),
                          HasSubstr("instance_types: unknown runtime type 'emrr'; did you mean 'emr'?"),
                          "13:88: 'spot' must be true or false, not 'maybe'",
                          "15:35: 'command' must be a list of arguments, not one string",
                          "16:3: asset 'c' has no 'job'",
                          "19:19: job script '../outside.py' is outside the project",
                          "20:41: max_workers (5) is below workers (10)",
                          HasSubstr("'max_duration': invalid duration"),
                      }));
}

TEST_F(LoaderTest, PricingOverridesAreValidated) {
  LoadResult r = Load(std::string(kRuntimes) + R"(
pricing:
  discounts: {databricks_dbu: 1.5, ec2: 0.1, gcp: 0.2}
  dbu_rates: {jobs_compute: 0}
  instance_prices:
    m5.xlarge: {on_demand: 0.19, spot: 0.07}
    bogus: {on_demand: 1}
    r5.large: {region: us-east-1}
)");
  auto errors = Errors(r);
  EXPECT_THAT(errors, ::testing::ElementsAre(
                          HasSubstr("'databricks_dbu' must be at least 0 and at most 1, not 1.5"),
                          "11:46: unknown key 'gcp' in 'pricing: discounts'",
                          HasSubstr("'jobs_compute' must be greater than 0"),
                          "15:5: invalid instance type 'bogus'",
                          "16:5: the price of 'r5.large' gives neither on_demand nor spot"));
}

// What `arbiter serve` reads: priorities, pools, per-asset caps, retry
// policies, schedule catch-up and the service's own limit.
TEST_F(LoaderTest, ServiceFieldsAreParsed) {
  LoadResult r = Load(std::string(kRuntimes) + R"(
pools:
  spark: {slots: 4}
  gpu: 2
service: {max_concurrent_runs: 8}
assets:
  a:
    job: {script: jobs/a.py}
    priority: 10
    pool: spark
    max_concurrency: 2
    retries:
      max_attempts: 4
      backoff: 30s
      max_backoff: 10m
      jitter: 0
      retry_user_errors: true
      other_runtime: yes
  b:
    job: {script: jobs/b.py}
    priority: -5
    pool: gpu
    retries: 3
  c:
    job: {script: jobs/b.py}
    retries: {max_attempts: 2, backoff: 1h}
schedules:
  s1: {cron: "0 3 * * *", assets: [a]}
  s2: {cron: "0 3 * * *", assets: [a], catchup: all}
  s3: {cron: "0 3 * * *", assets: [a], catchup: none}
)");
  ASSERT_TRUE(r.project) << ::testing::PrintToString(Errors(r));
  const Project& p = *r.project;
  ASSERT_EQ(p.pools.size(), 2u);
  EXPECT_EQ(p.pools.at("spark").slots, 4);
  EXPECT_EQ(p.pools.at("spark").location.line, 11);
  EXPECT_EQ(p.pools.at("gpu").slots, 2);
  EXPECT_EQ(p.service.max_concurrent_runs, 8);
  EXPECT_EQ(p.service.location.line, 13);

  const AssetDef* a = p.FindAsset("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->priority, 10);
  EXPECT_EQ(a->pool, "spark");
  EXPECT_EQ(a->max_concurrency, 2);
  EXPECT_EQ(a->retries.max_attempts, 4);
  EXPECT_EQ(a->retries.backoff, std::chrono::seconds(30));
  EXPECT_EQ(a->retries.max_backoff, std::chrono::minutes(10));
  EXPECT_EQ(a->retries.jitter, 0);
  EXPECT_TRUE(a->retries.retry_user_errors);
  EXPECT_TRUE(a->retries.other_runtime);

  // The shorthand sets the attempts; the rest keeps the built-in policy.
  const AssetDef* b = p.FindAsset("b");
  EXPECT_EQ(b->priority, -5);
  EXPECT_EQ(b->pool, "gpu");
  EXPECT_EQ(b->max_concurrency, 0);
  EXPECT_EQ(b->retries.max_attempts, 3);
  EXPECT_EQ(b->retries.backoff, std::chrono::seconds(60));
  EXPECT_EQ(b->retries.max_backoff, std::chrono::minutes(30));
  EXPECT_DOUBLE_EQ(b->retries.jitter, 0.2);
  EXPECT_FALSE(b->retries.retry_user_errors);
  EXPECT_FALSE(b->retries.other_runtime);

  // A first wait above the default cap raises the cap to it.
  const AssetDef* c = p.FindAsset("c");
  EXPECT_EQ(c->priority, 0);
  EXPECT_EQ(c->pool, "");
  EXPECT_EQ(c->retries.max_attempts, 2);
  EXPECT_EQ(c->retries.backoff, std::chrono::hours(1));
  EXPECT_EQ(c->retries.max_backoff, std::chrono::hours(1));

  EXPECT_EQ(p.schedules.at("s1").catchup, ScheduleDef::Catchup::kLatest);
  EXPECT_EQ(p.schedules.at("s2").catchup, ScheduleDef::Catchup::kAll);
  EXPECT_EQ(p.schedules.at("s3").catchup, ScheduleDef::Catchup::kNone);
}

TEST_F(LoaderTest, ServiceFieldsHaveDefaults) {
  LoadResult r = Load(std::string(kRuntimes) + "assets:\n  a: {job: {script: jobs/a.py}}\n");
  ASSERT_TRUE(r.project) << ::testing::PrintToString(Errors(r));
  EXPECT_TRUE(r.project->pools.empty());
  EXPECT_EQ(r.project->service.max_concurrent_runs, 16);
  const AssetDef* a = r.project->FindAsset("a");
  EXPECT_EQ(a->priority, 0);
  EXPECT_EQ(a->pool, "");
  EXPECT_EQ(a->max_concurrency, 0);
  EXPECT_EQ(a->retries.max_attempts, 1);
}

TEST_F(LoaderTest, ServiceFieldErrors) {
  LoadResult r = Load(std::string(kRuntimes) + R"(
pools:
  spark: {slots: 0}
  gpu: many
  big: {slots: 4, size: 2}
  empty:
  nested: [1]
service: {max_concurrent_runs: 0, max_runs: 3}
assets:
  a:
    job: {script: jobs/a.py}
    priority: 1001
    max_concurrency: -1
    retries: 0
  b:
    job: {script: jobs/a.py}
    priority: high
    retries: [3]
  c:
    job: {script: jobs/a.py}
    retries:
      max_attempts: 101
      backoff: 5x
      jitter: 1.5
      retry_user_errors: maybe
      other_runtime: 2
      delay: 1m
  d:
    job: {script: jobs/a.py}
    retries: {backoff: 10m, max_backoff: 5m}
  e:
    job: {script: jobs/a.py}
    retries: {max_attempts: 2, max_backoff: 30s}
schedules:
  s: {cron: "0 3 * * *", assets: [a], catchup: some}
)");
  EXPECT_THAT(Errors(r),
              ::testing::ElementsAre(
                  "11:18: 'slots' must be between 1 and 100000, not 0",
                  "12:8: the slots of pool 'gpu' must be a whole number, not 'many'",
                  "13:19: unknown key 'size' in pool 'big'",
                  "14:3: pool 'empty' must be a number of slots or a mapping",
                  "15:11: pool 'nested' must be a number of slots or a mapping",
                  "16:32: 'max_concurrent_runs' must be between 1 and 100000, not 0",
                  "16:35: unknown key 'max_runs' in 'service' (project settings)",
                  "20:15: 'priority' must be between -1000 and 1000, not 1001",
                  "21:22: 'max_concurrency' must be between 0 and 100000, not -1",
                  "22:14: 'retries' must be between 1 and 100, not 0",
                  "25:15: 'priority' must be a whole number, not 'high'",
                  "26:14: 'retries' must be a number of attempts or a mapping, not a list",
                  "30:21: 'max_attempts' must be between 1 and 100, not 101",
                  HasSubstr("31:16: 'backoff': invalid duration unit in '5x'"),
                  "32:15: 'jitter' must be at least 0 and at most 1, not 1.5",
                  "33:26: 'retry_user_errors' must be true or false, not 'maybe'",
                  "34:22: 'other_runtime' must be true or false, not '2'",
                  "35:7: unknown key 'delay' in 'retries'", "38:14: 'retries' needs 'max_attempts'",
                  "38:42: max_backoff (5m) is below backoff (10m)",
                  "41:45: max_backoff (30s) is below backoff (1m, the default)",
                  "43:48: invalid catchup 'some'"));
}

TEST_F(LoaderTest, AnAssetsPoolMustBeDefined) {
  LoadResult r = Load(std::string(kRuntimes) + R"(
pools: {spark: 4, gpu: 1}
assets:
  a: {job: {script: jobs/a.py}, pool: sprak}
  b: {job: {script: jobs/a.py}, pool: gpu}
)");
  EXPECT_EQ(
      Errors(r),
      (std::vector<std::string>{"12:39: asset 'a': unknown pool 'sprak'; did you mean 'spark'?"}));
  EXPECT_EQ(r.diagnostics.all()[0].hint, "defined pools: gpu, spark");

  LoadResult none = Load(std::string(kRuntimes) + R"(
assets:
  a: {job: {script: jobs/a.py}, pool: spark}
)");
  EXPECT_EQ(Errors(none), (std::vector<std::string>{"11:39: asset 'a': unknown pool 'spark'"}));
  EXPECT_THAT(none.diagnostics.all()[0].hint, HasSubstr("define it under 'pools:'"));

  LoadResult empty = Load(std::string(kRuntimes) + R"(
pools: {gpu: {}}
assets:
  a: {job: {script: jobs/a.py}, pool: ""}
)");
  EXPECT_EQ(Errors(empty),
            (std::vector<std::string>{"10:9: pool 'gpu' has no 'slots'",
                                      "12:39: 'pool' must name a pool, not be empty"}));
}

TEST_F(LoaderTest, PoolsAcrossIncludedFiles) {
  dir_.Write("pools.yaml", "pools:\n  gpu: {slots: 2}\n  spark: 8\n");
  LoadResult r = Load(std::string(kRuntimes) + R"(
include: [pools.yaml]
pools:
  spark: 4
assets:
  a: {job: {script: jobs/a.py}, pool: gpu}
)");
  auto errors = Errors(r);
  ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);
  EXPECT_EQ(r.diagnostics.all()[0].location.file, "pools.yaml");
  EXPECT_EQ(errors[0], "3:3: pool 'spark' is defined twice");
  EXPECT_THAT(r.diagnostics.all()[0].hint, HasSubstr("first defined at arbiter.yaml:12:3"));

  // `service:` is a project setting: not in an included file.
  dir_.Write("pools.yaml", "pools: {gpu: 2}\nservice: {max_concurrent_runs: 4}\n");
  EXPECT_EQ(Errors(Load(std::string(kRuntimes) + "include: [pools.yaml]\n")),
            (std::vector<std::string>{"2:1: unknown key 'service' in an included file"}));
}

TEST_F(LoaderTest, DefaultsGiveRetriesAndPriority) {
  LoadResult r = Load(std::string(kRuntimes) + R"(
defaults:
  runtimes: [local]
  priority: 7
  retries: {max_attempts: 3, backoff: 2m}
assets:
  a: {job: {script: jobs/a.py}}
  b: {job: {script: jobs/a.py}, priority: -1, retries: 1}
  c: {job: {script: jobs/a.py}, retries: {max_attempts: 5}}
)");
  ASSERT_TRUE(r.project) << ::testing::PrintToString(Errors(r));
  const AssetDef* a = r.project->FindAsset("a");
  EXPECT_EQ(a->priority, 7);
  EXPECT_EQ(a->retries.max_attempts, 3);
  EXPECT_EQ(a->retries.backoff, std::chrono::minutes(2));
  // An asset's own `retries:` replaces the default policy as a whole.
  const AssetDef* b = r.project->FindAsset("b");
  EXPECT_EQ(b->priority, -1);
  EXPECT_EQ(b->retries.max_attempts, 1);
  EXPECT_EQ(b->retries.backoff, std::chrono::seconds(60));
  const AssetDef* c = r.project->FindAsset("c");
  EXPECT_EQ(c->priority, 7);
  EXPECT_EQ(c->retries.max_attempts, 5);
  EXPECT_EQ(c->retries.backoff, std::chrono::seconds(60));

  LoadResult bad = Load(std::string(kRuntimes) + R"(
defaults: {priority: 5000, retries: {max_attempts: 0}, pool: spark}
assets:
  a: {job: {script: jobs/a.py}}
)");
  EXPECT_THAT(Errors(bad),
              ::testing::ElementsAre("10:22: 'priority' must be between -1000 and 1000, not 5000",
                                     "10:52: 'max_attempts' must be between 1 and 100, not 0",
                                     HasSubstr("10:56: unknown key 'pool' in 'defaults'")));
}

TEST_F(LoaderTest, StorageUrl) {
  LoadResult ok = Load(std::string(kRuntimes) + "storage: sqlite:.arbiter/arbiter.db\n");
  ASSERT_TRUE(ok.project) << ::testing::PrintToString(Errors(ok));
  EXPECT_EQ(ok.project->storage_url, "sqlite:.arbiter/arbiter.db");
  EXPECT_TRUE(Load(std::string(kRuntimes) +
                   "storage: postgresql://arbiter:${env:PGPASSWORD}@db/arbiter\n")
                  .project);
  EXPECT_EQ(Errors(Load(std::string(kRuntimes) + "storage: mysql://db\n")),
            (std::vector<std::string>{"9:10: unsupported storage URL scheme"}));
  LoadResult secret = Load(std::string(kRuntimes) + "storage: postgresql://u:hunter2@db/a\n");
  EXPECT_EQ(Errors(secret), (std::vector<std::string>{
                                "9:10: the storage URL contains credentials; give them by reference"}));
  EXPECT_TRUE(secret.diagnostics.all()[0].redact_source);
}

TEST_F(LoaderTest, MissingProjectFile) {
  LoadResult r = LoadProject(dir_.str(), LoadOptions{});
  ASSERT_EQ(r.diagnostics.error_count(), 1);
  EXPECT_EQ(r.diagnostics.all()[0].message, "cannot read 'arbiter.yaml'");
  EXPECT_THAT(r.diagnostics.all()[0].hint, HasSubstr("arbiter init"));
}

TEST_F(LoaderTest, FindProjectRootWalksUp) {
  dir_.Write("arbiter.yaml", "");
  dir_.Write("jobs/deep/x.txt", "");
  Result<std::string> root = FindProjectRoot((dir_.path() / "jobs" / "deep").string());
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, dir_.str());
  testing::TempDir empty;
  EXPECT_EQ(FindProjectRoot(empty.str()).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace arbiter::definitions
