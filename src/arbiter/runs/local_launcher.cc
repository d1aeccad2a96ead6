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
#include "arbiter/runs/pipes_context.h"

namespace arbiter::runs {

namespace fs = std::filesystem;
using storage::RunStatus;

namespace {

TimePoint NowSeconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

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

LocalLauncher::LocalLauncher(storage::Storage* storage, LocalLauncherOptions options)
    : storage_(storage), options_(std::move(options)), self_(CurrentProcess()) {}

std::string LocalLauncher::RunDir(const std::string& run_id) const {
  return (fs::path(options_.runs_dir) / run_id).string();
}

Result<std::vector<std::string>> LocalLauncher::BuildEnv(const RunRequest& request,
                                                         const std::string& dir,
                                                         RunRecorder& recorder) {
  std::vector<std::string> env;
  for (const std::string& kv : options_.base_env) {
    if (kv.rfind("DAGSTER_PIPES_", 0) != 0) env.push_back(kv);  // never a stale bootstrap
  }
  for (const auto& [name, value] : request.asset->job.env) {
    Result<std::string> v =
        value.ResolveForJob(*request.env, definitions::JobEnvTarget::kLocalProcess);
    if (!v.ok()) return v.status().WithContext("environment variable " + name + " of the job");
    SetEnv(env, name, *v);
  }
  if (!options_.python_client_dir.empty()) {
    std::string pp = EnvValue(env, "PYTHONPATH");
    SetEnv(env, "PYTHONPATH", options_.python_client_dir + (pp.empty() ? "" : ":" + pp));
  }
  SetEnv(env, "ARBITER_RUN_ID", request.run.run_id);
  // Unique to this project's run (run ids alone repeat across projects and
  // tests): how the job's processes that leave its group are found.
  SetEnv(env, "ARBITER_RUN_DIR", dir);
  SetEnv(env, "ARBITER_ASSET", request.run.asset_key);
  if (request.run.partition_key) SetEnv(env, "ARBITER_PARTITION", *request.run.partition_key);

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
  for (const auto& [name, value] : pipes::BootstrapEnvVars(bootstrap)) SetEnv(env, name, value);
  return env;
}

Result<RunResult> LocalLauncher::FailBeforeStart(const storage::RunRecord& run, RunStatus from,
                                                 RunRecorder& recorder, std::string reason) {
  recorder.AddStatus("error", reason);
  ARBITER_RETURN_IF_ERROR(recorder.Flush(nlohmann::json::object()));
  storage::RunUpdate u;
  u.ended_at = NowSeconds();
  u.failure_reason = reason;
  ARBITER_RETURN_IF_ERROR(
      storage_->TransitionRun(run.run_id, {from}, RunStatus::kFailure, u).status());
  return RunResult{RunStatus::kFailure, std::move(reason)};
}

Result<RunResult> LocalLauncher::Execute(const RunRequest& request, const CancelSignal& cancel) {
  const storage::RunRecord& run = request.run;
  RunRecorder recorder(storage_, run, options_.recorder);
  storage::RunUpdate starting;
  starting.owner = self_.ToString();
  // STARTING: the executor already took a slot of the runtime for it.
  ARBITER_ASSIGN_OR_RETURN(
      bool moved, storage_->TransitionRun(run.run_id, {RunStatus::kQueued, RunStatus::kStarting},
                                          RunStatus::kStarting, starting));
  if (!moved) {  // canceled before it started, or taken by another arbiter
    ARBITER_ASSIGN_OR_RETURN(storage::RunRecord now, storage_->GetRun(run.run_id));
    return RunResult{now.status, "run was " + std::string(storage::RunStatusName(now.status)) +
                                     " before it started"};
  }
  std::string dir = RunDir(run.run_id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return FailBeforeStart(run, RunStatus::kStarting, recorder,
                           "cannot create run directory " + dir + ": " + ec.message());
  }
  std::string path_env = EnvValue(options_.base_env, "PATH");
  Result<LocalCommand> cmd = BuildLocalCommand(request, path_env);
  if (!cmd.ok())
    return FailBeforeStart(run, RunStatus::kStarting, recorder, cmd.status().message());
  Result<std::vector<std::string>> env = BuildEnv(request, dir, recorder);
  if (!env.ok())
    return FailBeforeStart(run, RunStatus::kStarting, recorder, env.status().message());
  std::ofstream(fs::path(dir) / "messages.jsonl").close();

  SpawnSpec spec;
  spec.argv = cmd->argv;
  spec.cwd = request.project->root;
  spec.env = std::move(*env);
  spec.stdout_path = (fs::path(dir) / "stdout.log").string();
  spec.stderr_path = (fs::path(dir) / "stderr.log").string();
  Result<ProcessId> process = SpawnProcess(spec);
  if (!process.ok()) {
    return FailBeforeStart(run, RunStatus::kStarting, recorder,
                           "cannot start the job: " + process.status().message());
  }
  storage::RunUpdate running;
  running.started_at = NowSeconds();
  running.pid = process->pid;
  running.process_start_ticks = process->start_ticks;
  ARBITER_ASSIGN_OR_RETURN(moved, storage_->TransitionRun(run.run_id, {RunStatus::kStarting},
                                                          RunStatus::kRunning, running));
  if (!moved) {
    // `arbiter cancel` got in between spawn and now: the loop below sees CANCELING.
    ARBITER_RETURN_IF_ERROR(
        storage_->TransitionRun(run.run_id, {RunStatus::kCanceling}, RunStatus::kCanceling, running)
            .status());
  }
  for (const std::string& note : cmd->notes) recorder.AddStatus("info", note);
  recorder.AddStatus("info", "started: " + JoinCommand(cmd->argv),
                     {{"argv", cmd->argv}, {"cwd", spec.cwd}, {"pid", process->pid}});
  RunRequest started = request;
  started.run.started_at = running.started_at;
  return FollowToEnd(started, *process, /*is_child=*/true, recorder, cancel);
}

Result<RunResult> LocalLauncher::Reattach(const RunRequest& request, const CancelSignal& cancel) {
  const storage::RunRecord& run = request.run;
  RunRecorder recorder(storage_, run, options_.recorder);
  std::string previous_owner = run.owner;
  storage::RunUpdate claim;
  claim.owner = self_.ToString();
  claim.if_owner = previous_owner;
  ARBITER_ASSIGN_OR_RETURN(bool claimed,
                           storage_->TransitionRun(run.run_id, {run.status}, run.status, claim));
  if (!claimed)
    return FailedPreconditionError("run " + run.run_id + " is being followed by another arbiter");
  ProcessId process{run.pid.value_or(0), run.process_start_ticks.value_or(0)};
  if (run.status == RunStatus::kQueued) {
    // Never started: nothing ran, so the partition goes back to what it was.
    storage::RunUpdate u;
    u.ended_at = NowSeconds();
    u.failure_reason = "orchestrator stopped before the run started";
    ARBITER_RETURN_IF_ERROR(
        storage_->TransitionRun(run.run_id, {RunStatus::kQueued}, RunStatus::kCanceled, u)
            .status());
    return RunResult{RunStatus::kCanceled, *u.failure_reason};
  }
  if (!run.pid || !IsProcessAlive(process)) {
    recorder.AddStatus("warning", std::string(kOrchestratorStoppedReason) +
                                      "; the job's process is gone, so its outcome is unknown");
  } else {
    recorder.AddStatus("info", "re-attached to process " + std::to_string(process.pid) +
                                   " after the previous arbiter (" + previous_owner + ") stopped");
  }
  if (!run.pid) {
    return FailBeforeStart(run, run.status, recorder, kOrchestratorStoppedReason);
  }
  return FollowToEnd(request, process, /*is_child=*/false, recorder, cancel);
}

Result<RunResult> LocalLauncher::FollowToEnd(const RunRequest& request, ProcessId process,
                                             bool is_child, RunRecorder& recorder,
                                             const CancelSignal& cancel) {
  using Clock = std::chrono::steady_clock;
  const storage::RunRecord& run = request.run;
  const std::string dir = RunDir(run.run_id);
  const nlohmann::json& cur = run.reader_cursor;
  auto at = [&](const char* key) { return cur.contains(key) ? cur[key].get<int64_t>() : 0; };
  FileTail out((fs::path(dir) / "stdout.log").string(), at("stdout"),
               options_.recorder.max_output_line_bytes);
  FileTail err((fs::path(dir) / "stderr.log").string(), at("stderr"),
               options_.recorder.max_output_line_bytes);
  FileTail msgs((fs::path(dir) / "messages.jsonl").string(), at("messages"),
                options_.max_message_line_bytes);
  const int64_t msg_line_base = at("message_lines");
  pipes::ProcessorOptions popts;
  popts.max_line_bytes = options_.max_message_line_bytes;
  pipes::MessageProcessor processor(&recorder, popts);
  processor.RestoreSession(cur.value("opened", false), cur.value("closed", false));

  auto cursor = [&] {
    return nlohmann::json{{"stdout", out.offset()},
                          {"stderr", err.offset()},
                          {"messages", msgs.offset()},
                          {"message_lines", msg_line_base + msgs.lines()},
                          {"opened", processor.received_opened()},
                          {"closed", processor.received_closed()}};
  };
  // Reads at most one batch per file per call, so memory stays bounded by the
  // batch size however fast the job writes; `more` says a file has more now.
  const auto budget = static_cast<int64_t>(options_.recorder.batch_events);
  auto read_all = [&](bool at_end, bool* more) -> Status {
    ARBITER_RETURN_IF_ERROR(out.Poll(
        [&](std::string_view line, size_t total) {
          recorder.AddOutputLine(pipes::StdStream::kStdout, line, total);
        },
        at_end, budget));
    ARBITER_RETURN_IF_ERROR(err.Poll(
        [&](std::string_view line, size_t total) {
          recorder.AddOutputLine(pipes::StdStream::kStderr, line, total);
        },
        at_end, budget));
    ARBITER_RETURN_IF_ERROR(msgs.Poll(
        [&](std::string_view line, size_t total) {
          int64_t n = msg_line_base + msgs.lines() + 1;
          if (total > line.size()) {
            processor.ReportTooLong("messages", n, line, total);
          } else {
            processor.ProcessLine("messages", n, line, pipes::LineMode::kStrict);
          }
        },
        at_end, budget));
    *more = out.more_available() || err.more_available() || msgs.more_available();
    return Status::Ok();
  };

  std::optional<Clock::time_point> deadline;
  const auto& max_duration = request.asset->compute.max_duration;
  if (max_duration) {
    auto started = run.started_at.value_or(NowSeconds());
    auto elapsed = NowSeconds() - started;
    deadline = Clock::now() + (*max_duration - elapsed);
  }
  enum class Stop { kNone, kCancel, kTimeout } stop = Stop::kNone;
  std::string stop_reason;
  std::optional<Clock::time_point> term_sent, kill_sent;
  Clock::time_point last_flush = Clock::now(), last_cancel_check = Clock::now();
  ProcessWaiter waiter(process, is_child);
  auto stop_job = [&](Stop why, std::string reason) {
    stop = why;
    stop_reason = std::move(reason);
    term_sent = Clock::now();
    recorder.AddStatus("warning", stop_reason + "; sending SIGTERM to the job's process group");
    Status s = SignalProcessGroup(process.pid, SIGTERM);
    if (!s.ok()) recorder.AddStatus("error", s.message());
  };
  bool more = false;
  while (true) {
    bool ended = waiter.WaitFor(more ? std::chrono::milliseconds(0) : options_.poll_interval);
    ARBITER_RETURN_IF_ERROR(read_all(ended, &more));
    Clock::time_point now = Clock::now();
    if (ended) {
      // Drain what is left, one batch at a time.
      while (more) {
        ARBITER_RETURN_IF_ERROR(recorder.Flush(cursor()));
        ARBITER_RETURN_IF_ERROR(read_all(true, &more));
      }
      break;
    }
    if (recorder.ShouldFlush() ||
        (recorder.HasPending() && now - last_flush >= options_.flush_interval)) {
      ARBITER_RETURN_IF_ERROR(recorder.Flush(cursor()));
      last_flush = now;
    }
    if (stop == Stop::kNone) {
      if (cancel.requested()) {
        ARBITER_RETURN_IF_ERROR(
            storage_->TransitionRun(run.run_id, {RunStatus::kRunning}, RunStatus::kCanceling, {})
                .status());
        stop_job(Stop::kCancel, "canceled: " + cancel.reason());
      } else if (deadline && now >= *deadline) {
        stop_job(Stop::kTimeout,
                 "timed out after " + FormatDuration(*max_duration) + " (compute.max_duration)");
      } else if (now - last_cancel_check >= options_.cancel_check_interval) {
        last_cancel_check = now;
        ARBITER_ASSIGN_OR_RETURN(storage::RunRecord latest, storage_->GetRun(run.run_id));
        if (latest.status == RunStatus::kCanceling) {
          stop_job(Stop::kCancel, "canceled by `arbiter cancel`");
        }
      }
    } else if (!kill_sent && (now - *term_sent >= options_.cancel_grace || cancel.forced())) {
      kill_sent = now;
      recorder.AddStatus("warning",
                         cancel.forced()
                             ? std::string("asked again to stop (Ctrl-C twice): sending SIGKILL "
                                           "without waiting for the grace period")
                             : "the job did not stop within " +
                                   FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(
                                       options_.cancel_grace)) +
                                   " of SIGTERM; sending SIGKILL");
      Status s = SignalProcessGroup(process.pid, SIGKILL);
      if (!s.ok()) recorder.AddStatus("error", s.message());
    }
  }
  // Whatever the job left behind in its group goes with it.
  int64_t leftovers = CountProcessGroup(process.pid);
  if (leftovers > 0) {
    recorder.AddStatus("warning", "the job's main process ended but left " +
                                      std::to_string(leftovers) +
                                      " process(es) in its group; killing them");
    Status s = SignalProcessGroup(process.pid, SIGKILL);
    if (!s.ok()) recorder.AddStatus("error", s.message());
  }
  // Children that left the group (setsid) are found by the run dir they inherited.
  std::vector<int64_t> escaped =
      ProcessesWithEnvironmentEntry("ARBITER_RUN_DIR=" + RunDir(run.run_id), process.pid);
  if (!escaped.empty()) {
    std::string pids;
    for (int64_t pid : escaped) {
      pids += (pids.empty() ? "" : ", ") + std::to_string(pid);
      kill(static_cast<pid_t>(pid), SIGKILL);
    }
    recorder.AddStatus("warning", std::to_string(escaped.size()) +
                                      " process(es) of the job left its process group (setsid?) "
                                      "and outlived it: pid " + pids + "; killing them");
  }
  processor.Finish();
  if (stop == Stop::kNone) {
    // `arbiter cancel` also signals the job itself, which may end before we looked.
    ARBITER_ASSIGN_OR_RETURN(storage::RunRecord latest, storage_->GetRun(run.run_id));
    if (latest.status == RunStatus::kCanceling) {
      stop = Stop::kCancel;
      stop_reason = "canceled by `arbiter cancel`";
    }
  }

  const ExitStatus& exit = waiter.status();
  RunResult result;
  if (stop == Stop::kCancel) {
    result = {RunStatus::kCanceled, stop_reason};
  } else if (stop == Stop::kTimeout) {
    result = {RunStatus::kFailure, stop_reason};
  } else if (exit.exit_code == 0 && !recorder.closed_exception()) {
    result = {RunStatus::kSuccess, ""};
  } else if (!exit.exit_code && !exit.signal) {
    // Re-attached: no exit status; the job's own `closed` is the best evidence.
    if (recorder.closed() && !recorder.closed_exception()) {
      result = {RunStatus::kSuccess, ""};
    } else {
      result = {RunStatus::kFailure,
                recorder.closed_exception()
                    ? "the job reported an exception: " + *recorder.closed_exception()
                    : std::string(kOrchestratorStoppedReason) +
                          "; the job ended without reporting `closed` and its exit status is "
                          "unknown"};
    }
  } else {
    result.status = RunStatus::kFailure;
    result.reason = "job failed: " + exit.ToString();
    if (recorder.closed_exception()) result.reason += "; " + *recorder.closed_exception();
  }
  recorder.AddStatus(result.status == RunStatus::kSuccess ? "info" : "error",
                     "ended: " + std::string(storage::RunStatusName(result.status)) +
                         (exit.exit_code || exit.signal ? " (" + exit.ToString() + ")" : "") +
                         (result.reason.empty() ? "" : ": " + result.reason));
  ARBITER_RETURN_IF_ERROR(recorder.Flush(cursor()));

  ARBITER_ASSIGN_OR_RETURN(result, recorder.End(std::move(result)));
  if (!options_.keep_files) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return result;
}

}  // namespace arbiter::runs
