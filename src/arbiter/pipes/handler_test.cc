#include "arbiter/pipes/handler.h"

#include <gtest/gtest.h>

#include "arbiter/pipes/test_handler.h"

namespace arbiter::pipes {
namespace {

const std::string kOpened =
    R"({"__dagster_pipes_version": "0.1", "method": "opened", "params": {}})";
const std::string kClosed =
    R"({"__dagster_pipes_version": "0.1", "method": "closed", "params": {}})";
std::string Log(const std::string& text) {
  return R"({"__dagster_pipes_version": "0.1", "method": "log", "params": {"message": ")" + text +
         R"(", "level": "INFO"}})";
}

TEST(ProcessorTest, EveryKindOfBadLineBecomesAWarningAndReadingContinues) {
  RecordingHandler h;
  MessageProcessor p(&h, ProcessorOptions{200, 40});
  LineSplitter s(&p, "messages", LineMode::kStrict);
  const std::string lines[] = {
      kOpened,
      "not json at all",
      R"({"__dagster_pipes_version": "9.9", "method": "log", "params": {"message": "x"}})",
      R"({"__dagster_pipes_version": "0.1", "method": "teleport", "params": {}})",
      R"({"__dagster_pipes_version": "0.1", "method": "log", "params": {}})",
      R"({"__dagster_pipes_version": "0.1", "method": "log", "params": {"message": "x", "bonus": 1}})",
      "{\"__dagster_pipes_version\": \"0.1\", \"method\": \"log\", \"params\": {\"message\": "
      "\"\xc3\x28\"}}",
      Log(std::string(300, 'x')),
      "",
      Log("still reading"),
      kClosed,
  };
  for (const std::string& l : lines) s.Feed(l + "\n");
  s.Flush();
  p.Finish();
  EXPECT_EQ(h.Methods(), (std::vector<std::string>{"opened", "log", "closed"}));
  EXPECT_EQ(std::get<LogMessage>(h.messages[1].message).message, "still reading");
  EXPECT_EQ(h.messages[1].line_number, 10);
  ASSERT_EQ(h.warnings.size(), 8u);
  const std::pair<LineProblem, int64_t> expected[] = {
      {LineProblem::kNotJson, 2},       {LineProblem::kWrongVersion, 3},
      {LineProblem::kUnknownMethod, 4}, {LineProblem::kBadParams, 5},
      {LineProblem::kBadParams, 6},     {LineProblem::kInvalidUtf8, 7},
  };
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(h.warnings[i].kind, WarningKind::kBadLine);
    EXPECT_EQ(h.warnings[i].problem, expected[i].first) << i;
    EXPECT_EQ(h.warnings[i].line_number, expected[i].second);
    EXPECT_EQ(h.warnings[i].source, "messages");
    EXPECT_FALSE(h.warnings[i].excerpt.empty());
    EXPECT_LE(h.warnings[i].excerpt.size(), 40u + 3u);
  }
  EXPECT_EQ(Excerpt("a\xc3\x28\n\xc3\xa9z", 6), "a\\xc3(\\x0a\xc3\xa9...");
  EXPECT_EQ(Excerpt("a\xc3\x28\n\xc3\xa9z", 5), "a\\xc3(\\x0a...");  // no half character
  EXPECT_EQ(h.warnings[6].kind, WarningKind::kLineTooLong);
  EXPECT_EQ(h.warnings[6].line_number, 8);
  EXPECT_NE(h.warnings[6].detail.find("exceeds the cap of 200"), std::string::npos);
  EXPECT_EQ(h.warnings[7].line_number, 9);  // empty line
  EXPECT_EQ(p.messages(), 3);
  EXPECT_NE(h.warnings[0].ToString().find("messages:2"), std::string::npos);
}

TEST(ProcessorTest, TooLongLineSplitAcrossManyFeedsUsesBoundedMemory) {
  RecordingHandler h;
  MessageProcessor p(&h, ProcessorOptions{1000, 16});
  LineSplitter s(&p, "f", LineMode::kStrict);
  s.Feed(kOpened + "\n" + "{\"a\": \"");
  for (int i = 0; i < 100; ++i) s.Feed(std::string(100, 'y'));
  s.Feed("\"}\n" + Log("after") + "\n" + kClosed);  // last line without newline
  s.Flush();
  p.Finish();
  EXPECT_EQ(h.Methods(), (std::vector<std::string>{"opened", "log", "closed"}));
  ASSERT_EQ(h.warnings.size(), 1u);
  EXPECT_EQ(h.warnings[0].kind, WarningKind::kLineTooLong);
  EXPECT_EQ(h.warnings[0].line_number, 2);
  EXPECT_EQ(h.warnings[0].excerpt, "{\"a\": \"yyyyyyyyy...");
  EXPECT_NE(h.warnings[0].detail.find("10009 bytes"), std::string::npos) << h.warnings[0].detail;
}

TEST(ProcessorTest, LineExactlyAtCapIsAccepted) {
  RecordingHandler h;
  std::string line = Log("z");
  MessageProcessor p(&h, ProcessorOptions{line.size(), 16});
  LineSplitter s(&p, "f", LineMode::kStrict);
  s.Feed(line.substr(0, 10));
  s.Feed(line.substr(10) + "\r\n");  // CRLF tolerated
  s.Feed(line + "x\n");
  EXPECT_EQ(h.messages.size(), 1u);
  ASSERT_EQ(h.warnings.size(), 1u);
  EXPECT_EQ(h.warnings[0].kind, WarningKind::kLineTooLong);
}

TEST(ProcessorTest, MissingOpenedOrClosedWarns) {
  {
    RecordingHandler h;
    MessageProcessor p(&h);
    p.Finish();
    p.Finish();  // idempotent
    ASSERT_EQ(h.warnings.size(), 1u);
    EXPECT_EQ(h.warnings[0].kind, WarningKind::kMissingOpened);
  }
  {
    RecordingHandler h;
    MessageProcessor p(&h);
    p.ProcessLine("f", 1, kOpened, LineMode::kStrict);
    p.Finish();
    ASSERT_EQ(h.warnings.size(), 1u);
    EXPECT_EQ(h.warnings[0].kind, WarningKind::kMissingClosed);
  }
  {
    RecordingHandler h;
    MessageProcessor p(&h);
    p.ProcessLine("f", 1, kOpened, LineMode::kStrict);
    p.ProcessLine("f", 2, kClosed, LineMode::kStrict);
    p.ProcessLine("f", 3, Log("late"), LineMode::kStrict);
    p.Finish();
    EXPECT_EQ(h.messages.size(), 3u);  // delivered anyway
    ASSERT_EQ(h.warnings.size(), 1u);
    EXPECT_EQ(h.warnings[0].kind, WarningKind::kMessageAfterClosed);
  }
}

TEST(ProcessorTest, MixedModeForwardsOrdinaryOutput) {
  RecordingHandler h;
  MessageProcessor p(&h);
  LineSplitter s(&p, "stderr", LineMode::kMixed);
  s.Feed("starting job\n" + kOpened + "\n\n{\"not\": \"pipes\"}\n" + Log("m") + "\n" + kClosed +
         "\nbye");
  s.Flush();
  p.Finish();
  EXPECT_EQ(h.Methods(), (std::vector<std::string>{"opened", "log", "closed"}));
  EXPECT_EQ(h.output, (std::vector<std::string>{"stderr: starting job", "stderr: ",
                                                "stderr: {\"not\": \"pipes\"}", "stderr: bye"}));
  EXPECT_TRUE(h.warnings.empty());
}

}  // namespace
}  // namespace arbiter::pipes
