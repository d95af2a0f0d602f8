# Shared pieces: Stan data for the GD-1 model.
suppressPackageStartupMessages({ library(rstan); library(jsonlite) })

# Gauss-Legendre nodes/weights on [-1, 1] (Golub-Welsch).
gauss_legendre <- function(n) {
  k <- seq_len(n - 1)
  J <- matrix(0, n, n)
  J[cbind(k, k + 1)] <- J[cbind(k + 1, k)] <- k / sqrt(4 * k^2 - 1)
  e <- eigen(J, symmetric = TRUE)
  o <- order(e$values)
  list(x = e$values[o], w = 2 * e$vectors[1, o]^2)
}

gd1_standata <- function(csv, n_gl = 16, use_basis = 1L) {
  d <- read.csv(csv)
  k_amp <- seq(-110, 30, length.out = 31)
  k_track <- seq(-110, 30, length.out = 17)
  k_bkg <- seq(-120, 40, length.out = 7)
  lo <- -100; hi <- 20
  inner <- c(k_amp, k_track, k_bkg)
  inner <- inner[inner > lo & inner < hi]
  br <- sort(unique(c(lo, inner, hi)))
  # merge breakpoints closer than 1e-9 (coincident knots of different sets)
  br <- br[c(TRUE, diff(br) > 1e-9)]
  gl <- gauss_legendre(n_gl)
  qx <- c(); qw <- c()
  for (p in seq_len(length(br) - 1)) {
    a <- br[p]; b <- br[p + 1]
    qx <- c(qx, (a + b) / 2 + (b - a) / 2 * gl$x)
    qw <- c(qw, (b - a) / 2 * gl$w)
  }
  list(N = nrow(d), phi1 = d$phi1, phi2 = d$phi2,
       Q = length(qx), q_phi1 = qx, q_w = qw, phi2_lo = -7, phi2_hi = 5,
       K_amp = 31L, k_amp = k_amp, K_track = 17L, k_track = k_track,
       K_bkg = 7L, k_bkg = k_bkg, use_basis = as.integer(use_basis),
       n_pieces = length(br) - 1)
}
