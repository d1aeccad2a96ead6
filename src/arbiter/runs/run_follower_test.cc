// The one run lifecycle in simulated time: a scripted platform job and a
// FakeClock, so backoff, timeouts, cancel and stop confirmation over hours of
// platform time run in microseconds and every wait is observable.
#include "arbiter/runs/run_follower.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "arbiter/runs/run_claim.h"
#include "arbiter/storage/sqlite_storage.h"

namespace arbiter::runs {
namespace {

using storage::RunStatus;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Phase = JobState::Phase;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A job whose answers are a function of simulated time since it was submitted.
class ScriptedJob final : public PlatformJob {
 public:
  ScriptedJob(const FakeClock& clock, std::function<Result<JobState>(seconds)> script)
      : clock_(clock), start_(clock.Monotonic()), script_(std::move(script)) {}

  Result<JobState> Poll() override {
    auto at = std::chrono::duration_cast<seconds>(clock_.Monotonic() - start_);
    poll_times.push_back(at);
    if (stopped_at && at >= *stopped_at + confirm_after) {
      return JobState{Phase::kCanceled, "stopped", nullptr, "stopped on the platform"};
    }
    return script_(at);
  }
  Status ReadOutput(bool, bool* more) override {
    *more = false;
    return Status::Ok();
  }
  Status RequestStop(bool force) override {
    auto at = std::chrono::duration_cast<seconds>(clock_.Monotonic() - start_);
    (force ? forced_at : stopped_at) = at;
    return Status::Ok();
  }
  void Finish(RunResult& result) override {
    ResourceUsage u;
    u.runtime_type = "scripted";
    u.execution_s = 42;
    result.usage = u;
  }
  nlohmann::json Cursor() const override { return {{"job", "scripted"}}; }

  std::vector<seconds> poll_times;
  std::optional<seconds> stopped_at, forced_at;
  seconds confirm_after{5};  // the platform takes this long to confirm a stop

 private:
  const FakeClock& clock_;
  MonoTime start_;
  std::function<Result<JobState>(seconds)> script_;
};

class RunFollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage_ = std::move(storage::SqliteStorage::Open(":memory:")).value();
    asset_.key = *definitions::AssetKey::Parse("demo/a");
    runtime_.name = "scripted";
    run_.run_id = "0123456789abcdef";
    run_.asset_key = "demo/a";
    run_.runtime = "scripted";
    run_.created_at = clock_.Now();
    ASSERT_TRUE(storage_->CreateRun(run_).ok());
    auto begun = BeginRun(*storage_, run_);
    ASSERT_TRUE(begun.ok() && !begun->has_value());
    options_.poll_initial = milliseconds(1000);
    options_.poll_max = milliseconds(8000);
    options_.poll_growth = 2;
    options_.cancel_check = milliseconds(1000);
    options_.stop_timeout = milliseconds(60000);
    options_.max_poll_errors = 3;
    options_.clock = &clock_;
  }

  Result<RunResult> Follow(ScriptedJob& job, const CancelSignal& cancel = CancelSignal()) {
    RunRequest request;
    request.asset = &asset_;
    request.runtime = &runtime_;
    request.run = *storage_->GetRun(run_.run_id);
    RecorderOptions ro;
    ro.clock = &clock_;
    RunRecorder recorder(storage_.get(), request.run, ro);
    return FollowRun(*storage_, request, job, recorder, cancel, options_);
  }

  std::vector<std::string> Messages() {
    std::vector<std::string> out;
    auto events = storage_->ReadEvents(run_.run_id, 0, 1000);
    if (events.ok()) {
      for (const auto& e : *events) out.push_back(e.message);
    }
    return out;
  }

  FakeClock clock_{TimePoint(seconds(1780000000))};
  std::unique_ptr<storage::Storage> storage_;
  definitions::AssetDef asset_;
  definitions::RuntimeConfig runtime_;
  storage::RunRecord run_;
  FollowOptions options_;
};

TEST_F(RunFollowerTest, BacksOffWhileNothingChangesAndResetsOnAChange) {
  ScriptedJob job(clock_, [](seconds t) -> Result<JobState> {
    if (t < seconds(20)) return JobState{Phase::kPending, "pending", nullptr, ""};
    if (t < seconds(60)) return JobState{Phase::kRunning, "running", nullptr, ""};
    return JobState{Phase::kSucceeded, "done", nullptr, ""};
  });
  auto result = Follow(job);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, RunStatus::kSuccess);
  // 1, 2, 4, 8 (capped) while pending; back to 1 s when it starts running.
  std::vector<int64_t> at;
  for (seconds s : job.poll_times) at.push_back(s.count());
  ASSERT_GE(at.size(), 6u);
  EXPECT_EQ(std::vector<int64_t>(at.begin(), at.begin() + 6),
            (std::vector<int64_t>{0, 1, 3, 7, 15, 23}));
  EXPECT_LT(at.size(), 20u);  // an hour of 1 s polls would be 60
  auto stored = storage_->GetRun(run_.run_id);
  EXPECT_EQ(stored->status, RunStatus::kSuccess);
  ASSERT_TRUE(stored->started_at.has_value());
  EXPECT_EQ(*stored->started_at - run_.created_at, seconds(23));  // first poll that saw it run
  EXPECT_EQ(stored->reader_cursor.value("job", ""), "scripted");
  // Each state once, and the end with the usage the platform reported.
  std::vector<std::string> m = Messages();
  EXPECT_EQ(std::count(m.begin(), m.end(), "pending"), 1);
  EXPECT_EQ(std::count(m.begin(), m.end(), "running"), 1);
  EXPECT_THAT(m.back(), "ended: SUCCESS");
  auto cost = storage_->ReadEvents(run_.run_id, 0, 1000);
  EXPECT_EQ(cost->back().data["usage"]["execution_s"], 42);
}

TEST_F(RunFollowerTest, TransientPollErrorsAreRetriedThenTheRunFailsSayingWhy) {
  int calls = 0;
  ScriptedJob job(clock_, [&](seconds) -> Result<JobState> {
    if (++calls == 2) return UnavailableError("503 once");
    if (calls < 5) return JobState{Phase::kRunning, "running", nullptr, ""};
    return UnavailableError("throttled");
  });
  auto result = Follow(job);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, RunStatus::kFailure);
  EXPECT_EQ(result->reason, "lost track of the run after 4 failed status polls: throttled");
  EXPECT_EQ(calls, 8);  // 1 ok, 1 error, 2 ok, then 3 tolerated + the 4th
}

TEST_F(RunFollowerTest, APermanentPollErrorEndsTheRunAtOnceWithItsMessage) {
  ScriptedJob job(clock_, [](seconds) -> Result<JobState> {
    return NotFoundError("run 7 no longer exists");
  });
  auto result = Follow(job);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, RunStatus::kFailure);
  EXPECT_EQ(result->reason, "run 7 no longer exists");
  EXPECT_EQ(job.poll_times.size(), 1u);
}

TEST_F(RunFollowerTest, MaxDurationStopsTheJobAndTheRunFailsAsTimedOut) {
  asset_.compute.max_duration = seconds(600);
  ScriptedJob job(clock_, [](seconds) -> Result<JobState> {
    return JobState{Phase::kRunning, "running", nullptr, ""};
  });
  auto result = Follow(job);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, RunStatus::kFailure);
  EXPECT_EQ(result->reason, "timed out after 10m (compute.max_duration)");
  ASSERT_TRUE(job.stopped_at.has_value());
  EXPECT_GE(*job.stopped_at, seconds(600));
  EXPECT_LE(*job.stopped_at, seconds(608));  // within one (capped) poll interval
  EXPECT_FALSE(job.forced_at.has_value());
}

TEST_F(RunFollowerTest, ArbiterCancelFromAnotherProcessIsSeenWithinTheCancelCheck) {
  ScriptedJob job(clock_, [&](seconds t) -> Result<JobState> {
    if (t >= seconds(100)) {
      // `arbiter cancel` elsewhere: only storage changes.
      (void)storage_->TransitionRun(run_.run_id, {RunStatus::kRunning}, RunStatus::kCanceling, {});
    }
    return JobState{Phase::kRunning, "running", nullptr, ""};
  });
  auto result = Follow(job);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, RunStatus::kCanceled);
  EXPECT_EQ(result->reason, "canceled by `arbiter cancel`");
  ASSERT_TRUE(job.stopped_at.has_value());
  // The poll interval had grown to 8 s, but the wait is cut short by the 1 s check.
  EXPECT_LE(*job.stopped_at, seconds(100 + 8 + 1));
  EXPECT_EQ(storage_->GetRun(run_.run_id)->status, RunStatus::kCanceled);
}

TEST_F(RunFollowerTest, ACtrlCStopsTheJobAndASecondOneForcesIt) {
  CancelSignal cancel;
  ScriptedJob job(clock_, [&](seconds t) -> Result<JobState> {
    if (t >= seconds(30)) cancel.Request("Ctrl-C");
    if (t >= seconds(31)) cancel.Force();
    return JobState{Phase::kRunning, "running", nullptr, ""};
  });
  job.confirm_after = seconds(20);
  auto result = Follow(job, cancel);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, RunStatus::kCanceled);
  EXPECT_EQ(result->reason, "canceled: Ctrl-C");
  ASSERT_TRUE(job.stopped_at && job.forced_at);
  EXPECT_LT(*job.stopped_at, *job.forced_at);
}

TEST_F(RunFollowerTest, AStopThePlatformNeverConfirmsFailsTheRunAfterTheStopTimeout) {
  asset_.compute.max_duration = seconds(60);
  ScriptedJob job(clock_, [](seconds) -> Result<JobState> {
    return JobState{Phase::kRunning, "running", nullptr, ""};
  });
  job.confirm_after = seconds(100000);
  auto result = Follow(job);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, RunStatus::kFailure);
  EXPECT_THAT(result->reason, HasSubstr("timed out after 1m (compute.max_duration), but the "
                                        "platform did not confirm the stop within 1m"));
}

TEST_F(RunFollowerTest, AStopConfirmedAfterTheJobSucceededKeepsTheSuccess) {
  // The job finished while the cancel was on its way: its materialization stands.
  ScriptedJob job(clock_, [&](seconds t) -> Result<JobState> {
    if (t >= seconds(10)) return JobState{Phase::kSucceeded, "done", nullptr, ""};
    if (t >= seconds(5))
      (void)storage_->TransitionRun(run_.run_id, {RunStatus::kRunning}, RunStatus::kCanceling, {});
    return JobState{Phase::kRunning, "running", nullptr, ""};
  });
  job.confirm_after = seconds(1000);
  auto result = Follow(job);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, RunStatus::kSuccess);
}

TEST_F(RunFollowerTest, ACanceledRunIsNotStartedAndAClaimedOneIsNotTakenTwice) {
  storage::RunRecord other = run_;
  other.run_id = "fedcba9876543210";
  other.owner = "1:1";  // a dead arbiter
  ASSERT_TRUE(storage_->CreateRun(other).ok());
  auto first = ClaimOrphanedRun(*storage_, other, clock_);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->has_value());  // still QUEUED: nothing ran, it ends CANCELED
  EXPECT_EQ((*first)->status, RunStatus::kCanceled);
  auto second = ClaimOrphanedRun(*storage_, other, clock_);
  EXPECT_FALSE(second.ok());  // another arbiter (this one) took it already
  auto begun = BeginRun(*storage_, *storage_->GetRun(other.run_id));
  ASSERT_TRUE(begun.ok());
  ASSERT_TRUE(begun->has_value());
  EXPECT_THAT((*begun)->reason, "run was CANCELED before it started");
}

}  // namespace
}  // namespace arbiter::runs
