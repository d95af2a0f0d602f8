// GD-1 stream density model (seed post, "exact integral" variant), written by hand
// as an independent check of densc's generated code. Stan 2.21 syntax (Debian rstan).
//
// Intensity n(phi1, phi2) = exp(S_amp(phi1)) * Normal(phi2 | S_track(phi1), exp(S_std(phi1)))
//                           + exp(S_bkg(phi1)),
// S_* not-a-knot cubic splines through the knot values (end pieces extrapolated).
// log lik = sum_i log n(phi1_i, phi2_i) - integral of n over [-100,20] x [-7,5];
// phi2 integral analytic, phi1 integral by Gauss-Legendre between breakpoints
// (nodes and weights passed in as data).
functions {
  // Second derivatives M of the not-a-knot cubic spline through (x[i], y[i]), n >= 4.
  // Rows: not-a-knot at x[2], the n-2 interior continuity equations, not-a-knot at x[n-1].
  vector nak_second_derivs(vector x, vector y) {
    int n = rows(x);
    matrix[n, n] A = rep_matrix(0, n, n);
    vector[n] r = rep_vector(0, n);
    vector[n - 1] h = x[2:n] - x[1:(n - 1)];
    // third derivative continuous at x[2]: (M2 - M1)/h1 = (M3 - M2)/h2
    A[1, 1] = h[2];
    A[1, 2] = -(h[1] + h[2]);
    A[1, 3] = h[1];
    for (i in 2:(n - 1)) {
      A[i, i - 1] = h[i - 1];
      A[i, i] = 2 * (h[i - 1] + h[i]);
      A[i, i + 1] = h[i];
      r[i] = 6 * ((y[i + 1] - y[i]) / h[i] - (y[i] - y[i - 1]) / h[i - 1]);
    }
    // third derivative continuous at x[n-1]
    A[n, n - 2] = h[n - 1];
    A[n, n - 1] = -(h[n - 2] + h[n - 1]);
    A[n, n] = h[n - 2];
    return mdivide_left(A, r);
  }

  // Evaluate the spline (values y, second derivatives M at knots x) at t;
  // outside [x[1], x[n]] the first / last cubic piece is extrapolated.
  real nak_eval(vector x, vector y, vector M, real t) {
    int n = rows(x);
    int i = 1;
    real h;
    real a;
    real b;
    while (i < n - 1 && t >= x[i + 1]) i += 1;
    h = x[i + 1] - x[i];
    a = (x[i + 1] - t) / h;
    b = (t - x[i]) / h;
    return a * y[i] + b * y[i + 1]
           + ((a ^ 3 - a) * M[i] + (b ^ 3 - b) * M[i + 1]) * h ^ 2 / 6;
  }

  vector nak_spline(vector x, vector y, vector t) {
    vector[rows(t)] s;
    vector[rows(x)] M = nak_second_derivs(x, y);
    for (j in 1:rows(t)) s[j] = nak_eval(x, y, M, t[j]);
    return s;
  }

  // The spline is linear in the knot values: B[j, k] = spline through unit vector e_k at t[j],
  // so spline(y)(t) = B * y.  Built once from the same functions.
  matrix nak_basis(vector x, vector t) {
    int n = rows(x);
    matrix[rows(t), n] B;
    for (k in 1:n) {
      vector[n] e = rep_vector(0, n);
      e[k] = 1;
      B[, k] = nak_spline(x, e, t);
    }
    return B;
  }

  // Phi(hi) - Phi(lo) for hi > lo, computed on the side where it does not cancel.
  real Phi_diff(real lo, real hi) {
    if (lo > 0) return Phi(-lo) - Phi(-hi);
    return Phi(hi) - Phi(lo);
  }
}
data {
  int<lower=1> N;
  vector[N] phi1;
  vector[N] phi2;
  int<lower=1> Q;            // quadrature nodes in phi1
  vector[Q] q_phi1;
  vector[Q] q_w;
  real phi2_lo;
  real phi2_hi;
  int<lower=4> K_amp;
  vector[K_amp] k_amp;
  int<lower=4> K_track;
  vector[K_track] k_track;
  int<lower=4> K_bkg;
  vector[K_bkg] k_bkg;
  int<lower=0, upper=1> use_basis;   // 1: precomputed basis (fast); 0: solve per evaluation
}
transformed data {
  matrix[N, K_amp] B_amp = nak_basis(k_amp, phi1);
  matrix[N, K_track] B_track = nak_basis(k_track, phi1);
  matrix[N, K_bkg] B_bkg = nak_basis(k_bkg, phi1);
  matrix[Q, K_amp] Bq_amp = nak_basis(k_amp, q_phi1);
  matrix[Q, K_track] Bq_track = nak_basis(k_track, q_phi1);
  matrix[Q, K_bkg] Bq_bkg = nak_basis(k_bkg, q_phi1);
}
parameters {
  vector[K_amp] ln_n0;
  vector[K_track] mean_phi2;
  vector[K_track] ln_std_phi2;
  vector[K_bkg] ln_n0_bkg;
}
model {
  vector[N] s_amp;
  vector[N] s_mean;
  vector[N] s_lnsd;
  vector[N] s_bkg;
  vector[Q] q_amp;
  vector[Q] q_mean;
  vector[Q] q_lnsd;
  vector[Q] q_bkg;
  vector[Q] q_int;
  if (use_basis) {
    s_amp = B_amp * ln_n0;
    s_mean = B_track * mean_phi2;
    s_lnsd = B_track * ln_std_phi2;
    s_bkg = B_bkg * ln_n0_bkg;
    q_amp = Bq_amp * ln_n0;
    q_mean = Bq_track * mean_phi2;
    q_lnsd = Bq_track * ln_std_phi2;
    q_bkg = Bq_bkg * ln_n0_bkg;
  } else {
    s_amp = nak_spline(k_amp, ln_n0, phi1);
    s_mean = nak_spline(k_track, mean_phi2, phi1);
    s_lnsd = nak_spline(k_track, ln_std_phi2, phi1);
    s_bkg = nak_spline(k_bkg, ln_n0_bkg, phi1);
    q_amp = nak_spline(k_amp, ln_n0, q_phi1);
    q_mean = nak_spline(k_track, mean_phi2, q_phi1);
    q_lnsd = nak_spline(k_track, ln_std_phi2, q_phi1);
    q_bkg = nak_spline(k_bkg, ln_n0_bkg, q_phi1);
  }
  // sum over the stars of log n
  for (i in 1:N)
    target += log_sum_exp(s_amp[i] + normal_lpdf(phi2[i] | s_mean[i], exp(s_lnsd[i])),
                          s_bkg[i]);
  // minus the integral of n over the window
  for (j in 1:Q) {
    real sig = exp(q_lnsd[j]);
    q_int[j] = exp(q_amp[j]) * Phi_diff((phi2_lo - q_mean[j]) / sig, (phi2_hi - q_mean[j]) / sig)
               + (phi2_hi - phi2_lo) * exp(q_bkg[j]);
  }
  target += -dot_product(q_w, q_int);
  // random-walk priors (with constants, to match densc's log_posterior)
  target += normal_lpdf(ln_n0[2:K_amp] | ln_n0[1:(K_amp - 1)], 1);
  target += normal_lpdf(mean_phi2[2:K_track] | mean_phi2[1:(K_track - 1)], 1);
  target += normal_lpdf(ln_std_phi2[2:K_track] | ln_std_phi2[1:(K_track - 1)], 1);
}
