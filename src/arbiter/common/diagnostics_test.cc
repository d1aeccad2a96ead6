#include "arbiter/common/diagnostics.h"

#include <gtest/gtest.h>

namespace arbiter {
namespace {

TEST(DiagnosticsTest, CountsAndSorts) {
  Diagnostics d;
  d.Error({"b.yaml", 3, 1}, "second file");
  d.Warning({"a.yaml", 9, 2}, "late");
  d.Error({"a.yaml", 2, 5}, "early");
  EXPECT_EQ(d.error_count(), 2);
  EXPECT_EQ(d.warning_count(), 1);
  EXPECT_TRUE(d.has_errors());
  d.SortByLocation();
  EXPECT_EQ(d.all()[0].message, "early");
  EXPECT_EQ(d.all()[1].message, "late");
  EXPECT_EQ(d.all()[2].message, "second file");
}

TEST(DiagnosticsTest, RendersCompilerStyleWithCaretAndHint) {
  Diagnostic diag{Severity::kError, {"arbiter.yaml", 4, 5}, "unknown key 'partitons'",
                  "see docs/project-file.md"};
  EXPECT_EQ(RenderDiagnostic(diag, "    partitons: daily"),
            "arbiter.yaml:4:5: error: unknown key 'partitons'\n"
            "      partitons: daily\n"
            "      ^\n"
            "  hint: see docs/project-file.md\n");
  Diagnostic w{Severity::kWarning, {"x.yaml", 0, 0}, "no location", ""};
  EXPECT_EQ(RenderDiagnostic(w, ""), "x.yaml: warning: no location\n");
}

TEST(DiagnosticsTest, RedactedSourceIsNeverShown) {
  Diagnostics diags;
  diags.Add({Severity::kError, {"a.yaml", 2, 10}, "'token' must reference a secret", "", true});
  ASSERT_EQ(diags.error_count(), 1);
  EXPECT_EQ(RenderDiagnostic(diags.all()[0], "  token: dapiSECRET"),
            "a.yaml:2:10: error: 'token' must reference a secret\n");
}

}  // namespace
}  // namespace arbiter
