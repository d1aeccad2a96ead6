#include "arbiter/cost/nnls.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace arbiter::cost {
namespace {

using Matrix = std::vector<std::vector<double>>;

// Solves G[P,P]·z = h[P] for the passive columns P by Gaussian elimination
// with partial pivoting; false when singular.
bool SolvePassive(const Matrix& g, const std::vector<double>& h, const std::vector<int>& passive,
                  std::vector<double>* z) {
  const size_t k = passive.size();
  Matrix a(k, std::vector<double>(k + 1));
  for (size_t i = 0; i < k; ++i) {
    for (size_t j = 0; j < k; ++j) a[i][j] = g[passive[i]][passive[j]];
    a[i][k] = h[passive[i]];
  }
  for (size_t col = 0; col < k; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < k; ++r) {
      if (std::abs(a[r][col]) > std::abs(a[pivot][col])) pivot = r;
    }
    if (std::abs(a[pivot][col]) < 1e-12) return false;
    std::swap(a[col], a[pivot]);
    for (size_t r = 0; r < k; ++r) {
      if (r == col) continue;
      double f = a[r][col] / a[col][col];
      for (size_t c = col; c <= k; ++c) a[r][c] -= f * a[col][c];
    }
  }
  z->assign(k, 0);
  for (size_t i = 0; i < k; ++i) (*z)[i] = a[i][k] / a[i][i];
  return true;
}

}  // namespace

NnlsResult SolveNnlsNormal(const Matrix& g, const std::vector<double>& h) {
  NnlsResult out;
  const size_t n = h.size();
  double scale = 0;
  for (size_t i = 0; i < n; ++i) scale = std::max(scale, g[i][i]);
  const double tol = 1e-10 * std::max(1.0, scale);
  std::vector<double> x(n, 0);
  std::vector<bool> in_passive(n, false);
  auto gradient = [&](size_t i) {  // w = Aᵀ(b − A·x) = h − G·x
    double w = h[i];
    for (size_t j = 0; j < n; ++j) w -= g[i][j] * x[j];
    return w;
  };
  const int max_iter = static_cast<int>(3 * n + 10);
  for (out.iterations = 0; out.iterations < max_iter; ++out.iterations) {
    // The most promising column not yet used.
    int best = -1;
    double best_w = tol;
    for (size_t i = 0; i < n; ++i) {
      if (in_passive[i] || g[i][i] <= 0) continue;
      double w = gradient(i);
      if (w > best_w) best_w = w, best = static_cast<int>(i);
    }
    if (best < 0) break;
    in_passive[best] = true;
    while (true) {
      std::vector<int> passive;
      for (size_t i = 0; i < n; ++i) {
        if (in_passive[i]) passive.push_back(static_cast<int>(i));
      }
      std::vector<double> z;
      if (!SolvePassive(g, h, passive, &z)) {
        in_passive[best] = false;  // collinear with the others: leave it out
        break;
      }
      bool feasible = std::all_of(z.begin(), z.end(), [](double v) { return v > 0; });
      if (feasible) {
        std::fill(x.begin(), x.end(), 0);
        for (size_t k = 0; k < passive.size(); ++k) x[passive[k]] = z[k];
        break;
      }
      // Step from x toward z as far as feasibility allows; drop what hits 0.
      double alpha = std::numeric_limits<double>::infinity();
      for (size_t k = 0; k < passive.size(); ++k) {
        if (z[k] <= 0) alpha = std::min(alpha, x[passive[k]] / (x[passive[k]] - z[k]));
      }
      for (size_t k = 0; k < passive.size(); ++k) {
        int i = passive[k];
        x[i] += alpha * (z[k] - x[i]);
        if (x[i] <= 1e-15) x[i] = 0, in_passive[i] = false;
      }
    }
  }
  out.x = x;
  return out;
}

NnlsResult SolveNnls(const Matrix& rows, const std::vector<double>& b) {
  if (rows.empty()) return NnlsResult{};
  const size_t n = rows[0].size();
  Matrix g(n, std::vector<double>(n, 0));
  std::vector<double> h(n, 0);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t i = 0; i < n; ++i) {
      h[i] += rows[r][i] * b[r];
      for (size_t j = 0; j < n; ++j) g[i][j] += rows[r][i] * rows[r][j];
    }
  }
  NnlsResult out = SolveNnlsNormal(g, h);
  const std::vector<double>& x = out.x;
  for (size_t r = 0; r < rows.size(); ++r) {
    double e = -b[r];
    for (size_t i = 0; i < n; ++i) e += rows[r][i] * x[i];
    out.residual_sq += e * e;
  }
  return out;
}

}  // namespace arbiter::cost
