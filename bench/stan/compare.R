# Compare rstan's GD-1 draws with densc's (Stan CSV files), parameter by parameter:
# z = (mean_stan - mean_densc) / sqrt(mcse_stan^2 + mcse_densc^2), sd ratio = sd_densc / sd_stan.
# usage: Rscript compare.R STAN_FIT.rds[,STAN_FIT2.rds,...] OUT.txt DENSC_1.csv ... DENSC_4.csv
# (several Stan fits, comma-separated, are pooled as more chains)
suppressPackageStartupMessages({ library(rstan); library(posterior) })
args <- commandArgs(trailingOnly = TRUE)
sfiles <- strsplit(args[1], ",")[[1]]; out <- args[2]; dfiles <- args[-(1:2)]

stan_dr <- do.call(bind_draws, c(lapply(sfiles, function(f) as_draws_array(as.array(readRDS(f)))),
                                 along = "chain"))
stan_dr <- subset_draws(stan_dr, variable = setdiff(variables(stan_dr), "lp__"))
chains <- lapply(dfiles, function(f) {
  d <- read.csv(f, comment.char = "#", check.names = FALSE)
  d <- d[, !grepl("__$", names(d))]
  names(d) <- sub("\\.([0-9]+)$", "[\\1]", names(d))
  as_draws_df(d)
})
densc_dr <- do.call(bind_draws, c(lapply(chains, as_draws_array), along = "chain"))
densc_dr <- subset_draws(densc_dr, variable = variables(stan_dr))

f <- c("mean", "sd", "mcse_mean", "ess_bulk", "rhat")
s1 <- as.data.frame(lapply(summarise_draws(stan_dr, f), unclass))
s2 <- as.data.frame(lapply(summarise_draws(densc_dr, f), unclass))
stopifnot(identical(s1$variable, s2$variable), nrow(s1) == 72)
z <- (s1$mean - s2$mean) / sqrt(s1$mcse_mean^2 + s2$mcse_mean^2)
r <- s2$sd / s1$sd
tab <- data.frame(variable = s1$variable,
                  mean_stan = s1$mean, mean_densc = s2$mean,
                  mcse_stan = s1$mcse_mean, mcse_densc = s2$mcse_mean, z = z,
                  sd_stan = s1$sd, sd_densc = s2$sd, sd_ratio = r,
                  ess_stan = s1$ess_bulk, ess_densc = s2$ess_bulk,
                  rhat_stan = s1$rhat, rhat_densc = s2$rhat)
hdr <- c(
  sprintf("GD-1 posterior: rstan (hand-written gd1.stan, %d chains) vs densc (models/gd1.dens, %d chains), 1000 draws a chain.",
          nchains(stan_dr), nchains(densc_dr)),
  sprintf("stan fits: %s", paste(sfiles, collapse = " ")),
  "z = (mean_stan - mean_densc) / sqrt(mcse_stan^2 + mcse_densc^2); sd_ratio = sd_densc / sd_stan.",
  "Summaries by posterior::summarise_draws (mean, sd, mcse_mean, ess_bulk, rhat).",
  sprintf("densc draws: %s", paste(dfiles, collapse = " ")),
  sprintf("max |z| = %.2f (%s); |z| > 3: %d of 72; |z| > 2: %d of 72 (expected ~3.3)",
          max(abs(z)), tab$variable[which.max(abs(z))], sum(abs(z) > 3), sum(abs(z) > 2)),
  sprintf("sd ratio range %.3f .. %.3f (median %.3f)", min(r), max(r), median(r)),
  sprintf("stan: min ess_bulk %.0f, max rhat %.4f; densc: min ess_bulk %.0f, max rhat %.4f",
          min(s1$ess_bulk), max(s1$rhat), min(s2$ess_bulk), max(s2$rhat)),
  "")
fmt <- tab
num <- sapply(fmt, is.numeric)
fmt[num] <- lapply(fmt[num], function(x) formatC(x, digits = 5, format = "g"))
options(width = 400)
body <- capture.output(print(fmt, row.names = FALSE, right = TRUE))
writeLines(c(hdr, body), out)
cat(hdr, sep = "\n")
