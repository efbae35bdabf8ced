# Reference values for fieldexp.diffindiff (two-way fixed effects) from R estimatr 1.0.0.
#
#   Rscript tests/diffindiff/make_reference_did.R            (from the repository root)
#
# Reads tests/diffindiff/data/twfe_panel.csv (60 units x 5 periods, staggered adoption, committed; made
# by a seeded numpy snippet, see tests/diffindiff/data/README.md) and, when present, ../shared/data/mpdta.csv
# (or $FIELDEXP_SHARED_DATA/mpdta.csv). Writes tests/diffindiff/reference_twfe.csv with 17 significant
# digits: one row per case, estimatr's tidy columns for the treatment coefficient.
suppressPackageStartupMessages(library(estimatr))

fmt <- function(x) sprintf("%.17g", x)

one <- function(case, fit, term, nclusters = NA) {
  s <- summary(fit)$coefficients
  data.frame(
    case = case,
    term = term,
    estimate = fmt(fit$coefficients[[term]]),
    std_error = fmt(fit$std.error[[term]]),
    statistic = fmt(fit$statistic[[term]]),
    df = fmt(fit$df[[term]]),
    p_value = fmt(fit$p.value[[term]]),
    ci_low = fmt(fit$conf.low[[term]]),
    ci_high = fmt(fit$conf.high[[term]]),
    nobs = fit$nobs,
    nclusters = if (is.null(fit$nclusters)) NA else fit$nclusters,
    stringsAsFactors = FALSE
  )
}

out <- list()
p <- read.csv("tests/diffindiff/data/twfe_panel.csv")

out[[length(out) + 1]] <- one("panel_hc1", lm_robust(y ~ treat, data = p, fixed_effects = ~ unit + period, se_type = "stata"), "treat")
out[[length(out) + 1]] <- one("panel_hc2", lm_robust(y ~ treat, data = p, fixed_effects = ~ unit + period, se_type = "HC2"), "treat")
out[[length(out) + 1]] <- one("panel_hc0_x", lm_robust(y ~ treat + x, data = p, fixed_effects = ~ unit + period, se_type = "HC0"), "treat")
out[[length(out) + 1]] <- one("panel_stata_unit", lm_robust(y ~ treat, data = p, fixed_effects = ~ unit + period, clusters = unit, se_type = "stata"), "treat")
out[[length(out) + 1]] <- one("panel_cr2_unit", lm_robust(y ~ treat, data = p, fixed_effects = ~ unit + period, clusters = unit, se_type = "CR2"), "treat")
out[[length(out) + 1]] <- one("panel_cr0_cluster_x", lm_robust(y ~ treat + x, data = p, fixed_effects = ~ unit + period, clusters = cluster, se_type = "CR0"), "treat")
out[[length(out) + 1]] <- one("panel_stata_cluster_w", lm_robust(y ~ treat + x, data = p, fixed_effects = ~ unit + period, clusters = cluster, weights = w, se_type = "stata"), "treat")
out[[length(out) + 1]] <- one("panel_hc1_w", lm_robust(y ~ treat, data = p, fixed_effects = ~ unit + period, weights = w, se_type = "stata"), "treat")

# the 2x2 case: periods 2 and 4, cohort-3 units against never-treated units
p22 <- subset(p, period %in% c(2, 4) & cohort %in% c(0, 3))
out[[length(out) + 1]] <- one("twobytwo_stata_unit", lm_robust(y ~ treat, data = p22, fixed_effects = ~ unit + period, clusters = unit, se_type = "stata"), "treat")
out[[length(out) + 1]] <- one("twobytwo_hc2", lm_robust(y ~ treat, data = p22, fixed_effects = ~ unit + period, se_type = "HC2"), "treat")

shared <- Sys.getenv("FIELDEXP_SHARED_DATA", "../shared/data")
mp_path <- file.path(shared, "mpdta.csv")
if (file.exists(mp_path)) {
  mp <- read.csv(mp_path)
  mp$treat <- as.numeric(mp$first.treat > 0 & mp$year >= mp$first.treat)
  out[[length(out) + 1]] <- one("mpdta_stata_county", lm_robust(lemp ~ treat, data = mp, fixed_effects = ~ countyreal + year, clusters = countyreal, se_type = "stata"), "treat")
  out[[length(out) + 1]] <- one("mpdta_cr2_county", lm_robust(lemp ~ treat, data = mp, fixed_effects = ~ countyreal + year, clusters = countyreal, se_type = "CR2"), "treat")
  out[[length(out) + 1]] <- one("mpdta_hc1", lm_robust(lemp ~ treat, data = mp, fixed_effects = ~ countyreal + year, se_type = "stata"), "treat")
  out[[length(out) + 1]] <- one("mpdta_stata_county_lpop", lm_robust(lemp ~ treat + lpop, data = transform(mp, lpop = lpop * (year - 2003)), fixed_effects = ~ countyreal + year, clusters = countyreal, se_type = "stata"), "treat")
  # dynamic TWFE event study (reference event time -1), one row per event-time coefficient
  rel <- ifelse(mp$first.treat > 0, mp$year - mp$first.treat, NA)
  for (e in c(-4, -3, -2, 0, 1, 2, 3)) {
    nm <- if (e < 0) paste0("em", -e) else paste0("e", e)
    mp[[nm]] <- as.numeric(!is.na(rel) & rel == e)
  }
  es <- lm_robust(lemp ~ em4 + em3 + em2 + e0 + e1 + e2 + e3, data = mp,
                  fixed_effects = ~ countyreal + year, clusters = countyreal, se_type = "stata")
  for (nm in c("em4", "em3", "em2", "e0", "e1", "e2", "e3")) {
    out[[length(out) + 1]] <- one(paste0("mpdta_es_", nm), es, nm)
  }
}

res <- do.call(rbind, out)
write.csv(res, "tests/diffindiff/reference_twfe.csv", row.names = FALSE, quote = FALSE)
cat("wrote", nrow(res), "cases to tests/diffindiff/reference_twfe.csv\n")
