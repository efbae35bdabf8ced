#!/usr/bin/env Rscript
# Reference values for fieldexp.spillover: the estimatr regressions underneath each contrast.
#
#   Rscript tests/reference/make_reference_spillover.R     # from the repo root
#
# Writes, next to this script:
#   spillover_households.csv  a small simulated household experiment (Nickerson 2008 style):
#                             300 households in 4 blocks, 1-3 voters each, one targeted member,
#                             arms canvass / recycling (placebo) / control, the targeted member's
#                             contact recorded on the targeted row only (NA on housemates).
#   spillover.csv             one row per estimatr call: case, effect (the SpilloverResult
#                             attribute), the fieldexp arguments (covariates, blocks, se_type,
#                             treatment), the R call, and estimate, std_error, statistic, df,
#                             p_value, ci_low, ci_high, nobs, nclusters (17 significant digits).
#
# Deterministic (set.seed), no network.

suppressPackageStartupMessages(library(estimatr))
options(warn = 1, stringsAsFactors = FALSE)

args <- commandArgs(trailingOnly = FALSE)
script_path <- sub("^--file=", "", args[grep("^--file=", args)])
out_dir <- if (length(script_path)) dirname(normalizePath(script_path)) else normalizePath("tests/reference")

# ------------------------------------------------------------------ simulate the data
set.seed(20080601)
n_hh <- 300
block <- rep(1:4, length.out = n_hh)
arm <- character(n_hh)
for (b in 1:4) { # complete randomisation within block: 40% canvass, 30% recycling, 30% control
  idx <- which(block == b)
  k <- length(idx)
  n_c <- round(0.4 * k); n_p <- round(0.3 * k)
  arm[idx] <- sample(c(rep("canvass", n_c), rep("recycling", n_p), rep("control", k - n_c - n_p)))
}
size <- sample(1:3, n_hh, replace = TRUE, prob = c(0.15, 0.7, 0.15))
answers <- rbinom(n_hh, 1, 0.35) # would open the door to any canvasser
rows <- list()
for (h in seq_len(n_hh)) {
  for (m in seq_len(size[h])) {
    tgt <- as.integer(m == 1)
    x <- rbinom(1, 1, 0.5)
    contacted <- if (tgt == 1) as.integer(arm[h] != "control" & answers[h] == 1) else NA_integer_
    effect <- if (arm[h] == "canvass" && answers[h] == 1) (if (tgt == 1) 0.10 else 0.06) else 0
    p <- 0.30 + 0.25 * x + 0.05 * answers[h] + 0.02 * block[h] + effect
    rows[[length(rows) + 1]] <- data.frame(
      voter = length(rows) + 1, hh = sprintf("H%03d", h), block = block[h], arm = arm[h],
      targeted = tgt, contacted = contacted, x = x, voted = rbinom(1, 1, p)
    )
  }
}
d <- do.call(rbind, rows)
write.csv(d, file.path(out_dir, "spillover_households.csv"), row.names = FALSE, na = "")

# ------------------------------------------------------------------ the contrasts
d$z <- as.integer(d$arm == "canvass")
hh_contact <- tapply(ifelse(d$targeted == 1, d$contacted, 0), d$hh, max)
d$hh_contact <- as.numeric(hh_contact[d$hh])

tc <- d[d$arm != "recycling", ]
tp <- d[d$arm != "control" & d$hh_contact == 1, ]
subsets <- list(
  direct = tc[tc$targeted == 1, ], spillover = tc[tc$targeted == 0, ],
  direct_vs_placebo = tp[tp$targeted == 1, ], spillover_vs_placebo = tp[tp$targeted == 0, ]
)

out <- list()
add <- function(case, effect, fit, term, covariates = NA, blocks = NA, se_type = NA,
                treatment = NA, placebo = NA, call = "") {
  t <- tidy(fit)
  t <- t[t$term == term, ]
  out[[length(out) + 1]] <<- data.frame(
    case = case, effect = effect, covariates = covariates, blocks = blocks, se_type = se_type,
    treatment = treatment, placebo = placebo, call = call,
    estimate = t$estimate, std_error = t$std.error, statistic = t$statistic, df = t$df,
    p_value = t$p.value, ci_low = t$conf.low, ci_high = t$conf.high,
    nobs = fit$nobs, nclusters = if (is.null(fit$nclusters)) NA else fit$nclusters
  )
}

for (eff in c("direct", "spillover")) {
  s <- subsets[[eff]]
  add("itt", eff, lm_robust(voted ~ z, data = s, clusters = hh), "z",
      call = "lm_robust(voted ~ z, clusters = hh)")
  add("itt_fe_cov", eff,
      lm_robust(voted ~ z + x, data = s, fixed_effects = ~block, clusters = hh), "z",
      covariates = "x", blocks = "block",
      call = "lm_robust(voted ~ z + x, fixed_effects = ~block, clusters = hh)")
  add("itt_stata", eff, lm_robust(voted ~ z, data = s, clusters = hh, se_type = "stata"), "z",
      se_type = "stata", call = "lm_robust(voted ~ z, clusters = hh, se_type = 'stata')")
  add("cace", paste0(eff, "_per_contact"),
      iv_robust(voted ~ hh_contact | z, data = s, clusters = hh), "hh_contact",
      treatment = "contacted", call = "iv_robust(voted ~ hh_contact | z, clusters = hh)")
  add("cace_fe_cov", paste0(eff, "_per_contact"),
      iv_robust(voted ~ hh_contact + x | z + x, data = s, fixed_effects = ~block, clusters = hh),
      "hh_contact", covariates = "x", blocks = "block", treatment = "contacted",
      call = "iv_robust(voted ~ hh_contact + x | z + x, fixed_effects = ~block, clusters = hh)")
}
for (eff in c("direct_vs_placebo", "spillover_vs_placebo")) {
  s <- subsets[[eff]]
  add("placebo_contacted", eff, lm_robust(voted ~ z, data = s, clusters = hh), "z",
      treatment = "contacted", placebo = "recycling",
      call = "lm_robust(voted ~ z, data = contacted households of canvass/recycling, clusters = hh)")
}
res <- do.call(rbind, out)
num <- vapply(res, is.numeric, logical(1))
res[num] <- lapply(res[num], function(v) ifelse(is.na(v), NA, trimws(formatC(v, digits = 17, format = "g"))))
write.csv(res, file.path(out_dir, "spillover.csv"), row.names = FALSE, na = "")
cat("wrote", nrow(res), "rows to", file.path(out_dir, "spillover.csv"), "\n")
