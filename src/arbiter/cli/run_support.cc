#include "arbiter/cli/run_support.h"

#include "arbiter/cli/service_support.h"

#include <date/date.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "arbiter/common/duration.h"
#include "arbiter/common/strings.h"
#include "arbiter/databricks/databricks_launcher.h"
#include "arbiter/emr/aws_connection.h"
#include "arbiter/emr/emr_launcher.h"
#include "arbiter/emr/emr_serverless_launcher.h"
#include "arbiter/runs/process.h"
#include "arbiter/runs/run_executor.h"
#include "arbiter/storage/open_storage.h"

extern char** environ;

#ifndef ARBITER_PYTHON_CLIENT_DIR
#define ARBITER_PYTHON_CLIENT_DIR ""
#endif

namespace arbiter::cli {

namespace fs = std::filesystem;

std::unique_ptr<storage::Storage> OpenProjectStorage(CommandContext& ctx,
                                                     const definitions::Project& project) {
  const std::string& url = ctx.flags().storage.empty() ? project.storage_url : ctx.flags().storage;
  auto s = storage::OpenStorage(url, project.root);
  if (!s.ok()) {
    ctx.err() << "error: cannot open storage: " << s.status().message() << "\n";
    return nullptr;
  }
  return std::move(s).value();
}

namespace {

std::vector<std::string> ProcessEnv(const CommandContext& ctx) {
  if (!ctx.env().process_env.empty()) return ctx.env().process_env;
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  return env;
}

std::string PythonClientDir(const std::vector<std::string>& env) {
  for (const std::string& kv : env) {
    if (kv.rfind("ARBITER_PYTHON_CLIENT=", 0) == 0) return kv.substr(22);
  }
  std::string built_in = ARBITER_PYTHON_CLIENT_DIR;
  std::error_code ec;
  return !built_in.empty() && fs::exists(built_in, ec) ? built_in : "";
}

// The pipes client shipped with remote jobs.
std::string PythonClientFile(const std::vector<std::string>& env) {
  std::string dir = PythonClientDir(env);
  return dir.empty() ? "" : (fs::path(dir) / "arbiter_pipes.py").string();
}

}  // namespace

std::map<std::string, std::string> UnavailableRuntimes(const CommandContext& ctx,
                                                       const definitions::Project& project,
                                                       const definitions::AssetDef& asset) {
  std::map<std::string, std::string> out;
  std::string local;  // an allowed local runtime, for the hint
  // The default AWS chain gives the same answer for every runtime using it:
  // ask once (its IMDS probe may take a second off EC2).
  std::optional<Status> default_chain;
  for (const auto& [name, rt] : project.runtimes) {
    if (!asset.runtimes.empty() &&
        std::find(asset.runtimes.begin(), asset.runtimes.end(), name) == asset.runtimes.end()) {
      continue;
    }
    Status s;
    switch (rt.type) {
      case definitions::RuntimeType::kLocal:
        if (local.empty()) local = name;
        break;
      case definitions::RuntimeType::kDatabricks:
        s = databricks::CheckDatabricksCredentials(rt, ctx.env().env);
        break;
      case definitions::RuntimeType::kEmr:
      case definitions::RuntimeType::kEmrServerless: {
        const definitions::AwsCredentialsConfig& cc =
            rt.type == definitions::RuntimeType::kEmr ? rt.emr.aws.credentials
                                                      : rt.emr_serverless.aws.credentials;
        const bool uses_default_chain = !cc.profile && !cc.access_key_id;
        if (uses_default_chain && default_chain) {
          s = *default_chain;
        } else {
          s = emr::CheckAwsCredentials(rt, ctx.env().env, ctx.env().clock);
          if (uses_default_chain) default_chain = s;
        }
        break;
      }
    }
    if (!s.ok()) out[name] = s.message();
  }
  if (!local.empty()) {
    for (auto& [name, why] : out) why += " — or use --runtime " + local;
  }
  return out;
}

runs::LocalLauncherOptions LocalOptionsFor(const CommandContext& ctx,
                                           const definitions::Project& project) {
  runs::LocalLauncherOptions o;
  o.runs_dir = (fs::path(project.root) / ".arbiter" / "runs").string();
  o.base_env = ProcessEnv(ctx);
  o.python_client_dir = PythonClientDir(o.base_env);
  o.clock = ctx.env().clock;
  // Installed and built next to the arbiter binary (runs/job_monitor_main.cc).
  if (!ctx.env().self_exe.empty()) {
    fs::path monitor = fs::path(ctx.env().self_exe).parent_path() / "arbiter-job-monitor";
    std::error_code ec;
    if (fs::is_regular_file(monitor, ec)) o.job_monitor = monitor.string();
  }
  return o;
}

// Remote runs poll every 2 s, backing off to 30 s. ARBITER_POLL_INTERVAL_MS polls faster
// (emulators, tests): that interval, backing off to 4x it, with a 2 s pipes drain window.
emr::FollowOptions FollowOptionsFor(const CommandContext& ctx) {
  emr::FollowOptions f;
  const auto& get = ctx.env().env.get_env;
  std::optional<std::string> ms = get ? get("ARBITER_POLL_INTERVAL_MS") : std::nullopt;
  if (ms && !ms->empty() && ms->size() < 7 &&
      std::all_of(ms->begin(), ms->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const std::chrono::milliseconds v(std::max(1, std::stoi(*ms)));
    f.poll_initial = v;
    f.poll_max = 4 * v;
    f.cancel_check = v;
    f.reader.drain_window = std::chrono::seconds(2);
    f.reader.drain_pause = v;
  }
  return f;
}

template <typename Options>
Options RemoteOptionsFor(const CommandContext& ctx) {
  Options o;
  o.python_client_dir = PythonClientFile(ProcessEnv(ctx));
  o.connect.clock = ctx.env().clock;
  o.follow = FollowOptionsFor(ctx);
  return o;
}

Launchers::Launchers(const CommandContext& ctx, const definitions::Project& project,
                     storage::Storage* storage)
    : ctx_(ctx), project_(project), storage_(storage) {}

Launchers::~Launchers() = default;

runs::Launcher* Launchers::For(const definitions::RuntimeConfig& runtime) {
  std::lock_guard lock(mu_);
  std::unique_ptr<runs::Launcher>& slot = made_[runtime.type];
  if (!slot) {
    switch (runtime.type) {
      case definitions::RuntimeType::kLocal:
        slot = std::make_unique<runs::LocalLauncher>(storage_, LocalOptionsFor(ctx_, project_));
        break;
      case definitions::RuntimeType::kDatabricks: {
        databricks::DatabricksLauncherOptions o;
        o.python_client_dir = LocalOptionsFor(ctx_, project_).python_client_dir;
        o.instance_chooser = chooser_;
        o.clock = ctx_.env().clock;
        slot = std::make_unique<databricks::DatabricksLauncher>(storage_, std::move(o));
        break;
      }
      case definitions::RuntimeType::kEmr: {
        auto o = RemoteOptionsFor<emr::EmrLauncherOptions>(ctx_);
        o.chooser = chooser_;
        slot = std::make_unique<emr::EmrLauncher>(storage_, std::move(o));
        break;
      }
      case definitions::RuntimeType::kEmrServerless:
        slot = std::make_unique<emr::EmrServerlessLauncher>(
            storage_, RemoteOptionsFor<emr::EmrServerlessLauncherOptions>(ctx_));
        break;
      default:
        return nullptr;
    }
  }
  return slot.get();
}

Result<runs::ProcessId> StartBackgroundExecutor(const CommandContext& ctx,
                                                const definitions::Project& project,
                                                const std::vector<std::string>& extra_args) {
  if (ctx.env().self_exe.empty()) {
    return FailedPreconditionError("this arbiter cannot start a background executor");
  }
  fs::path logs = fs::path(project.root) / ".arbiter" / "logs";
  std::error_code ec;
  fs::create_directories(logs, ec);
  std::string log = (logs / ("executor-" + runs::NewRunId() + ".log")).string();
  runs::SpawnSpec spec;
  spec.argv = {ctx.env().self_exe, "-C", project.root};
  if (!ctx.flags().storage.empty()) {
    spec.argv.push_back("--storage");
    spec.argv.push_back(ctx.flags().storage);
  }
  spec.argv.push_back("__execute");
  spec.argv.insert(spec.argv.end(), extra_args.begin(), extra_args.end());
  spec.cwd = project.root;
  spec.env = ProcessEnv(ctx);
  spec.stdout_path = log;
  spec.stderr_path = log + ".err";
  return runs::SpawnProcess(spec);
}

void RecoverOrphanedRuns(CommandContext& ctx, const definitions::Project& project,
                         storage::Storage& storage) {
  auto orphans = runs::OrphanedRuns(storage);
  if (!orphans.ok() || orphans->empty()) return;
  if (ServingService(ctx, storage)) return;  // `arbiter serve` re-attaches them
  auto started = StartBackgroundExecutor(ctx, project, {"--recover"});
  if (started.ok()) {
    ctx.err() << "note: " << orphans->size()
              << " run(s) lost their arbiter; a background arbiter (pid " << started->pid
              << ") follows them to the end\n";
  } else {
    ctx.err() << "warning: " << orphans->size()
              << " run(s) lost their arbiter and cannot be followed: " << started.status().message()
              << "\n";
  }
}

struct InterruptToCancel::Impl {
  runs::CancelSignal* cancel;
  std::function<void(bool)> on_signal;
  sigset_t old_mask;
  int signal_fd = -1;
  int stop_fd = -1;  // eventfd: the destructor wakes the waiter through it
  std::atomic<int> received{0};
  std::thread waiter;

  ~Impl() {
    if (signal_fd >= 0) close(signal_fd);
    if (stop_fd >= 0) close(stop_fd);
  }
  void Wait() {
    pollfd fds[2] = {{signal_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    while (true) {
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;
      signalfd_siginfo info{};
      if (read(signal_fd, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) continue;
      const int sig = static_cast<int>(info.ssi_signo);
      int first = 0;
      bool again = !received.compare_exchange_strong(first, sig);
      if (again) cancel->Force();
      cancel->Request(sig == SIGINT ? "interrupted (Ctrl-C)" : "arbiter received SIGTERM");
      if (on_signal) on_signal(again);
    }
  }
};

InterruptToCancel::InterruptToCancel(bool enabled, runs::CancelSignal* cancel,
                                     std::function<void(bool forced)> on_signal) {
  if (!enabled) return;
  auto impl = std::make_unique<Impl>();
  impl->cancel = cancel;
  impl->on_signal = std::move(on_signal);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  impl->signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
  impl->stop_fd = eventfd(0, EFD_CLOEXEC);
  // Without them the signals keep their default action (they end arbiter).
  if (impl->signal_fd < 0 || impl->stop_fd < 0) return;
  // Blocked here before any worker thread starts, so every thread inherits
  // the mask and the signals wait in the signalfd. The waiter sleeps until a
  // signal or the destructor: a command ends as soon as its work does
  // (polling for the end every 100 ms cost materialize 50 ms on average).
  pthread_sigmask(SIG_BLOCK, &set, &impl->old_mask);
  impl_ = std::move(impl);
  impl_->waiter = std::thread([impl = impl_.get()] { impl->Wait(); });
}

int InterruptToCancel::received() const { return impl_ ? impl_->received.load() : 0; }

InterruptToCancel::~InterruptToCancel() {
  if (!impl_) return;
  const uint64_t one = 1;
  while (write(impl_->stop_fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
  impl_->waiter.join();
  pthread_sigmask(SIG_SETMASK, &impl_->old_mask, nullptr);
}

std::string FormatRunDuration(const storage::RunRecord& run, TimePoint now) {
  if (!run.started_at) return "-";
  TimePoint end = run.ended_at.value_or(now);
  return FormatDuration(std::max(std::chrono::seconds(0), end - *run.started_at));
}

std::string FormatTimestamp(TimePoint t) { return date::format("%F %TZ", t); }

std::string Truncate(std::string_view s, size_t max) {
  std::string one_line(s.substr(0, s.find('\n')));
  if (one_line.size() <= max && one_line.size() == s.size()) return one_line;
  return one_line.substr(0, max > 3 ? max - 3 : max) + "...";
}

nlohmann::json RunJson(const storage::RunRecord& r) {
  nlohmann::json j = {
      {"run_id", r.run_id},
      {"asset", r.asset_key},
      {"partition", r.partition_key ? nlohmann::json(*r.partition_key) : nullptr},
      {"runtime", r.runtime},
      {"status", std::string(storage::RunStatusName(r.status))},
      {"created_at", FormatTimestamp(r.created_at)},
      {"started_at", r.started_at ? nlohmann::json(FormatTimestamp(*r.started_at)) : nullptr},
      {"ended_at", r.ended_at ? nlohmann::json(FormatTimestamp(*r.ended_at)) : nullptr},
      {"failure_reason", r.failure_reason},
      {"failure_kind", r.failure_kind},
      {"stderr_tail", r.stderr_tail},
      {"attempt", r.attempt},
      {"priority", r.priority},
      {"tags", r.tags}};
  if (r.not_before) j["not_before"] = FormatTimestamp(*r.not_before);
  return j;
}

std::string MetadataSummary(const nlohmann::json& metadata, std::string_view sep) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : metadata.items()) {
    const auto& raw = v.is_object() && v.contains("raw_value") ? v["raw_value"] : v;
    parts.push_back(k + "=" + (raw.is_string() ? raw.get<std::string>() : raw.dump()));
  }
  return Join(parts, sep);
}

}  // namespace arbiter::cli
