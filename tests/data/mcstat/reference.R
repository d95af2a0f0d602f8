# The reference numbers of tests/unit/test_mcstat.c: the posterior package (Debian's
# r-cran-posterior) on the draw sets of draws.txt (one chain a line: set, chain, draws).
# Run in this directory: Rscript reference.R > reference.csv
suppressMessages(library(posterior))
lines <- readLines("draws.txt")
lines <- lines[!startsWith(lines, "#")]
parts <- strsplit(lines, " ")
sets <- sapply(parts, `[`, 1)
cat("set,version,mean,sd,mcse_mean,q5,q50,q95,ess_bulk,ess_tail,rhat,ess_basic,rhat_basic\n")
for (s in unique(sets)) {
  chains <- lapply(parts[sets == s], function(p) as.numeric(p[-(1:2)]))
  x <- do.call(cbind, chains)   # iterations x chains
  q <- quantile2(x, probs = c(0.05, 0.5, 0.95))
  v <- c(mean(x), sd(x), mcse_mean(x), q, ess_bulk(x), ess_tail(x), rhat(x), ess_basic(x), rhat_basic(x))
  cat(s, as.character(packageVersion("posterior")), sprintf("%.17g", v), sep = ",")
  cat("\n")
}
