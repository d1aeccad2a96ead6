// Non-negative least squares: min ‖A·x − b‖² subject to x ≥ 0, by the
// Lawson–Hanson active-set method on the normal equations. Sized for the
// runtime model (a handful of columns, any number of rows); pure function.
#pragma once

#include <vector>

namespace arbiter::cost {

struct NnlsResult {
  std::vector<double> x;
  double residual_sq = 0;  // ‖A·x − b‖²
  int iterations = 0;
};

// `rows` are the rows of A (all of the same width n ≥ 1); `b` has one value
// per row. Columns that are all zero get 0.
NnlsResult SolveNnls(const std::vector<std::vector<double>>& rows, const std::vector<double>& b);

// The same from the normal equations G = AᵀA (n×n) and h = Aᵀb, for callers
// that keep running sums instead of rows; residual_sq is not computed.
NnlsResult SolveNnlsNormal(const std::vector<std::vector<double>>& g, const std::vector<double>& h);

}  // namespace arbiter::cost
