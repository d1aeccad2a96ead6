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
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

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

int JobMain(int argc, char** argv) {
  std::string kind = argv[2];
  long logs = argc > 3 ? std::atol(argv[3]) : 0;
  long mats = argc > 4 ? std::atol(argv[4]) : 0;
  pc::RunWithPipes(argc, argv, [&](pc::Context& pipes) {
    if (kind != "flood") return;
    long every = mats > 0 ? logs / mats : 0;
    for (long i = 0; i < logs; ++i) {
      pipes.Info("processed batch " + std::to_string(i) + " of the crawl segment");
      if (every > 0 && i % every == 0) {
        pipes.ReportAssetMaterialization({{"rows", static_cast<int64_t>(i)}, {"bytes", 1.5 * i}});
      }
    }
  });
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
      for (const auto& r : *finals) ok += r.status == storage::RunStatus::kSuccess;
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
