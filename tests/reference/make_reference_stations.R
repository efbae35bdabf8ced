#!/usr/bin/env Rscript
# Reference values for polling-station estimates (issue 14 item 3): estimatr on the station
# table that tests/reference/make_stations_data.py builds with fieldexp from simulated
# legislative results, an assignment within communes and a door log.
#
#   PYTHONPATH=. .venv/bin/python tests/reference/make_stations_data.py   # stations_table.csv
#   Rscript tests/reference/make_reference_stations.R                       # stations.csv
#
# Every estimate is weighted by registered voters (inscrits). Writes stations.csv next to this
# script: case, the fieldexp arguments (function, outcome, treatment, blocks, covariates,
# se_type), the R call, and estimate, std_error, statistic, df, p_value, ci_low, ci_high, nobs
# (17 significant digits). Deterministic, no network.

suppressPackageStartupMessages(library(estimatr))
options(warn = 1, stringsAsFactors = FALSE)

args <- commandArgs(trailingOnly = FALSE)
script_path <- sub("^--file=", "", args[grep("^--file=", args)])
out_dir <- if (length(script_path)) dirname(normalizePath(script_path)) else normalizePath("tests/reference")
d <- read.csv(file.path(out_dir, "stations_table.csv"), colClasses = c(precinct_id = "character"))

cases <- list(
  list("dim_turnout_commune", "itt", "turnout", "", "commune_code", "", "",
       quote(difference_in_means(turnout ~ assigned, blocks = commune_code, weights = registered, data = d))),
  list("dim_share_dvg_commune", "itt", "share_DVG", "", "commune_code", "", "",
       quote(difference_in_means(share_DVG ~ assigned, blocks = commune_code, weights = registered, data = d))),
  list("dim_share_rn_circ", "itt", "share_RN", "", "constituency_id", "", "",
       quote(difference_in_means(share_RN ~ assigned, blocks = constituency_id, weights = registered, data = d))),
  list("dim_turnout_dept", "itt", "turnout", "", "department_code", "", "",
       quote(difference_in_means(turnout ~ assigned, blocks = department_code, weights = registered, data = d))),
  list("ols_turnout_cov", "itt", "turnout", "", "commune_code", "past_turnout;registered", "",
       quote(lm_robust(turnout ~ assigned + past_turnout + registered, fixed_effects = ~commune_code, weights = registered, data = d))),
  list("ols_share_dvg_cov_hc1", "itt", "share_DVG", "", "commune_code", "past_turnout", "HC1",
       quote(lm_robust(share_DVG ~ assigned + past_turnout, fixed_effects = ~commune_code, weights = registered, se_type = "HC1", data = d))),
  list("ols_share_eco_paris", "itt", "share_ECO", "", "commune_code", "", "",
       quote(lm_robust(share_ECO ~ assigned, fixed_effects = ~commune_code, weights = registered, data = d))),
  list("dose_turnout", "dose", "turnout", "dose", "commune_code", "", "",
       quote(iv_robust(turnout ~ dose | assigned, fixed_effects = ~commune_code, weights = registered, data = d))),
  list("dose_share_dvg_cov", "dose", "share_DVG", "dose", "commune_code", "past_turnout", "",
       quote(iv_robust(share_DVG ~ dose + past_turnout | assigned + past_turnout, fixed_effects = ~commune_code, weights = registered, data = d))),
  list("dose_share_dvg", "dose", "share_DVG", "dose", "commune_code", "", "",
       quote(iv_robust(share_DVG ~ dose | assigned, fixed_effects = ~commune_code, weights = registered, data = d))),
  list("dose_turnout_cov", "dose", "turnout", "dose", "commune_code", "past_turnout;registered", "",
       quote(iv_robust(turnout ~ dose + past_turnout + registered | assigned + past_turnout + registered, fixed_effects = ~commune_code, weights = registered, data = d))),
  list("dose_turnout_nofe_stata", "dose", "turnout", "dose", "", "", "stata",
       quote(iv_robust(turnout ~ dose | assigned, weights = registered, se_type = "stata", data = d))),
  list("dose_first_stage", "first", "dose", "", "commune_code", "", "",
       quote(lm_robust(dose ~ assigned, fixed_effects = ~commune_code, weights = registered, data = d)))
)

rows <- lapply(cases, function(cs) {
  fit <- eval(cs[[8]])
  term <- if (cs[[2]] == "dose") "dose" else "assigned"
  tt <- tidy(fit)
  r <- tt[tt$term == term, ]
  data.frame(
    case = cs[[1]], `function` = cs[[2]], outcome = cs[[3]], treatment = cs[[4]], blocks = cs[[5]],
    covariates = cs[[6]], se_type = cs[[7]], call = paste(deparse(cs[[8]], width.cutoff = 500L), collapse = " "),
    estimate = r$estimate, std_error = r$std.error, statistic = r$statistic, df = r$df,
    p_value = r$p.value, ci_low = r$conf.low, ci_high = r$conf.high, nobs = fit$nobs,
    check.names = FALSE
  )
})
out <- do.call(rbind, rows)
num <- c("estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high")
for (c in num) out[[c]] <- formatC(out[[c]], digits = 17, format = "g")
write.csv(out, file.path(out_dir, "stations.csv"), row.names = FALSE)
cat(sprintf("wrote %s (%d cases), estimatr %s\n", file.path(out_dir, "stations.csv"), nrow(out),
            as.character(packageVersion("estimatr"))))
