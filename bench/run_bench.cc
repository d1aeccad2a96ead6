// The local runtime end to end (issue targets in bench/README.md):
//   overhead   1,000 runs of a trivial pipes job at concurrency 2, against the
//              same 1,000 processes spawned bare (posix_spawn + waitpid).
//   ingestion  one job emitting 1,000,000 log messages and 100,000
//              materializations; messages stored per second and peak RSS.
// A plain program, not Google Benchmark: each figure is one long measurement.
// The jobs are this binary re-executed with --job (the C++ pipes client).
//   arbiter_run_bench [overhead|ingestion|all] [--runs N]
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "arbiter/pipes/params.h"
#include "arbiter/runs/local_launcher.h"
#include "arbiter/runs/process.h"
#include "arbiter/runs/run_executor.h"
#include "arbiter/storage/sqlite_storage.h"
#include "arbiter_pipes_client/pipes_client.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
namespace pc = arbiter::pipes::client;
using namespace arbiter;

// The flood job writes protocol lines straight to the messages file (the
// clients allow one materialization per asset and run; the reader does not).
int Flood(long logs, long mats) {
  const char* enc = std::getenv("DAGSTER_PIPES_MESSAGES");
  if (!enc) return 2;
  auto params = pipes::DecodeParam(enc);
  if (!params.ok() || !params->contains("path")) return 3;
  std::FILE* f = std::fopen((*params)["path"].get<std::string>().c_str(), "a");
  if (!f) return 4;
  const char* v = R"("__dagster_pipes_version": "0.1")";
  std::fprintf(f, "{%s, \"method\": \"opened\", \"params\": {}}\n", v);
  long every = mats > 0 ? logs / mats : 0;
  for (long i = 0; i < logs; ++i) {
    std::fprintf(f,
                 "{%s, \"method\": \"log\", \"params\": {\"message\": \"processed batch %ld "
                 "of the crawl segment\", \"level\": \"INFO\"}}\n",
                 v, i);
    if (every > 0 && i % every == 0) {
      std::fprintf(f,
                   "{%s, \"method\": \"report_asset_materialization\", \"params\": "
                   "{\"asset_key\": \"bench/job\", \"data_version\": \"v%ld\", \"metadata\": "
                   "{\"rows\": {\"raw_value\": %ld, \"type\": \"int\"}}}}\n",
                   v, i, i);
    }
  }
  std::fprintf(f, "{%s, \"method\": \"closed\", \"params\": {}}\n", v);
  return std::fclose(f) == 0 ? 0 : 5;
}

int JobMain(int argc, char** argv) {
  std::string kind = argv[2];
  if (kind == "flood" && argc > 4) return Flood(std::atol(argv[3]), std::atol(argv[4]));
  pc::RunWithPipes(argc, argv, [&](pc::Context&) {});
  return 0;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

struct Setup {
  fs::path dir;
  definitions::Project project;
  definitions::AssetDef asset;
  definitions::RuntimeConfig runtime;
  definitions::Environment env = definitions::Environment::System();
  std::unique_ptr<storage::SqliteStorage> storage;
  runs::LocalLauncherOptions options;

  Setup(const std::string& self, std::vector<std::string> job_args) {
    dir = fs::temp_directory_path() / ("arbiter-run-bench-" + std::to_string(getpid()));
    fs::create_directories(dir);
    project.name = "bench";
    project.root = dir.string();
    asset.key = *definitions::AssetKey::Parse("bench/job");
    asset.job.kind = definitions::JobKind::kCommand;
    asset.job.command = {self, "--job"};
    asset.job.command.insert(asset.job.command.end(), job_args.begin(), job_args.end());
    project.assets[asset.key] = asset;
    runtime.name = "local";
    project.runtimes["local"] = runtime;
    storage = std::move(storage::SqliteStorage::Open((dir / "arbiter.db").string())).value();
    options.runs_dir = (dir / "runs").string();
    options.base_env = {"PATH=/usr/bin:/bin"};
  }
  ~Setup() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  std::vector<storage::RunRecord> Queue(int n) {
    std::vector<storage::RunRecord> out;
    for (int i = 0; i < n; ++i) {
      storage::RunRecord r;
      r.run_id = runs::NewRunId();
      r.asset_key = "bench/job";
      r.runtime = "local";
      r.owner = runs::CurrentProcess().ToString();
      (void)storage->CreateRun(r);
      out.push_back(r);
    }
    return out;
  }

  double RunAll(const std::vector<storage::RunRecord>& queued, int concurrency) {
    runs::LocalLauncher launcher(storage.get(), options);
    runs::RunExecutor executor(
        storage.get(), &project, &env,
        [&](const definitions::RuntimeConfig&) -> runs::Launcher* { return &launcher; },
        concurrency);
    runs::CancelSignal cancel;
    auto start = std::chrono::steady_clock::now();
    auto finals = executor.RunToEnd(queued, cancel, nullptr);
    double secs = Seconds(std::chrono::steady_clock::now() - start);
    int ok = 0;
    if (finals.ok()) {
      for (const auto& r : *finals) {
        ok += r.status == storage::RunStatus::kSuccess;
        if (r.status != storage::RunStatus::kSuccess) {
          std::fprintf(stderr, "run %s: %s\n", r.run_id.c_str(), r.failure_reason.c_str());
        }
      }
    } else {
      std::fprintf(stderr, "%s\n", finals.status().ToString().c_str());
    }
    if (ok != static_cast<int>(queued.size())) {
      std::fprintf(stderr, "only %d of %zu runs succeeded\n", ok, queued.size());
    }
    return secs;
  }
};

double BareSpawns(const std::string& self, int n, int concurrency) {
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < n; i += concurrency) {
        const char* argv[] = {self.c_str(), "--job", "trivial", nullptr};
        const char* envp[] = {"PATH=/usr/bin:/bin", nullptr};
        pid_t pid = 0;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        if (posix_spawn(&pid, self.c_str(), &fa, nullptr, const_cast<char**>(argv),
                        const_cast<char**>(envp)) == 0) {
          waitpid(pid, nullptr, 0);
        }
        posix_spawn_file_actions_destroy(&fa);
      }
    });
  }
  for (auto& th : threads) th.join();
  return Seconds(std::chrono::steady_clock::now() - start);
}

void Overhead(const std::string& self, int n) {
  const int concurrency = 2;
  double bare = BareSpawns(self, n, concurrency);
  Setup s(self, {"trivial"});
  double arbiter = s.RunAll(s.Queue(n), concurrency);
  // Wall time per run is shared by `concurrency` slots, so a slot's time per run
  // is wall * concurrency / n.
  double bare_ms = bare * 1000 * concurrency / n, arb_ms = arbiter * 1000 * concurrency / n;
  std::printf("overhead: %d runs, concurrency %d\n", n, concurrency);
  std::printf("  bare spawn+wait:  %.2f s wall, %.2f ms per run per slot\n", bare, bare_ms);
  std::printf("  arbiter runs:     %.2f s wall, %.2f ms per run per slot\n", arbiter, arb_ms);
  std::printf("  mean overhead:    %.2f ms per run (target <= 2 ms)\n", arb_ms - bare_ms);
}

void Ingestion(const std::string& self) {
  const long logs = 1000000, mats = 100000;
  Setup s(self, {"flood", std::to_string(logs), std::to_string(mats)});
  double secs = s.RunAll(s.Queue(1), 1);
  // opened + logs + materializations + closed
  double messages = static_cast<double>(logs + mats + 2);
  rusage self_usage{};
  getrusage(RUSAGE_SELF, &self_usage);
  std::printf("ingestion: %ld log messages + %ld materializations in one run\n", logs, mats);
  std::printf("  wall time:        %.2f s (job and arbiter together)\n", secs);
  std::printf("  stored:           %.0f messages/s (target >= 200,000)\n", messages / secs);
  std::printf("  arbiter peak RSS: %.1f MB (target <= 100 MB)\n", self_usage.ru_maxrss / 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 && std::strcmp(argv[1], "--job") == 0) return JobMain(argc, argv);
  std::error_code ec;
  std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  std::string what = argc > 1 ? argv[1] : "all";
  int n = 1000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0) n = std::atoi(argv[i + 1]);
  }
  if (what == "overhead" || what == "all") Overhead(self, n);
  if (what == "ingestion" || what == "all") Ingestion(self);
  return 0;
}
