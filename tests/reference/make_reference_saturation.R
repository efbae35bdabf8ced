#!/usr/bin/env Rscript
# Reference values for fieldexp.spillover(saturation=...): the estimatr regressions underneath
# each contrast by saturation level, per assigned household (lm_robust) and per contact
# (iv_robust), in a two-stage design with blocked stage 1.
#
#   Rscript tests/reference/make_reference_saturation.R     # from the repo root
#
# Writes, next to this script:
#   saturation_households.csv  a simulated saturation experiment (Sinclair, McConnell & Green
#                              2012 style): 4 blocks x 6 neighbourhoods; within each block two
#                              neighbourhoods at saturation 0, 0.5 and 1 (stage 1 blocked);
#                              5-9 households per neighbourhood, 1-3 voters each, one targeted
#                              member; contact recorded on the targeted row (NA on housemates).
#   saturation.csv             one row per estimatr call: effect name as in
#                              SpilloverResult.saturation_effects, blocks (the fixed effects
#                              fx.spillover gets as blocks=, or empty), the R call, and estimate,
#                              std_error, statistic, df, p_value, ci_low, ci_high, nobs,
#                              nclusters (17 significant digits).
#
# Deterministic (set.seed), no network.

suppressPackageStartupMessages(library(estimatr))
options(warn = 1, stringsAsFactors = FALSE)

args <- commandArgs(trailingOnly = FALSE)
script_path <- sub("^--file=", "", args[grep("^--file=", args)])
out_dir <- if (length(script_path)) dirname(normalizePath(script_path)) else normalizePath("tests/reference")

set.seed(20120901)
rows <- list()
for (b in 1:4) {
  sats <- sample(rep(c(0, 0.5, 1), each = 2)) # stage 1 within the block
  for (j in 1:6) {
    nb <- sprintf("B%dN%d", b, j)
    n_hh <- sample(5:9, 1)
    k <- round(sats[j] * n_hh)
    z_hh <- sample(c(rep(1L, k), rep(0L, n_hh - k))) # stage 2 within the neighbourhood
    for (h in seq_len(n_hh)) {
      answers <- rbinom(1, 1, 0.4)
      size <- sample(1:3, 1, prob = c(0.2, 0.6, 0.2))
      for (m in seq_len(size)) {
        tgt <- as.integer(m == 1)
        contacted <- if (tgt == 1) as.integer(z_hh[h] == 1 & answers == 1) else NA_integer_
        eff <- if (z_hh[h] == 1 && answers == 1) (if (tgt == 1) 0.12 else 0.07) else 0
        eff <- eff + 0.04 * sats[j] # spillover between households grows with saturation
        p <- 0.35 + 0.05 * answers + 0.03 * b + eff
        rows[[length(rows) + 1]] <- data.frame(
          voter = length(rows) + 1, hh = sprintf("%sH%d", nb, h), nbhd = nb, block = b,
          saturation = sats[j], z = z_hh[h], targeted = tgt, contacted = contacted,
          voted = rbinom(1, 1, p)
        )
      }
    }
  }
}
d <- do.call(rbind, rows)
write.csv(d, file.path(out_dir, "saturation_households.csv"), row.names = FALSE, na = "")

hh_contact <- tapply(ifelse(d$targeted == 1, d$contacted, 0), d$hh, max)
d$hh_contact <- as.numeric(hh_contact[d$hh])
pure <- d$saturation == 0

out <- list()
add <- function(effect, fit, term, call, blocks = NA) {
  t <- tidy(fit)
  t <- t[t$term == term, ]
  out[[length(out) + 1]] <<- data.frame(
    effect = effect, blocks = blocks, call = call,
    estimate = t$estimate, std_error = t$std.error, statistic = t$statistic, df = t$df,
    p_value = t$p.value, ci_low = t$conf.low, ci_high = t$conf.high,
    nobs = fit$nobs, nclusters = fit$nclusters
  )
}
for (s in c(0.5, 1)) {
  tag <- format(s)
  at <- d$saturation == s
  for (who in c("direct", "within")) {
    member <- if (who == "direct") d$targeted == 1 else d$targeted == 0
    sub <- d[member & ((d$z == 1 & at) | pure), ]
    add(paste0(who, "@", tag), lm_robust(voted ~ z, data = sub, clusters = nbhd), "z",
        "lm_robust(voted ~ z, clusters = nbhd)")
    add(paste0(who, "_per_contact@", tag),
        iv_robust(voted ~ hh_contact | z, data = sub, clusters = nbhd), "hh_contact",
        "iv_robust(voted ~ hh_contact | z, clusters = nbhd)")
    # stage-1 blocks as fixed effects (every block has pure-control neighbourhoods)
    add(paste0(who, "@", tag),
        lm_robust(voted ~ z, data = sub, fixed_effects = ~block, clusters = nbhd), "z",
        "lm_robust(voted ~ z, fixed_effects = ~block, clusters = nbhd)", blocks = "block")
    add(paste0(who, "_per_contact@", tag),
        iv_robust(voted ~ hh_contact | z, data = sub, fixed_effects = ~block, clusters = nbhd),
        "hh_contact", "iv_robust(voted ~ hh_contact | z, fixed_effects = ~block, clusters = nbhd)",
        blocks = "block")
  }
  if (any(at & d$z == 0)) {
    sub <- d[(at & d$z == 0) | pure, ]
    sub$left_out <- as.integer(sub$saturation > 0)
    add(paste0("between@", tag), lm_robust(voted ~ left_out, data = sub, clusters = nbhd),
        "left_out", "lm_robust(voted ~ left_out, clusters = nbhd)")
  }
}
res <- do.call(rbind, out)
num <- vapply(res, is.numeric, logical(1))
res[num] <- lapply(res[num], function(v) ifelse(is.na(v), NA, trimws(formatC(v, digits = 17, format = "g"))))
write.csv(res, file.path(out_dir, "saturation.csv"), row.names = FALSE, na = "")
cat("wrote", nrow(res), "rows to", file.path(out_dir, "saturation.csv"), "\n")
