#include "arbiter/cost/catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "arbiter/common/diagnostics.h"
#include "arbiter/cost/catalog_instance_chooser.h"
#include "arbiter/cost/overrides_check.h"
#include "arbiter/cost/test_catalog.h"

namespace arbiter::cost {
namespace {

using ::testing::HasSubstr;

TEST(CatalogTest, ShippedCatalogLoadsAndEveryFigureHasProvenance) {
  auto c = PriceCatalog::Load(std::string(ARBITER_SOURCE_DIR) + "/data/price-catalog.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto od = c->OnDemand("us-east-1", "r5.4xlarge");
  ASSERT_TRUE(od.has_value());
  EXPECT_DOUBLE_EQ(od->value, 1.008);
  EXPECT_EQ(od->source, "karpenter_od");
  EXPECT_EQ(od->date, "2026-07-20");
  EXPECT_DOUBLE_EQ(c->EmrFee("us-east-1", "r5.4xlarge")->value, 0.252);
  EXPECT_DOUBLE_EQ(c->DbuPrice("premium", "jobs_compute")->value, 0.15);
  EXPECT_DOUBLE_EQ(c->PhotonMultiplier("jobs")->value, 2.9);
  EXPECT_FALSE(c->OnDemand("us-east-1", "x9.huge").has_value());  // unknown, not zero
}

TEST(CatalogTest, RejectsFiguresWithoutProvenance) {
  nlohmann::json j = {{"catalog_version", "x"}, {"default_region", "us-east-1"},
                      {"sources", nlohmann::json::object()}, {"instances", nlohmann::json::object()},
                      {"ec2_on_demand", {{"us-east-1", {{"m5.xlarge", {{"value", 0.2}, {"source", "nowhere"}, {"unit", "u"}, {"date", "d"}}}}}}}};
  auto c = PriceCatalog::FromJson(j, "bad.json");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("unknown source 'nowhere'"));
  j["ec2_on_demand"]["us-east-1"]["m5.xlarge"] = {{"value", 0.2}, {"source", "nowhere"}};
  EXPECT_THAT(PriceCatalog::FromJson(j, "bad.json").status().message(), HasSubstr("needs a numeric value, a unit"));
  EXPECT_THAT(PriceCatalog::FromJson(nlohmann::json::object(), "x.json").status().message(),
              HasSubstr("not a price catalog"));
}

TEST(CatalogTest, OverridesReplaceAndDiscountListPrices) {
  PriceCatalog list = testing::TestCatalog();
  definitions::PricingOverrides o;
  o.discounts["databricks_dbu"] = 0.2;
  o.discounts["ec2"] = 0.1;
  o.dbu_rates["jobs_compute_photon"] = 0.11;
  definitions::InstancePrice p;
  p.instance_type = "r5.2xlarge";
  p.on_demand = 0.3;
  o.instance_prices.push_back(p);
  PriceCatalog c = list.WithOverrides(o);
  EXPECT_NEAR(c.DbuPrice("premium", "jobs_compute")->value, 0.12, 1e-12);  // 0.15 × 0.8
  EXPECT_THAT(c.DbuPrice("premium", "jobs_compute")->source, HasSubstr("less 20%"));
  EXPECT_DOUBLE_EQ(c.DbuPrice("premium", "jobs_compute_photon")->value, 0.11);  // custom: no discount
  EXPECT_NEAR(c.OnDemand("us-east-1", "m5.xlarge")->value, 0.18, 1e-12);
  EXPECT_DOUBLE_EQ(c.OnDemand("us-east-1", "r5.2xlarge")->value, 0.3);  // private price list
  EXPECT_DOUBLE_EQ(c.Spot("us-east-1", "m5.2xlarge")->value, 0.1);       // no discount on spot
  // The EMR fee rule uses list on-demand: min(0.25 × 0.4, 0.27).
  EXPECT_DOUBLE_EQ(c.EmrFee("us-east-1", "m5.2xlarge")->value, 0.1);
}

TEST(CatalogTest, SearchPathPrefersFlagThenEnvThenProject) {
  EXPECT_EQ(CatalogSearchPath("/a.json", "/b.json", "/p", "/x/bin/arbiter"),
            std::vector<std::string>{"/a.json"});
  EXPECT_EQ(CatalogSearchPath("", "/b.json", "/p", ""), std::vector<std::string>{"/b.json"});
  auto paths = CatalogSearchPath("", "", "/p", "/x/bin/arbiter");
  ASSERT_GE(paths.size(), 2u);
  EXPECT_EQ(paths[0], "/p/price-catalog.json");
  EXPECT_EQ(paths[1], "/x/share/arbiter/price-catalog.json");
  auto missing = LocateAndLoadCatalog("/nonexistent/c.json", "", "", "");
  EXPECT_THAT(missing.status().message(), HasSubstr("--catalog FILE"));
}

TEST(CatalogTest, CheckPricingWarnsAboutUnknownTypesAndPricesAboveList) {
  PriceCatalog c = testing::TestCatalog();
  definitions::Project p;
  definitions::RuntimeConfig emr;
  emr.name = "emr";
  emr.type = definitions::RuntimeType::kEmr;
  emr.emr.aws.region = "us-east-1";
  p.runtimes["emr"] = emr;
  p.pricing.discounts["databricks_dbu"] = 0.1;
  definitions::InstancePrice a;
  a.instance_type = "m5.xlarge";
  a.on_demand = 0.5;  // above 0.2 list
  a.location = {"arbiter.yaml", 10, 5};
  definitions::InstancePrice b;
  b.instance_type = "z9.mega";
  b.on_demand = 1;
  b.region = "eu-west-1";
  p.pricing.instance_prices = {a, b};
  Diagnostics d;
  CheckPricing(c, p, &d);
  std::string all;
  for (const auto& x : d.all()) all += x.location.ToString() + " " + x.message + "\n";
  EXPECT_THAT(all, HasSubstr("discount 'databricks_dbu' applies to no runtime"));
  EXPECT_THAT(all, HasSubstr("arbiter.yaml:10:5 private on-demand price of 'm5.xlarge' ($0.5) is above the list price $0.2"));
  EXPECT_THAT(all, HasSubstr("'z9.mega' is not in the price catalog"));
  EXPECT_THAT(all, HasSubstr("for region eu-west-1, where no runtime of this project runs"));
  EXPECT_EQ(d.error_count(), 0);
}

TEST(CatalogInstanceChooserTest, ExplicitFirstElseCheapestMatchingShape) {
  auto c = std::make_shared<const PriceCatalog>(testing::TestCatalog());
  runs::InstanceChooser choose = CatalogInstanceChooser(c);
  definitions::ComputeSpec spec;
  spec.worker.vcpu = 8;
  spec.worker.memory_gib = 32;
  auto emr = choose(spec, definitions::RuntimeType::kEmr, "us-east-1");
  ASSERT_TRUE(emr.ok()) << emr.status().ToString();
  // m5.2xlarge 0.4 + fee 0.1 beats r5.2xlarge 0.5 + 0.125; m5.xlarge is too small.
  EXPECT_EQ(emr->worker, (std::vector<std::string>{"m5.2xlarge", "r5.2xlarge"}));
  // Databricks needs a DBU rating: r5.2xlarge has none in this catalog.
  EXPECT_EQ(choose(spec, definitions::RuntimeType::kDatabricks, "")->worker,
            std::vector<std::string>{"m5.2xlarge"});
  spec.instance_families = {"r5"};
  EXPECT_EQ(choose(spec, definitions::RuntimeType::kEmr, "us-east-1")->worker,
            std::vector<std::string>{"r5.2xlarge"});
  spec.instance_types["emr"] = "c9.big";
  EXPECT_EQ(choose(spec, definitions::RuntimeType::kEmr, "us-east-1")->worker,
            std::vector<std::string>{"c9.big"});
  spec.instance_types.clear();
  spec.worker.vcpu = 64;
  auto none = choose(spec, definitions::RuntimeType::kEmr, "us-east-1");
  EXPECT_THAT(none.status().message(), HasSubstr("set compute.instance_types.emr"));
}

}  // namespace
}  // namespace arbiter::cost
