#include "arbiter/runs/local_launcher.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <utility>

#include "arbiter/common/duration.h"
#include "arbiter/common/strings.h"
#include "arbiter/pipes/channels.h"
#include "arbiter/pipes/params.h"
#include "arbiter/runs/file_tail.h"
#include "arbiter/runs/job_environment.h"
#include "arbiter/runs/pipes_context.h"
#include "arbiter/runs/run_claim.h"

namespace arbiter::runs {

namespace fs = std::filesystem;
using storage::RunStatus;

namespace {

std::string EnvValue(const std::vector<std::string>& env, std::string_view name) {
  std::string prefix = std::string(name) + "=";
  for (const std::string& kv : env) {
    if (kv.rfind(prefix, 0) == 0) return kv.substr(prefix.size());
  }
  return "";
}

void SetEnv(std::vector<std::string>& env, const std::string& name, const std::string& value) {
  std::string prefix = name + "=";
  for (std::string& kv : env) {
    if (kv.rfind(prefix, 0) == 0) {
      kv = prefix + value;
      return;
    }
  }
  env.push_back(prefix + value);
}

std::string JoinCommand(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\"'\\$`") == std::string::npos;
    out += plain ? a : "'" + a + "'";
  }
  return out;
}

}  // namespace

Result<LocalCommand> BuildLocalCommand(const RunRequest& request, const std::string& path_env) {
  const definitions::JobSpec& job = request.asset->job;
  const definitions::LocalRuntimeConfig& local = request.runtime->local;
  LocalCommand cmd;
  std::string python = local.python.value_or("python3");
  switch (job.kind) {
    case definitions::JobKind::kCommand:
      cmd.argv = job.command;
      break;
    case definitions::JobKind::kPython:
      cmd.argv = {python, job.script};
      break;
    case definitions::JobKind::kPySpark: {
      std::optional<std::string> spark =
          FindOnPath(local.spark_submit.value_or("spark-submit"), path_env);
      if (spark) {
        cmd.argv = {*spark, "--master", "local[*]"};
        auto it = request.asset->overrides.find(request.runtime->name);
        if (it != request.asset->overrides.end()) {
          for (const auto& [k, v] : it->second.spark_conf) {
            cmd.argv.push_back("--conf");
            cmd.argv.push_back(k + "=" + v);
          }
        }
        cmd.argv.push_back(job.script);
        cmd.notes.push_back("engine: spark-submit (" + *spark + ", --master local[*])");
      } else {
        cmd.argv = {python, job.script};
        cmd.notes.push_back("engine: " + python +
                            " (spark-submit not found on PATH; the job runs without a Spark "
                            "launcher)");
      }
      break;
    }
  }
  if (cmd.argv.empty())
    return InvalidArgumentError("asset " + request.run.asset_key + " has no command");
  if (job.kind != definitions::JobKind::kCommand &&
      !fs::exists(fs::path(request.project->root) / job.script)) {
    return NotFoundError("job script " + job.script + " of asset " + request.run.asset_key +
                         " does not exist (looked in " + request.project->root + ")");
  }
  if (!FindOnPath(cmd.argv[0], path_env)) {
    return NotFoundError("cannot run asset " + request.run.asset_key + ": '" + cmd.argv[0] +
                         "' is not on PATH");
  }
  cmd.argv.insert(cmd.argv.end(), job.args.begin(), job.args.end());
  return cmd;
}

namespace {

// Written by arbiter-job-monitor in the run's directory when the job ends.
constexpr const char* kExitStatusFile = "exit_status";

// One local job: a process group, its stdout/stderr files and its pipes
// messages file, read from the stored cursor on.
class LocalJob final : public PlatformJob {
 public:
  LocalJob(const LocalLauncherOptions& options, std::string dir, const storage::RunRecord& run,
           ProcessId process, bool is_child, RunRecorder& recorder)
      : options_(options),
        dir_(std::move(dir)),
        process_(process),
        recorder_(recorder),
        out_(Path("stdout.log"), At(run, "stdout"), options.recorder.max_output_line_bytes),
        err_(Path("stderr.log"), At(run, "stderr"), options.recorder.max_output_line_bytes),
        msgs_(Path("messages.jsonl"), At(run, "messages"), options.max_message_line_bytes),
        msg_line_base_(At(run, "message_lines")),
        processor_(&recorder, ProcessorOptionsFor(options)),
        waiter_(process, is_child) {
    const nlohmann::json& cur = run.reader_cursor;
    processor_.RestoreSession(cur.is_object() && cur.value("opened", false),
                              cur.is_object() && cur.value("closed", false));
  }

  Result<JobState> Poll() override {
    JobState s;
    if (!waiter_.WaitFor(std::chrono::milliseconds(0), *options_.clock)) {
      s.phase = JobState::Phase::kRunning;
      return s;
    }
    const ExitStatus exit = Outcome();
    if (exit.exit_code == 0) {
      s.phase = JobState::Phase::kSucceeded;
    } else if (exit.exit_code || exit.signal) {
      s.phase = JobState::Phase::kFailed;
      s.reason = "job failed: " + exit.ToString();
    } else {
      // Re-attached: no exit status. Finish decides from the job's own `closed`.
      s.phase = JobState::Phase::kFailed;
      s.system_failure = true;
      s.reason = std::string(kOrchestratorStoppedReason) +
                 "; the job ended without reporting `closed` and its exit status is unknown";
    }
    return s;
  }

  bool Wait(std::chrono::milliseconds d, const Clock& clock) override {
    return waiter_.WaitFor(std::min(d, options_.poll_interval), clock);
  }

  // At most one batch per file per call, so memory stays bounded by the batch
  // size however fast the job writes.
  Status ReadOutput(bool at_end, bool* more) override {
    const auto budget = static_cast<int64_t>(options_.recorder.batch_events);
    ARBITER_RETURN_IF_ERROR(out_.Poll(
        [&](std::string_view line, size_t total) {
          recorder_.AddOutputLine(pipes::StdStream::kStdout, line, total);
        },
        at_end, budget));
    ARBITER_RETURN_IF_ERROR(err_.Poll(
        [&](std::string_view line, size_t total) {
          recorder_.AddOutputLine(pipes::StdStream::kStderr, line, total);
        },
        at_end, budget));
    ARBITER_RETURN_IF_ERROR(msgs_.Poll(
        [&](std::string_view line, size_t total) {
          int64_t n = msg_line_base_ + msgs_.lines() + 1;
          if (total > line.size()) {
            processor_.ReportTooLong("messages", n, line, total);
          } else {
            processor_.ProcessLine("messages", n, line, pipes::LineMode::kStrict);
          }
        },
        at_end, budget));
    *more = out_.more_available() || err_.more_available() || msgs_.more_available();
    if (at_end && !*more) processor_.Finish();
    return Status::Ok();
  }

  Status RequestStop(bool force) override {
    stop_requested_ = true;
    recorder_.AddStatus("warning", force ? "sending SIGKILL to the job's process group"
                                         : "sending SIGTERM to the job's process group");
    return SignalProcessGroup(process_.pid, force ? SIGKILL : SIGTERM);
  }

  void Finish(RunResult& result) override {
    // Whatever the job left behind in its group goes with it.
    int64_t leftovers = CountProcessGroup(process_.pid);
    if (leftovers > 0) {
      recorder_.AddStatus("warning", "the job's main process ended but left " +
                                         std::to_string(leftovers) +
                                         " process(es) in its group; killing them");
      Status s = SignalProcessGroup(process_.pid, SIGKILL);
      if (!s.ok()) recorder_.AddStatus("error", s.message());
    }
    // Children that left the group (setsid) are found by the run dir they inherited.
    std::vector<int64_t> escaped =
        ProcessesWithEnvironmentEntry("ARBITER_RUN_DIR=" + dir_, process_.pid,
                                      process_.start_ticks);
    if (!escaped.empty()) {
      std::string pids;
      for (int64_t pid : escaped) {
        pids += (pids.empty() ? "" : ", ") + std::to_string(pid);
        kill(static_cast<pid_t>(pid), SIGKILL);
      }
      recorder_.AddStatus("warning", std::to_string(escaped.size()) +
                                         " process(es) of the job left its process group "
                                         "(setsid?) and outlived it: pid " + pids +
                                         "; killing them");
    }
    const ExitStatus exit = Outcome();
    if (!exit.exit_code && !exit.signal && !stop_requested_ &&
        result.status != storage::RunStatus::kCanceled && recorder_.closed() &&
        !recorder_.closed_exception()) {
      // Re-attached: no exit status, but the job said it closed cleanly.
      result = {storage::RunStatus::kSuccess, ""};
    }
    if (exit.exit_code || exit.signal) {
      recorder_.AddStatus("info", "the job's process ended: " + exit.ToString());
    }
    if (!options_.keep_files) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  // How the job ended: from waiting for our child, or for a job we re-attached
  // to, from the status file its monitor wrote (unknown without one).
  ExitStatus Outcome() const {
    ExitStatus exit = waiter_.status();
    if (exit.exit_code || exit.signal) return exit;
    std::ifstream in(fs::path(dir_) / kExitStatusFile);
    std::string how;
    int value = 0;
    if (in >> how >> value) {
      if (how == "exit") exit.exit_code = value;
      if (how == "signal") exit.signal = value;
    }
    return exit;
  }

  nlohmann::json Cursor() const override {
    return nlohmann::json{{"stdout", out_.offset()},
                          {"stderr", err_.offset()},
                          {"messages", msgs_.offset()},
                          {"message_lines", msg_line_base_ + msgs_.lines()},
                          {"opened", processor_.received_opened()},
                          {"closed", processor_.received_closed()}};
  }

 private:
  static int64_t At(const storage::RunRecord& run, const char* key) {
    const nlohmann::json& cur = run.reader_cursor;
    return cur.is_object() && cur.contains(key) && cur[key].is_number_integer()
               ? cur[key].get<int64_t>()
               : 0;
  }
  static pipes::ProcessorOptions ProcessorOptionsFor(const LocalLauncherOptions& options) {
    pipes::ProcessorOptions p;
    p.max_line_bytes = options.max_message_line_bytes;
    return p;
  }
  std::string Path(const char* name) const { return (fs::path(dir_) / name).string(); }

  const LocalLauncherOptions& options_;
  std::string dir_;
  ProcessId process_;
  RunRecorder& recorder_;
  FileTail out_, err_, msgs_;
  int64_t msg_line_base_;
  pipes::MessageProcessor processor_;
  ProcessWaiter waiter_;
  bool stop_requested_ = false;
};

}  // namespace

LocalLauncher::LocalLauncher(storage::Storage* storage, LocalLauncherOptions options)
    : storage_(storage), options_(std::move(options)), lifecycle_(storage, this) {}

std::string LocalLauncher::RunDir(const std::string& run_id) const {
  return (fs::path(options_.runs_dir) / run_id).string();
}

FollowOptions LocalLauncher::follow_options() const {
  FollowOptions f;
  f.poll_initial = options_.poll_interval;
  f.poll_max = options_.poll_interval;
  f.poll_growth = 1;
  f.cancel_check = options_.cancel_check_interval;
  f.flush_interval = options_.flush_interval;
  f.stop_grace = options_.cancel_grace;
  f.stop_timeout = std::chrono::milliseconds(0);  // SIGKILL always ends it
  f.clock = options_.clock;
  return f;
}

RecorderOptions LocalLauncher::recorder_options() const {
  RecorderOptions r = options_.recorder;
  r.clock = options_.clock;
  return r;
}

Result<std::vector<std::string>> LocalLauncher::BuildEnv(const RunRequest& request,
                                                         const std::string& dir,
                                                         RunRecorder& recorder) {
  ARBITER_ASSIGN_OR_RETURN(pipes::OrderedJson context, BuildPipesContext(request, "local"));
  pipes::EnvContextInjector env_injector;
  Result<pipes::OrderedJson> context_params = env_injector.Inject(context);
  if (!context_params.ok()) {
    // Too large for one environment string: hand it over in a file.
    pipes::FileContextInjector file_injector((fs::path(dir) / "context.json").string());
    context_params = file_injector.Inject(context);
    ARBITER_RETURN_IF_ERROR(context_params.status());
    recorder.AddStatus("debug", "pipes context passed in a file (too large for the environment)");
  }
  pipes::BootstrapParams bootstrap;
  bootstrap.context = *context_params;
  bootstrap.messages = {{"path", (fs::path(dir) / "messages.jsonl").string()}};
  ARBITER_ASSIGN_OR_RETURN(
      auto job_env,
      JobEnvironment(request, definitions::JobEnvTarget::kLocalProcess, &bootstrap));

  std::vector<std::string> env;
  for (const std::string& kv : options_.base_env) {
    if (kv.rfind("DAGSTER_PIPES_", 0) != 0) env.push_back(kv);  // never a stale bootstrap
  }
  for (const auto& [name, value] : job_env) SetEnv(env, name, value);
  if (!options_.python_client_dir.empty()) {
    std::string pp = EnvValue(env, "PYTHONPATH");
    SetEnv(env, "PYTHONPATH", options_.python_client_dir + (pp.empty() ? "" : ":" + pp));
  }
  // Unique to this project's run (run ids alone repeat across projects and
  // tests): how the job's processes that leave its group are found.
  SetEnv(env, "ARBITER_RUN_DIR", dir);
  return env;
}

Result<std::unique_ptr<PlatformJob>> LocalLauncher::Submit(const RunRequest& request,
                                                           RunRecorder& recorder) {
  const storage::RunRecord& run = request.run;
  std::string dir = RunDir(run.run_id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return UnavailableError("cannot create run directory " + dir + ": " + ec.message());
  std::string path_env = EnvValue(options_.base_env, "PATH");
  ARBITER_ASSIGN_OR_RETURN(LocalCommand cmd, BuildLocalCommand(request, path_env));
  ARBITER_ASSIGN_OR_RETURN(std::vector<std::string> env, BuildEnv(request, dir, recorder));
  std::ofstream(fs::path(dir) / "messages.jsonl").close();

  SpawnSpec spec;
  spec.argv = cmd.argv;
  if (!options_.job_monitor.empty()) {
    spec.argv.insert(spec.argv.begin(),
                     {options_.job_monitor, (fs::path(dir) / kExitStatusFile).string()});
  }
  spec.cwd = request.project->root;
  spec.env = std::move(env);
  spec.stdout_path = (fs::path(dir) / "stdout.log").string();
  spec.stderr_path = (fs::path(dir) / "stderr.log").string();
  Result<ProcessId> process = SpawnProcess(spec);
  if (!process.ok()) return UnavailableError("cannot start the job: " + process.status().message());
  for (const std::string& note : cmd.notes) recorder.AddStatus("info", note);
  recorder.AddStatus("info", "started: " + JoinCommand(cmd.argv),
                     {{"argv", cmd.argv}, {"cwd", spec.cwd}, {"pid", process->pid}});
  storage::RunUpdate running;
  running.started_at = options_.clock->Now();
  running.pid = process->pid;
  running.process_start_ticks = process->start_ticks;
  auto job = std::make_unique<LocalJob>(options_, dir, run, *process, /*is_child=*/true, recorder);
  // The pid is the id; the cursor is still all zeros, so no transaction of its own.
  ARBITER_RETURN_IF_ERROR(
      StoreExternalIds(*storage_, run, running, /*running=*/true, nullptr, recorder));
  return std::unique_ptr<PlatformJob>(std::move(job));
}

Result<std::unique_ptr<PlatformJob>> LocalLauncher::Resume(const RunRequest& request,
                                                           RunRecorder& recorder) {
  const storage::RunRecord& run = request.run;
  ProcessId process{run.pid.value_or(0), run.process_start_ticks.value_or(0)};
  if (!run.pid || !IsProcessAlive(process)) {
    recorder.AddStatus("warning", std::string(kOrchestratorStoppedReason) +
                                      "; the job's process is gone, so its outcome is unknown");
  } else {
    recorder.AddStatus("info", "re-attached to process " + std::to_string(process.pid) +
                                   " after the previous arbiter (" + run.owner + ") stopped");
  }
  if (!run.pid) return FailedPreconditionError(kOrchestratorStoppedReason);
  return std::unique_ptr<PlatformJob>(std::make_unique<LocalJob>(
      options_, RunDir(run.run_id), run, process, /*is_child=*/false, recorder));
}

}  // namespace arbiter::runs
