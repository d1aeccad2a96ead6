// Test helper: a PipesMessageHandler that records everything it is given.
// Not thread-safe; tests use it from one thread.
#pragma once

#include <string>
#include <vector>

#include "arbiter/pipes/handler.h"

namespace arbiter::pipes {

class RecordingHandler : public PipesMessageHandler {
 public:
  struct Received {
    PipesMessage message;
    std::string source;
    int64_t line_number;
  };

  void OnMessage(const PipesMessage& message, const MessageOrigin& origin) override {
    messages.push_back({message, std::string(origin.source), origin.line_number});
  }
  void OnWarning(const PipesWarning& warning) override { warnings.push_back(warning); }
  void OnOutputLine(std::string_view source, std::string_view line) override {
    output.push_back(std::string(source) + ": " + std::string(line));
  }

  std::vector<std::string> Methods() const {
    std::vector<std::string> out;
    for (const auto& r : messages) out.emplace_back(MethodName(r.message));
    return out;
  }
  int CountWarnings(WarningKind kind) const {
    int n = 0;
    for (const auto& w : warnings) n += w.kind == kind;
    return n;
  }

  std::vector<Received> messages;
  std::vector<PipesWarning> warnings;
  std::vector<std::string> output;
};

}  // namespace arbiter::pipes

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace arbiter::pipes {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/arbiter_pipes_XXXXXX";
    path_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void AppendToFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << data;
}

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace arbiter::pipes
