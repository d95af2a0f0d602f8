# 1. the Stan spline functions against scipy's not-a-knot cases (shared/reference/spline_cases.json);
# 2. Stan's log density (log_prob, jacobian = FALSE) against densc's `eval` log_posterior at
#    two parameter points (seed init and seed optimum), both variants of the model block.
# usage: Rscript check.R DATA.csv SCRATCH_DIR DENSC_MODEL_BINARY
source("/work/main/bench/stan/common.R")
args <- commandArgs(trailingOnly = TRUE)
csv <- args[1]; scratch <- args[2]; gd1bin <- args[3]
rstan_options(auto_write = FALSE)   # TRUE would drop a 17 MB gd1.rds next to gd1.stan
model <- stan_model("/work/main/bench/stan/gd1.stan")

# --- spline functions vs scipy
expose_stan_functions(model)
cases <- fromJSON("/work/shared/reference/spline_cases.json", simplifyVector = TRUE)$cases
worst <- 0
for (c in seq_len(nrow(cases))) {
  s <- nak_spline(cases$knots[[c]], cases$values[[c]], cases$x[[c]])
  y <- cases$y[[c]]
  worst <- max(worst, max(abs(s - y) / pmax(1, abs(y))))
}
cat(sprintf("spline: %d scipy cases, max |stan - scipy| / max(1,|y|) = %.2e\n", nrow(cases), worst))

# --- log density vs densc
sv <- fromJSON("/work/shared/reference/seed_values.json")$gd1$points
split_params <- function(x) list(ln_n0 = x[1:31], mean_phi2 = x[32:48],
                                 ln_std_phi2 = x[49:65], ln_n0_bkg = x[66:72])
for (ub in c(1L, 0L)) {
  sd <- gd1_standata(csv, use_basis = ub)
  fit <- sampling(model, data = sd, chains = 1, iter = 1, algorithm = "Fixed_param",
                  refresh = 0, seed = 1)
  lp <- c()
  dn <- c()
  for (pt in c("seed_init", "seed_optimum")) {
    p <- split_params(sv[[pt]]$x)
    pj <- file.path(scratch, paste0(pt, ".json"))
    write(toJSON(p, digits = NA, auto_unbox = FALSE), pj)
    out <- system2(gd1bin, c("eval", "--data", "/work/shared/data/gd1-gaiadr3-blog.fits",
                   "--column", "phi1=gd1_phi1", "--column", "phi2=gd1_phi2",
                   "--where", shQuote("phi2>-7"), "--outside", "keep", "--params", pj),
                   stdout = TRUE, stderr = FALSE)
    ev <- fromJSON(paste(out, collapse = "\n"))
    l <- log_prob(fit, unconstrain_pars(fit, p), adjust_transform = FALSE)
    g <- grad_log_prob(fit, unconstrain_pars(fit, p), adjust_transform = FALSE)
    lp[pt] <- l; dn[pt] <- ev$log_posterior
    cat(sprintf("use_basis=%d %-13s stan %.12f  densc %.12f  rel diff %.1e  | obj stan %.15f ref(exact) %.15f | grad max rel diff %.1e\n",
                ub, pt, l, ev$log_posterior, (l - ev$log_posterior) / abs(ev$log_posterior),
                -l / sd$N, sv[[pt]]$objective_exact,
                max(abs(-g / sd$N - ev$gradient)) / max(abs(ev$gradient))))
  }
  cat(sprintf("use_basis=%d difference opt - init: stan %.10f densc %.10f\n", ub,
              lp[2] - lp[1], dn[2] - dn[1]))
}
