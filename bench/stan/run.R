# Sample the GD-1 posterior with rstan: 4 chains, 1000 warmup + 1000 draws, defaults, seed 1,
# Stan's default random inits. Saves the draws (RDS + Stan CSV per chain) and prints diagnostics.
# usage: Rscript run.R DATA.csv OUT_DIR [SEED (default 1)] [--summary-only]
# writes OUT_DIR/stan_fit_seedSEED.rds (and Stan CSV files OUT_DIR/stan_gd1_seedSEED_N.csv)
source("/work/main/bench/stan/common.R")
suppressPackageStartupMessages(library(posterior))
args <- commandArgs(trailingOnly = TRUE)
csv <- args[1]; out <- args[2]
seed <- if (length(args) >= 3 && args[3] != "--summary-only") as.integer(args[3]) else 1L
rds <- file.path(out, sprintf("stan_fit_seed%d.rds", seed))
dir.create(out, showWarnings = FALSE, recursive = TRUE)
rstan_options(auto_write = FALSE)   # TRUE would drop a 17 MB gd1.rds next to gd1.stan
model <- stan_model("/work/main/bench/stan/gd1.stan")
sd <- gd1_standata(csv, use_basis = 1L)
sd$n_pieces <- NULL
if ("--summary-only" %in% args) {   # diagnostics of a saved fit
  fit <- readRDS(rds); wall <- NA
} else {
  t0 <- Sys.time()
  fit <- sampling(model, data = sd, chains = 4, iter = 2000, warmup = 1000, seed = seed,
                  cores = 2, refresh = 500,
                  sample_file = file.path(out, sprintf("stan_gd1_seed%d", seed)))
  wall <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
  saveRDS(fit, rds)
}
et <- get_elapsed_time(fit)
print(et)
cat(sprintf("wall %.1f s (2 chains in parallel on 2 cores); per-chain total %.1f..%.1f s, sum %.1f s\n",
            wall, min(rowSums(et)), max(rowSums(et)), sum(et)))
sp <- get_sampler_params(fit, inc_warmup = FALSE)
cat(sprintf("divergences: %d; max treedepth hits: %d; step sizes: %s; mean n_leapfrog: %s\n",
            sum(sapply(sp, function(x) sum(x[, "divergent__"]))),
            sum(sapply(sp, function(x) sum(x[, "treedepth__"] >= 10))),
            paste(sprintf("%.4f", sapply(sp, function(x) x[1, "stepsize__"])), collapse = " "),
            paste(sprintf("%.1f", sapply(sp, function(x) mean(x[, "n_leapfrog__"]))), collapse = " ")))
dr <- as_draws_array(as.array(fit))
dr <- subset_draws(dr, variable = setdiff(variables(dr), "lp__"))
s <- summarise_draws(dr, "mean", "sd", "mcse_mean", "ess_bulk", "ess_tail", "rhat")
cat(sprintf("min ess_bulk %.0f (%s), min ess_tail %.0f, max rhat %.4f (%s)\n",
            min(s$ess_bulk), s$variable[which.min(s$ess_bulk)], min(s$ess_tail),
            max(s$rhat), s$variable[which.max(s$rhat)]))
print(check_hmc_diagnostics(fit))
