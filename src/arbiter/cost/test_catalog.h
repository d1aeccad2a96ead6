// A small catalog written for the tests, with round numbers so expectations
// can be computed by hand (the shipped catalog's figures drift).
#pragma once

#include "arbiter/cost/catalog.h"

namespace arbiter::cost::testing {

inline PriceCatalog TestCatalog() {
  auto fact = [](double v, const char* unit) {
    return nlohmann::json{{"value", v}, {"unit", unit}, {"source", "t"}, {"date", "2026-01-01"}};
  };
  nlohmann::json j = {
      {"catalog_version", "test"},
      {"default_region", "us-east-1"},
      {"sources", {{"t", {{"ref", "test"}, {"date", "2026-01-01"}, {"status", "test"}}}}},
      {"instances",
       {{"m5.xlarge", {{"vcpu", fact(4, "vcpu")}, {"memory_gib", fact(16, "gib")}, {"arch", "x86_64"}}},
        {"m5.2xlarge", {{"vcpu", fact(8, "vcpu")}, {"memory_gib", fact(32, "gib")}, {"arch", "x86_64"}}},
        {"r5.2xlarge", {{"vcpu", fact(8, "vcpu")}, {"memory_gib", fact(64, "gib")}, {"arch", "x86_64"}}}}},
      {"ec2_on_demand",
       {{"us-east-1",
         {{"m5.xlarge", fact(0.2, "usd_per_hour")},
          {"m5.2xlarge", fact(0.4, "usd_per_hour")},
          {"r5.2xlarge", fact(0.5, "usd_per_hour")}}}}},
      {"ec2_spot", {{"us-east-1", {{"m5.2xlarge", fact(0.1, "usd_per_hour")}}}}},
      {"spot_interruption",
       {{"band_hazard_per_node_hour", {{"0", fact(0.001, "x")}, {"4", fact(0.01, "x")}}},
        {"us-east-1", {{"m5.2xlarge", fact(0, "interruption_band")}}}}},
      {"emr_fee",
       {{"rule", {{"fraction_of_on_demand", fact(0.25, "fraction")}, {"cap", fact(0.27, "usd_per_hour")}}},
        {"us-east-1", {{"m5.xlarge", fact(0.05, "usd_per_hour")}}}}},
      {"emr_serverless",
       {{"us-east-1",
         {{"x86_64", {{"vcpu_hour", fact(0.05, "usd")}, {"gb_hour", fact(0.005, "usd")}}},
          {"storage_gb_hour", fact(0.0001, "usd")}}},
        {"minimum_s", fact(60, "seconds")}}},
      {"databricks",
       {{"dbu_price", {{"premium", {{"jobs_compute", fact(0.15, "usd_per_dbu")},
                                    {"jobs_compute_photon", fact(0.15, "usd_per_dbu")}}}}},
        {"photon_multiplier", {{"jobs", fact(2.9, "factor")}}},
        {"dbu_per_node_hour", {{"m5.xlarge", fact(0.69, "dbu")}, {"m5.2xlarge", fact(1.37, "dbu")}}}}},
      {"ebs", {{"us-east-1", {{"gp3_gb_month", fact(0.073, "usd_per_gb_month")}}}}},
      {"overheads", {{"emr", {{"startup_s", fact(300, "s")}, {"idle_tail_s", fact(60, "s")}}}}},
      {"priors", {{"duration_s", fact(1000, "s")}, {"log_sigma", fact(0.5, "x")},
                  {"local_cores", fact(8, "vcpu")}}}};
  auto c = PriceCatalog::FromJson(j, "test-catalog");
  return std::move(c).value();
}

}  // namespace arbiter::cost::testing
