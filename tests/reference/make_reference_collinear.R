#!/usr/bin/env Rscript
# Reference values for collinear regressors: what R estimatr 1.0.0 does when covariates are
# collinear (a multiple, an exact copy, a column constant within the fixed effects, a constant,
# a covariate equal to a block indicator), in lm_robust, lm_lin, iv_robust and the TWFE
# lm_robust(y ~ treat + x + zc, fixed_effects = ~unit + year). estimatr solves by Eigen's
# ColPivHouseholderQR: of a collinear set the column with the smaller norm left gets NA (of
# exact copies the later one); the other statistics are those of the fit without it.
#
#   Rscript tests/reference/make_reference_collinear.R
#
# Writes next to this script (deterministic, no network, seconds):
#   collinear_data.csv   simulated experiment (200 voters, 10 blocks, 40 clusters)
#   collinear_panel.csv  simulated panel (40 units x 5 years, a time-invariant covariate zc)
#   collinear.csv        one row per (case, se_type, term): the fieldexp call in machine-readable
#                        columns (fn, method, covariates ";"-separated, blocks, clusters, weights,
#                        treatment), the R call, and estimate, std_error, df, ci_low, ci_high
#                        (17 significant digits; NA where estimatr reports NA).

suppressPackageStartupMessages(library(estimatr))
options(warn = 1, stringsAsFactors = FALSE)

args <- commandArgs(trailingOnly = FALSE)
script_path <- sub("^--file=", "", args[grep("^--file=", args)])
out_dir <- if (length(script_path)) dirname(normalizePath(script_path)) else normalizePath("tests/reference")

set.seed(20261129)
n <- 200
d <- data.frame(
  blk = rep(sprintf("b%02d", 1:10), each = 20),
  cl = rep(sprintf("c%02d", 1:40), each = 5),
  x = round(rnorm(n), 6)
)
d$z <- as.integer(ave(runif(n), d$blk, FUN = function(u) rank(u) <= 10))
d$x2 <- 2 * d$x
d$x3 <- d$x
d$bc <- as.numeric(sub("b", "", d$blk)) %% 3
d$ind <- as.numeric(d$blk == "b02")
d$c <- 3
d$xn <- d$x + round(1e-6 * rnorm(n), 12)
d$w <- round(runif(n, 0.5, 2), 4)
d$d <- as.integer(d$z == 1 & runif(n) < 0.7)
d$y <- round(0.3 * d$z + d$x + 0.2 * d$bc + rnorm(n), 6)
write.csv(d, file.path(out_dir, "collinear_data.csv"), row.names = FALSE)

set.seed(7)
U <- 40; Tn <- 5
p <- data.frame(unit = rep(sprintf("u%02d", 1:U), each = Tn), year = rep(2001:(2000 + Tn), U))
g <- rep(sample(c(0, 1, 1), U, replace = TRUE), each = Tn)
start <- rep(sample(2003:2005, U, replace = TRUE), each = Tn)
p$treat <- as.integer(g == 1 & p$year >= start)
p$x <- round(rnorm(nrow(p)), 6)
p$zc <- rep(round(rnorm(U), 6), each = Tn)
p$y <- round(0.5 * p$treat + p$x + p$zc + rnorm(nrow(p)), 6)
write.csv(p, file.path(out_dir, "collinear_panel.csv"), row.names = FALSE)

hc <- c("HC0", "HC1", "HC2", "HC3", "stata")
cr <- c("CR0", "CR2", "stata")
# case, fn, method, covariates, blocks, clusters?, weights, data, R call builder(se, clustered)
cases <- list(
  list("ols_x_x2", "itt", "ols", "x;x2", "", "",
       function(se, cv) lm_robust(y ~ z + x + x2, data = d, se_type = se, clusters = cv)),
  list("ols_x2_x", "itt", "ols", "x2;x", "", "",
       function(se, cv) lm_robust(y ~ z + x2 + x, data = d, se_type = se, clusters = cv)),
  list("ols_copy", "itt", "ols", "x;x3", "", "",
       function(se, cv) lm_robust(y ~ z + x + x3, data = d, se_type = se, clusters = cv)),
  list("ols_const", "itt", "ols", "c;x", "", "",
       function(se, cv) lm_robust(y ~ z + c + x, data = d, se_type = se, clusters = cv)),
  list("ols_near", "itt", "ols", "x;xn", "", "",
       function(se, cv) lm_robust(y ~ z + x + xn, data = d, se_type = se, clusters = cv)),
  list("ols_x_x2_w", "itt", "ols", "x;x2", "", "w",
       function(se, cv) lm_robust(y ~ z + x + x2, data = d, se_type = se, clusters = cv, weights = w)),
  list("lin_x_x2", "itt", "lin", "x;x2", "", "",
       function(se, cv) lm_lin(y ~ z, covariates = ~ x + x2, data = d, se_type = se, clusters = cv)),
  list("lin_x2_x", "itt", "lin", "x2;x", "", "",
       function(se, cv) lm_lin(y ~ z, covariates = ~ x2 + x, data = d, se_type = se, clusters = cv)),
  list("lin_x_x2_w", "itt", "lin", "x;x2", "", "w",
       function(se, cv) lm_lin(y ~ z, covariates = ~ x + x2, data = d, se_type = se, clusters = cv, weights = w)),
  list("ols_fe_bc", "itt", "ols", "x;bc", "blk", "",
       function(se, cv) lm_robust(y ~ z + x + bc, fixed_effects = ~blk, data = d, se_type = se, clusters = cv)),
  list("ols_fe_ind", "itt", "ols", "ind;x", "blk", "",
       function(se, cv) lm_robust(y ~ z + ind + x, fixed_effects = ~blk, data = d, se_type = se, clusters = cv)),
  list("lin_fe_bc", "itt", "lin", "x;bc", "blk", "",
       function(se, cv) lm_lin(y ~ z, covariates = ~ x + bc + blk, data = d, se_type = se, clusters = cv)),
  list("cace_x_x2", "cace", "2sls", "x;x2", "", "",
       function(se, cv) iv_robust(y ~ d + x + x2 | z + x + x2, data = d, se_type = se, clusters = cv)),
  list("cace_fe_bc", "cace", "2sls", "x;bc", "blk", "",
       function(se, cv) iv_robust(y ~ d + x + bc | z + x + bc, fixed_effects = ~blk, data = d, se_type = se, clusters = cv)),
  list("cace_x_x2_w", "cace", "2sls", "x;x2", "", "w",
       function(se, cv) iv_robust(y ~ d + x + x2 | z + x + x2, data = d, se_type = se, clusters = cv, weights = w))
)

fmt <- function(v) ifelse(is.na(v), "NA", formatC(v, digits = 17, format = "g"))
rows <- list()
emit <- function(case, fn, method, covs, blocks, clusters, weights, se, fit, call) {
  tt <- tidy(fit)
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, fn = fn, method = method, covariates = covs, blocks = blocks,
    clusters = clusters, weights = weights, se_type = se, term = tt$term,
    estimate = fmt(tt$estimate), std_error = fmt(tt$std.error), df = fmt(tt$df),
    ci_low = fmt(tt$conf.low), ci_high = fmt(tt$conf.high), nobs = nobs(fit), call = call
  )
}
for (cs in cases) {
  # "stata" is in both passes: HC1 unclustered, CR1 (G - 1 df) clustered
  for (pass in 1:2) {
    ses <- if (pass == 1) hc else cr
    for (se in ses) {
      cl_arg <- if (pass == 2) d$cl else NULL
      if (cs[[6]] == "w" && se == "CR2" && cs[[5]] != "") next  # estimatr refuses
      fit <- tryCatch(cs[[7]](se, cl_arg), error = function(e) e)
      if (inherits(fit, "error")) {
        message(cs[[1]], " ", se, ": ", conditionMessage(fit)); next
      }
      call <- paste(deparse(body(cs[[7]]), width.cutoff = 500L), collapse = " ")
      emit(cs[[1]], cs[[2]], cs[[3]], cs[[4]], cs[[5]], if (pass == 2) "cl" else "",
           cs[[6]], se, fit, call)
    }
  }
}

# TWFE with a time-invariant covariate: zc is absorbed by the unit effects (NA)
for (pass in 1:2) {
  ses <- if (pass == 1) c("HC0", "HC1", "HC2", "HC3") else cr
  for (se in ses) {
    fit <- if (pass == 1) {
      lm_robust(y ~ treat + x + zc, fixed_effects = ~unit + year, data = p, se_type = se)
    } else {
      lm_robust(y ~ treat + x + zc, fixed_effects = ~unit + year, data = p, se_type = se, clusters = unit)
    }
    emit("did_zc", "did", "twfe", "x;zc", "", if (pass == 2) "unit" else "", "", se, fit,
         "lm_robust(y ~ treat + x + zc, fixed_effects = ~unit + year, clusters = unit)")
  }
}

out <- do.call(rbind, rows)
write.csv(out, file.path(out_dir, "collinear.csv"), row.names = FALSE)
cat(sprintf("collinear.csv: %d rows (estimatr %s, R %s)\n", nrow(out),
            as.character(packageVersion("estimatr")), R.version.string))
