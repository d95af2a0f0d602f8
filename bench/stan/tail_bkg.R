# The heavy tail of ln_n0_bkg (background -> 0 at the left edge, a wide bright stream instead):
# how often each 4-chain run visits it. usage: Rscript tail_bkg.R DIR  (DIR holds out/stan_fit_seed{1,2,3}.rds and densc_s{1..4}_{1..4}.csv)
setwd(commandArgs(trailingOnly = TRUE)[1])
suppressPackageStartupMessages({library(rstan);library(posterior)})
rep1 <- function(lab, a) {  # a: iterations x chains x variables
  x1 <- a[,,"ln_n0_bkg[1]"]; x2 <- a[,,"ln_n0_bkg[2]"]
  cat(sprintf("%-14s P(bkg1<-8)=%.4f P(bkg1<-15)=%.4f min %.1f | sd bkg1 %.2f sd bkg2 %.3f | per-chain count(bkg1<-15): %s\n",
      lab, mean(x1 < -8), mean(x1 < -15), min(x1), sd(x1), sd(x2),
      paste(apply(x1, 2, function(v) sum(v < -15)), collapse=",")))
}
for (s in 1:3) {
  f <- readRDS(sprintf("out/stan_fit_seed%s.rds", s)); a <- as.array(f)
  sp <- get_sampler_params(f, inc_warmup=FALSE)
  cat("divergences", sum(sapply(sp, function(x) sum(x[,"divergent__"]))), " ")
  rep1(paste0("stan", s), a)
}
for (s in 1:4) {
  l <- lapply(1:4, function(i) { d <- read.csv(sprintf("densc_s%d_%d.csv", s, i), comment.char="#"); cbind(d$ln_n0_bkg.1, d$ln_n0_bkg.2) })
  a <- array(NA, c(1000, 4, 2), dimnames=list(NULL,NULL,c("ln_n0_bkg[1]","ln_n0_bkg[2]")))
  for (i in 1:4) a[,i,] <- l[[i]]
  rep1(paste0("densc seed", s), a)
}
