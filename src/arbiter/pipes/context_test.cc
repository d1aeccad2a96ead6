#include "arbiter/pipes/context.h"

#include <gtest/gtest.h>

namespace arbiter::pipes {
namespace {

TEST(AssetKeyTest, EscapesSlashesInsideParts) {
  EXPECT_EQ(EscapeAssetKey({"a", "b/c"}), "a/b\\/c");
  EXPECT_EQ(EscapeAssetKey({"my_asset"}), "my_asset");
  EXPECT_EQ(EscapeAssetKey({"a\\b"}), "a\\b");  // backslashes are not escaped
}

TEST(AssetKeyTest, ParsesEscapedStrings) {
  EXPECT_EQ(ParseEscapedAssetKey("a/b\\/c"), (AssetKeyPath{"a", "b/c"}));
  EXPECT_EQ(ParseEscapedAssetKey("a\\\\b"), (AssetKeyPath{"a\\b"}));
  EXPECT_EQ(ParseEscapedAssetKey("a/b/"), (AssetKeyPath{"a", "b"}));  // trailing empty dropped
  EXPECT_EQ(ParseEscapedAssetKey("commoncrawl/edges"), (AssetKeyPath{"commoncrawl", "edges"}));
  EXPECT_TRUE(ParseEscapedAssetKey("").empty());
  for (const AssetKeyPath& k : {AssetKeyPath{"x"}, AssetKeyPath{"a/b", "c", "d//e"}}) {
    EXPECT_EQ(ParseEscapedAssetKey(EscapeAssetKey(k)), k);
  }
}

TEST(ContextTest, SpecExample) {
  ContextData d;
  d.assets.push_back({{"my_asset"}, std::nullopt, std::nullopt});
  d.partition_key = "2024-01-01";
  d.partition_time_window = KeyRange{"2024-01-01T00:00:00+00:00", "2024-01-02T00:00:00+00:00"};
  d.run_id = "2716d101-cf11-4baa-b22d-d2530cb8b121";
  d.job_name = "__ASSET_JOB";
  d.extras = {{"foo", "bar"}};
  Result<OrderedJson> c = BuildContextPayload(d);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(DumpPythonStyle(*c),
            "{\"asset_keys\": [\"my_asset\"], \"code_version_by_asset_key\": {\"my_asset\": null}, "
            "\"provenance_by_asset_key\": {\"my_asset\": null}, \"partition_key\": \"2024-01-01\", "
            "\"partition_key_range\": {\"start\": \"2024-01-01\", \"end\": \"2024-01-01\"}, "
            "\"partition_time_window\": {\"start\": \"2024-01-01T00:00:00+00:00\", \"end\": "
            "\"2024-01-02T00:00:00+00:00\"}, \"run_id\": \"2716d101-cf11-4baa-b22d-d2530cb8b121\", "
            "\"job_name\": \"__ASSET_JOB\", \"retry_number\": 0, \"extras\": {\"foo\": \"bar\"}}");
}

TEST(ContextTest, AlwaysTenKeysWithNulls) {
  ContextData d;
  d.is_asset_step = false;
  d.run_id = "r";
  d.retry_number = 2;
  Result<OrderedJson> c = BuildContextPayload(d);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->size(), 10u);
  for (const char* k :
       {"asset_keys", "code_version_by_asset_key", "provenance_by_asset_key", "partition_key",
        "partition_key_range", "partition_time_window", "job_name"}) {
    ASSERT_TRUE(c->contains(k)) << k;
    EXPECT_TRUE((*c)[k].is_null()) << k;
  }
  EXPECT_EQ((*c)["retry_number"], 2);
  EXPECT_EQ((*c)["extras"], OrderedJson::object());
}

TEST(ContextTest, SortsEscapesAndCarriesProvenanceAndRanges) {
  ContextData d;
  Provenance p{"v3", {{"up/stream", "dv1"}}, true};
  d.assets.push_back({{"z"}, "cv-z", std::nullopt});
  d.assets.push_back({{"a", "b/c"}, std::nullopt, p});
  d.partition_key_range = KeyRange{"2024-01-01", "2024-01-31"};
  d.run_id = "r";
  Result<OrderedJson> c = BuildContextPayload(d);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)["asset_keys"], OrderedJson({"a/b\\/c", "z"}));
  EXPECT_EQ((*c)["code_version_by_asset_key"]["z"], "cv-z");
  EXPECT_TRUE((*c)["code_version_by_asset_key"]["a/b\\/c"].is_null());
  EXPECT_EQ((*c)["provenance_by_asset_key"]["a/b\\/c"]["input_data_versions"]["up/stream"], "dv1");
  EXPECT_EQ((*c)["provenance_by_asset_key"]["a/b\\/c"]["is_user_provided"], true);
  EXPECT_TRUE((*c)["partition_key"].is_null());
  EXPECT_EQ((*c)["partition_key_range"]["end"], "2024-01-31");
}

TEST(ContextTest, RejectsInvalidInput) {
  ContextData ok;
  ok.run_id = "r";
  ContextData d = ok;
  d.run_id.clear();
  EXPECT_FALSE(BuildContextPayload(d).ok());
  d = ok;
  d.retry_number = -1;
  EXPECT_FALSE(BuildContextPayload(d).ok());
  d = ok;
  d.extras = Json::array();
  EXPECT_FALSE(BuildContextPayload(d).ok());
  d = ok;
  d.assets = {{{"a"}, {}, {}}, {{"a"}, {}, {}}};
  EXPECT_FALSE(BuildContextPayload(d).ok());
  d = ok;
  d.assets = {{{"a", ""}, {}, {}}};
  EXPECT_FALSE(BuildContextPayload(d).ok());
  d = ok;
  d.partition_time_window = KeyRange{"2024-01-01T00:00:00", "2024-01-02T00:00:00+00:00"};
  EXPECT_FALSE(BuildContextPayload(d).ok());
}

TEST(ContextTest, IsoTimestampCheck) {
  EXPECT_TRUE(IsIsoTimestampWithOffset("2024-01-01T00:00:00+00:00"));
  EXPECT_TRUE(IsIsoTimestampWithOffset("2024-03-10T03:00:00-07:00"));
  EXPECT_TRUE(IsIsoTimestampWithOffset("2024-01-01T00:00:00.123456+05:30"));
  EXPECT_TRUE(IsIsoTimestampWithOffset("2024-01-01T00:00:00Z"));
  EXPECT_FALSE(IsIsoTimestampWithOffset("2024-01-01T00:00:00"));
  EXPECT_FALSE(IsIsoTimestampWithOffset("2024-01-01 00:00:00+00:00"));
  EXPECT_FALSE(IsIsoTimestampWithOffset("2024-01-01T00:00:00+0000"));
  EXPECT_FALSE(IsIsoTimestampWithOffset("2024-01-01T00:00:00.+00:00"));
  EXPECT_FALSE(IsIsoTimestampWithOffset("2024-01-01T00:00:00+00:00x"));
}

}  // namespace
}  // namespace arbiter::pipes
