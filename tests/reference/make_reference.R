#!/usr/bin/env Rscript
# Reference values for fieldexp's ITT / CACE estimators, computed with R estimatr (the oracle).
#
#   make reference        # from the repo root, same as: Rscript tests/reference/make_reference.R
#
# Options (or environment variables):
#   --shared-data DIR   FIELDEXP_SHARED_DATA   real experiments (default: <repo>/../shared/data)
#   --fixtures DIR      FIELDEXP_FIXTURES      simulator fixtures (default: <repo>/fixtures)
#   --out DIR           FIELDEXP_REFERENCE_OUT where the CSVs go (default: the folder of this script)
#   --skip-slow                                skip the CR2 fits on the 7,090-voter New Haven subset
#
# Writes (see tests/reference/README.md):
#   reference.csv   one row per estimatr call that succeeded: the machine-readable arguments
#                   (method, outcome, assignment, treatment, blocks, clusters, covariates, se_type,
#                   weights, subset, alpha, stage) that rebuild the call with fieldexp, the R call as
#                   text, and estimatr's estimate, std_error, statistic, df, p_value, ci_low, ci_high,
#                   nobs, nclusters (17 significant digits, i.e. the exact doubles).
#   refused.csv     calls of the case matrix that estimatr refuses, with its error message.
#   versions.txt    R and package versions, input file checksums.
#
# Deterministic, no network. A data set whose file is missing is skipped with a message
# (the committed CSVs must be generated with every input present: the script says so at the end).

suppressPackageStartupMessages({
  library(estimatr)
})

options(warn = 1, stringsAsFactors = FALSE)
set.seed(20240601) # estimatr draws temporary variable names with sample.int; results do not depend on it

# ------------------------------------------------------------------ paths and arguments
args <- commandArgs(trailingOnly = FALSE)
script_path <- sub("^--file=", "", args[grep("^--file=", args)])
script_dir <- if (length(script_path)) dirname(normalizePath(script_path)) else normalizePath("tests/reference")
repo_root <- normalizePath(file.path(script_dir, "..", ".."))
targs <- commandArgs(trailingOnly = TRUE)
opt <- function(flag, env, default) {
  i <- match(flag, targs)
  if (!is.na(i) && i < length(targs)) return(targs[i + 1])
  v <- Sys.getenv(env, "")
  if (nzchar(v)) return(v)
  default
}
shared_dir <- opt("--shared-data", "FIELDEXP_SHARED_DATA", file.path(repo_root, "..", "shared", "data"))
fixtures_dir <- opt("--fixtures", "FIELDEXP_FIXTURES", file.path(repo_root, "fixtures"))
out_dir <- opt("--out", "FIELDEXP_REFERENCE_OUT", script_dir)
skip_slow <- "--skip-slow" %in% targs
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

t_start <- Sys.time()
inputs <- list() # file name -> md5 of what was read, for versions.txt
missing_inputs <- character()

read_input <- function(dir, file) {
  path <- file.path(dir, file)
  if (!file.exists(path)) {
    message("  [skip] ", path, " not found")
    missing_inputs <<- c(missing_inputs, path)
    return(NULL)
  }
  inputs[[file]] <<- unname(tools::md5sum(path)) # checksum of the bytes actually read
  read.csv(path)
}

# ------------------------------------------------------------------ data objects
# Every data object the calls use lives in `D` under the name that appears in the `call` column;
# the `subset` column names the same filter, implemented again in tests/reference/_load.py.
D <- new.env()
message("reading data")
experiment_small <- read_input(fixtures_dir, "experiment_small.csv")
if (!is.null(experiment_small)) D$experiment_small <- experiment_small
experiment_pairs <- read_input(fixtures_dir, "experiment_pairs.csv")
if (!is.null(experiment_pairs)) D$experiment_pairs <- experiment_pairs
experiment_pairs_clustered <- read_input(fixtures_dir, "experiment_pairs_clustered.csv")
if (!is.null(experiment_pairs_clustered)) D$experiment_pairs_clustered <- experiment_pairs_clustered

nh <- read_input(shared_dir, "new_haven_1998_individual.csv")
if (!is.null(nh)) {
  D$nh <- nh
  # FEDAI ch. 5 sample: one-person households, canvassing only (no phone, no mail)
  D$nh_fedai <- subset(nh, onetreat == 1 & mailings == 0 & phongotv == 0 & persons == 1)
  # raw coding quirks: v98_1 == 99 and age1 == 999 mean missing
  D$nh_valid_v98_1 <- subset(nh, v98_1 != 99)
  D$nh_valid_age1 <- subset(nh, age1 != 999)
}
kc <- read_input(shared_dir, "arceneaux_2005.csv")
if (!is.null(kc)) D$kc <- kc
bj <- read_input(shared_dir, "guan_green_2006.csv")
if (!is.null(bj)) D$beijing <- bj[complete.cases(bj), ]
fh <- read_input(shared_dir, "fieldhouse_etal_2010.csv")
if (!is.null(fh)) {
  D$fieldhouse <- fh
  # canvassing was randomised within the phone arm only
  D$fieldhouse_phone_arm <- subset(fh, p == 1)
}

# data object -> (file relative to the repo root, subset name) for the CSV
DATASETS <- list(
  experiment_small = c("fixtures/experiment_small.csv", "all"),
  experiment_pairs = c("fixtures/experiment_pairs.csv", "all"),
  experiment_pairs_clustered = c("fixtures/experiment_pairs_clustered.csv", "all"),
  nh = c("../shared/data/new_haven_1998_individual.csv", "all"),
  nh_fedai = c("../shared/data/new_haven_1998_individual.csv", "nh_fedai"),
  nh_valid_v98_1 = c("../shared/data/new_haven_1998_individual.csv", "nh_valid_v98_1"),
  nh_valid_age1 = c("../shared/data/new_haven_1998_individual.csv", "nh_valid_age1"),
  kc = c("../shared/data/arceneaux_2005.csv", "all"),
  beijing = c("../shared/data/guan_green_2006.csv", "beijing_complete"),
  fieldhouse = c("../shared/data/fieldhouse_etal_2010.csv", "all"),
  fieldhouse_phone_arm = c("../shared/data/fieldhouse_etal_2010.csv", "fieldhouse_phone_arm")
)

# ------------------------------------------------------------------ building calls
# A case is described by the arguments of fieldexp's API; the estimatr call is built from them,
# so the machine-readable columns and the R call cannot disagree.
#   method "dim":  difference_in_means(y ~ z, blocks =, clusters =, weights =)
#   method "ols":  lm_robust(y ~ z + covs, fixed_effects = ~ blocks, clusters =, se_type =, weights =)
#   method "lin":  lm_lin(y ~ z, covariates = ~ covs + factor(blocks), clusters =, se_type =, weights =)
#   method "2sls": iv_robust(y ~ d + covs | z + covs, fixed_effects = ~ blocks, ...) and its first
#                  stage lm_robust(d ~ z + covs, fixed_effects = ~ blocks, ...) as a separate row
sym <- as.name
rhs_sum <- function(terms) Reduce(function(a, b) call("+", a, b), lapply(terms, function(t) str2lang(t)))

build_call <- function(s, stage) {
  covs <- s$covariates
  y <- sym(s$outcome)
  z <- sym(s$assignment)
  data_arg <- sym(s$data)
  extra <- list()
  add_common <- function(cl, fe = TRUE) {
    if (fe && !is.na(s$blocks)) cl$fixed_effects <- call("~", sym(s$blocks))
    if (!is.na(s$clusters)) cl$clusters <- sym(s$clusters)
    if (!is.na(s$se_type)) cl$se_type <- s$se_type
    if (!is.na(s$weights)) cl$weights <- sym(s$weights)
    if (s$alpha != 0.05) cl$alpha <- s$alpha
    cl
  }
  if (s$method == "dim") {
    cl <- call("difference_in_means", formula = call("~", y, z), data = data_arg)
    if (!is.na(s$blocks)) cl$blocks <- sym(s$blocks)
    if (!is.na(s$clusters)) cl$clusters <- sym(s$clusters)
    if (!is.na(s$weights)) cl$weights <- sym(s$weights)
    if (s$alpha != 0.05) cl$alpha <- s$alpha
    return(cl)
  }
  if (s$method == "ols" || (s$method == "2sls" && stage == "first")) {
    lhs <- if (s$method == "2sls") sym(s$treatment) else y
    f <- call("~", lhs, rhs_sum(c(s$assignment, covs)))
    return(add_common(call("lm_robust", formula = f, data = data_arg)))
  }
  if (s$method == "lin") {
    cov_terms <- c(covs, if (!is.na(s$blocks)) sprintf("factor(%s)", s$blocks))
    cl <- call("lm_lin", formula = call("~", y, z), covariates = call("~", rhs_sum(cov_terms)), data = data_arg)
    return(add_common(cl, fe = FALSE))
  }
  if (s$method == "2sls") {
    f <- call("~", y, call("|", rhs_sum(c(s$treatment, covs)), rhs_sum(c(s$assignment, covs))))
    return(add_common(call("iv_robust", formula = f, data = data_arg)))
  }
  stop("unknown method ", s$method)
}

deparse1line <- function(cl) paste(trimws(deparse(cl, width.cutoff = 500L)), collapse = " ")

# ------------------------------------------------------------------ running cases
rows <- list()
refused <- list()
to_extend <- list() # refused weighted CR2 + fixed effects calls, computed with clubSandwich below
seen <- character()

num_or_na <- function(x) if (is.null(x) || length(x) == 0) NA_real_ else as.numeric(x)

extract <- function(fit, term) {
  if (inherits(fit, "difference_in_means")) {
    i <- 1L
  } else {
    i <- match(term, names(fit$coefficients))
    if (is.na(i)) stop("term ", term, " not in fit: ", paste(names(fit$coefficients), collapse = ", "))
  }
  list(
    estimate = num_or_na(fit$coefficients[i]),
    std_error = num_or_na(fit$std.error[i]),
    statistic = num_or_na(fit$statistic[i]),
    df = num_or_na(fit$df[i]),
    p_value = num_or_na(fit$p.value[i]),
    ci_low = num_or_na(fit$conf.low[i]),
    ci_high = num_or_na(fit$conf.high[i]),
    nobs = num_or_na(fit$nobs),
    nclusters = num_or_na(fit$nclusters),
    se_type_resolved = if (!is.null(fit$se_type)) fit$se_type else NA_character_,
    design = if (!is.null(fit$design)) fit$design else NA_character_
  )
}

run_one <- function(s, stage) {
  cl <- build_call(s, stage)
  fun <- as.character(cl[[1]])
  case <- if (stage == "first") paste0(s$case, "__first_stage") else s$case
  term <- if (s$method == "2sls" && stage == "second") s$treatment else s$assignment
  warns <- character()
  t0 <- proc.time()[["elapsed"]]
  fit <- tryCatch(
    withCallingHandlers(eval(cl, envir = D),
      warning = function(w) {
        warns <<- c(warns, conditionMessage(w))
        invokeRestart("muffleWarning")
      },
      message = function(m) {
        warns <<- c(warns, trimws(conditionMessage(m)))
        invokeRestart("muffleMessage")
      }
    ),
    error = function(e) e
  )
  secs <- proc.time()[["elapsed"]] - t0
  ds <- DATASETS[[s$data]]
  meta <- list(
    case = case, `function` = fun, call = deparse1line(cl), dataset = ds[1], subset = ds[2],
    method = s$method, stage = if (s$method == "2sls") stage else "itt",
    outcome = s$outcome, assignment = s$assignment, treatment = s$treatment, term = term,
    blocks = s$blocks, clusters = s$clusters,
    covariates = if (length(s$covariates)) paste(s$covariates, collapse = ";") else NA_character_,
    fixed_effects = if (fun %in% c("lm_robust", "iv_robust") && !is.na(s$blocks)) paste0("~", s$blocks) else NA_character_,
    se_type = s$se_type, weights = s$weights, alpha = s$alpha
  )
  if (inherits(fit, "error")) {
    msg <- gsub("\\s+", " ", conditionMessage(fit))
    message(sprintf("  %-55s REFUSED: %s", case, msg))
    # "design": the data break a rule of the design (fieldexp must raise too);
    # "estimatr": a limitation of estimatr (fieldexp may compute it; no reference value)
    kind <- if (grepl("same treatment condition|must have multiple units|at least two treated|both treatment conditions|more than one value", msg)) "design" else "estimatr"
    refused[[length(refused) + 1]] <<- c(meta, list(kind = kind, error = msg))
    if (grepl("fixed_effects` with weighted CR2", msg, fixed = TRUE)) {
      to_extend[[length(to_extend) + 1]] <<- list(s = s, stage = stage, meta = meta)
    }
    return(invisible(NULL))
  }
  vals <- extract(fit, term)
  if (fun == "difference_in_means" && is.na(s$clusters)) {
    # estimatr reports nclusters = 0 for blocked / matched-pair designs without clusters
    # (a sum over a NULL column); there are no clusters: record NA
    vals$nclusters <- NA_real_
  }
  if (!is.finite(vals$estimate) || !is.finite(vals$std_error)) {
    msg <- sprintf("degenerate result (estimate %s, std.error %s)", vals$estimate, vals$std_error)
    message(sprintf("  %-55s REFUSED: %s", case, msg))
    refused[[length(refused) + 1]] <<- c(meta, list(kind = "degenerate", error = msg))
    return(invisible(NULL))
  }
  message(sprintf("  %-55s %9.3fs  est=%.6g se=%.6g df=%.6g", case, secs, vals$estimate, vals$std_error, vals$df))
  rows[[length(rows) + 1]] <<- c(meta, vals, list(warnings = if (length(warns)) paste(unique(gsub("\\s+", " ", warns)), collapse = " | ") else NA_character_))
}

run_case <- function(case, data, method, outcome, assignment, treatment = NA_character_,
                     blocks = NA_character_, clusters = NA_character_, covariates = character(),
                     se_type = NA_character_, weights = NA_character_, alpha = 0.05) {
  if (case %in% seen) stop("duplicate case name ", case)
  seen <<- c(seen, case)
  if (is.null(D[[data]])) return(invisible(NULL))
  s <- list(
    case = case, data = data, method = method, outcome = outcome, assignment = assignment,
    treatment = treatment, blocks = blocks, clusters = clusters, covariates = covariates,
    se_type = se_type, weights = weights, alpha = alpha
  )
  if (method == "2sls") run_one(s, "first")
  run_one(s, "second")
}

# ================================================================== the case matrix
# ---------------------------------------------------------- 1. simulator fixture
COVS <- c("voted_2016", "voted_2018", "voted_2020", "age")
SE_UNCLUSTERED <- c(NA, "HC0", "HC1", "HC2", "HC3", "stata")
SE_CLUSTERED <- c(NA, "CR0", "CR2", "stata")
se_label <- function(se) if (is.na(se)) "default" else tolower(se)

if (!is.null(D$experiment_small)) {
  message("fixture: experiment_small")
  fx <- function(case, ...) run_case(paste0("fx_", case), "experiment_small", ...)

  # difference in means: standard (Welch), blocked, clustered, blocked-and-clustered, each weighted too
  for (w in c(NA, "weight")) {
    wl <- if (is.na(w)) "" else "_w"
    fx(paste0("dim_standard", wl), "dim", "voted", "assigned", weights = w)
    fx(paste0("dim_blocked", wl), "dim", "voted", "assigned", blocks = "precinct_id", weights = w)
    fx(paste0("dim_clustered", wl), "dim", "voted", "assigned", clusters = "household_id", weights = w)
    fx(paste0("dim_blocked_clustered", wl), "dim", "voted", "assigned", blocks = "precinct_id", clusters = "household_id", weights = w)
  }
  # precincts as clusters: the assignment varies within them, estimatr refuses (kept in refused.csv)
  fx("dim_clustered_precinct", "dim", "voted", "assigned", clusters = "precinct_id")
  fx("dim_standard_registered", "dim", "registered_after", "assigned")
  fx("dim_blocked_clustered_registered", "dim", "registered_after", "assigned", blocks = "precinct_id", clusters = "household_id")
  fx("dim_standard_alpha10", "dim", "voted", "assigned", alpha = 0.10)
  fx("dim_blocked_clustered_alpha10", "dim", "voted", "assigned", blocks = "precinct_id", clusters = "household_id", alpha = 0.10)

  # OLS (lm_robust): se types x covariates x precinct fixed effects x weights
  for (cl in c(NA, "household_id")) {
    ses <- if (is.na(cl)) SE_UNCLUSTERED else SE_CLUSTERED
    for (se in ses) for (cv in c(FALSE, TRUE)) for (fe in c(FALSE, TRUE)) for (w in c(NA, "weight")) {
      name <- paste0(
        "ols_", se_label(se), if (!is.na(cl)) "_hh" else "", if (cv) "_cov" else "",
        if (fe) "_fe" else "", if (!is.na(w)) "_w" else ""
      )
      fx(name, "ols", "voted", "assigned",
        blocks = if (fe) "precinct_id" else NA, clusters = cl,
        covariates = if (cv) COVS else character(), se_type = se, weights = w
      )
    }
  }
  # large clusters: precincts (the assignment varies within them; CR2 with few, big clusters)
  for (se in c("CR2", "CR0", "stata")) for (cv in c(FALSE, TRUE)) {
    fx(paste0("ols_", tolower(se), "_precinct", if (cv) "_cov" else ""), "ols", "voted", "assigned",
      clusters = "precinct_id", covariates = if (cv) COVS else character(), se_type = se
    )
  }
  fx("ols_cr2_precinct_cov_w", "ols", "voted", "assigned", clusters = "precinct_id", covariates = COVS, se_type = "CR2", weights = "weight")
  fx("ols_cr2_precinct_cov_fe", "ols", "voted", "assigned", blocks = "precinct_id", clusters = "precinct_id", covariates = COVS, se_type = "CR2")
  fx("ols_hc2_cov_fe_registered", "ols", "registered_after", "assigned", blocks = "precinct_id", covariates = COVS, se_type = "HC2")
  fx("ols_cr2_hh_cov_fe_registered", "ols", "registered_after", "assigned", blocks = "precinct_id", clusters = "household_id", covariates = COVS, se_type = "CR2")
  fx("ols_cr2_hh_cov_fe_alpha10", "ols", "voted", "assigned", blocks = "precinct_id", clusters = "household_id", covariates = COVS, se_type = "CR2", alpha = 0.10)

  # Lin (lm_lin): se types x (covariates | covariates + block indicators | block indicators) x weights
  for (cl in c(NA, "household_id")) {
    ses <- if (is.na(cl)) SE_UNCLUSTERED else SE_CLUSTERED
    for (se in ses) for (spec in c("cov", "cov_blocks", "blocks")) for (w in c(NA, "weight")) {
      name <- paste0("lin_", se_label(se), if (!is.na(cl)) "_hh" else "", "_", spec, if (!is.na(w)) "_w" else "")
      fx(name, "lin", "voted", "assigned",
        blocks = if (spec != "cov") "precinct_id" else NA, clusters = cl,
        covariates = if (spec != "blocks") COVS else character(), se_type = se, weights = w
      )
    }
  }
  fx("lin_cr2_precinct_cov", "lin", "voted", "assigned", clusters = "precinct_id", covariates = COVS, se_type = "CR2")
  fx("lin_hc2_cov_blocks_registered", "lin", "registered_after", "assigned", blocks = "precinct_id", covariates = COVS, se_type = "HC2")
  fx("lin_cr2_hh_cov_blocks_registered", "lin", "registered_after", "assigned", blocks = "precinct_id", clusters = "household_id", covariates = COVS)

  # CACE (iv_robust) + first stage: se types x covariates x fixed effects x weights
  for (cl in c(NA, "household_id")) {
    ses <- if (is.na(cl)) SE_UNCLUSTERED else SE_CLUSTERED
    for (se in ses) for (cv in c(FALSE, TRUE)) for (fe in c(FALSE, TRUE)) for (w in c(NA, "weight")) {
      name <- paste0(
        "cace_", se_label(se), if (!is.na(cl)) "_hh" else "", if (cv) "_cov" else "",
        if (fe) "_fe" else "", if (!is.na(w)) "_w" else ""
      )
      fx(name, "2sls", "voted", "assigned", treatment = "contacted",
        blocks = if (fe) "precinct_id" else NA, clusters = cl,
        covariates = if (cv) COVS else character(), se_type = se, weights = w
      )
    }
  }
  fx("cace_cr2_precinct_cov", "2sls", "voted", "assigned", treatment = "contacted", clusters = "precinct_id", covariates = COVS, se_type = "CR2")
  # issue 9: clusters coarser than the assignment with blocks, and the same column as fixed
  # effect (or Lin's block indicators) and cluster
  for (se in SE_CLUSTERED) {
    fx(paste0("ols_", se_label(se), "_precinct_cov_fe_same"), "ols", "voted", "assigned", blocks = "precinct_id", clusters = "precinct_id", covariates = COVS, se_type = se)
    fx(paste0("lin_", se_label(se), "_precinct_cov_blocks_same"), "lin", "voted", "assigned", blocks = "precinct_id", clusters = "precinct_id", covariates = COVS, se_type = se)
    fx(paste0("cace_", se_label(se), "_precinct_cov_fe_same"), "2sls", "voted", "assigned", treatment = "contacted", blocks = "precinct_id", clusters = "precinct_id", covariates = COVS, se_type = se)
    if (!identical(se, "CR2")) { # fx_lin_cr2_precinct_cov above
      fx(paste0("lin_", se_label(se), "_precinct_cov"), "lin", "voted", "assigned", clusters = "precinct_id", covariates = COVS, se_type = se)
    }
  }
  fx("lin_stata_precinct_cov_blocks_same_w", "lin", "voted", "assigned", blocks = "precinct_id", clusters = "precinct_id", covariates = COVS, se_type = "stata", weights = "weight")
  fx("cace_cr0_precinct_cov_w", "2sls", "voted", "assigned", treatment = "contacted", clusters = "precinct_id", covariates = COVS, se_type = "CR0", weights = "weight")
  fx("cace_cr2_hh_cov_fe_registered", "2sls", "registered_after", "assigned", treatment = "contacted", blocks = "precinct_id", clusters = "household_id", covariates = COVS, se_type = "CR2")
  fx("cace_stata_hh_cov_fe_alpha10", "2sls", "voted", "assigned", treatment = "contacted", blocks = "precinct_id", clusters = "household_id", covariates = COVS, se_type = "stata", alpha = 0.10)
}

if (!is.null(D$experiment_pairs)) {
  message("fixture: experiment_pairs (40 pairs of voters living alone)")
  px <- function(case, ...) run_case(paste0("fx_pairs_", case), "experiment_pairs", ...)
  px("dim", "dim", "voted", "assigned", blocks = "pair_id")
  px("dim_alpha10", "dim", "voted", "assigned", blocks = "pair_id", alpha = 0.10)
  px("dim_w", "dim", "voted", "assigned", blocks = "pair_id", weights = "weight") # refused by estimatr
  # household_id is unique per row here: two singleton clusters per pair (the clustered formula)
  px("dim_singleton_clusters", "dim", "voted", "assigned", blocks = "pair_id", clusters = "household_id")
  # the same pairs through regression: pair fixed effects
  px("ols_hc2_fe", "ols", "voted", "assigned", blocks = "pair_id", se_type = "HC2")
  px("ols_hc1_fe_cov", "ols", "voted", "assigned", blocks = "pair_id", covariates = c("voted_2016", "age"), se_type = "HC1")
  px("cace_hc2_fe", "2sls", "voted", "assigned", treatment = "contacted", blocks = "pair_id", se_type = "HC2")
}

if (!is.null(D$experiment_pairs_clustered)) {
  message("fixture: experiment_pairs_clustered (40 pairs of households)")
  pcx <- function(case, ...) run_case(paste0("fx_cpairs_", case), "experiment_pairs_clustered", ...)
  pcx("dim", "dim", "voted", "assigned", blocks = "pair_id", clusters = "household_id")
  pcx("dim_alpha10", "dim", "voted", "assigned", blocks = "pair_id", clusters = "household_id", alpha = 0.10)
  pcx("dim_w", "dim", "voted", "assigned", blocks = "pair_id", clusters = "household_id", weights = "weight") # refused
  # ignoring the clusters: blocks of voters, 2+ voters per pair -> matched-pair formula on voters
  pcx("dim_unclustered", "dim", "voted", "assigned", blocks = "pair_id")
  pcx("dim_clustered_no_blocks", "dim", "voted", "assigned", clusters = "household_id")
  pcx("dim_clustered_no_blocks_w", "dim", "voted", "assigned", clusters = "household_id", weights = "weight")
  pcx("ols_cr2_fe", "ols", "voted", "assigned", blocks = "pair_id", clusters = "household_id", se_type = "CR2")
  pcx("ols_stata_fe", "ols", "voted", "assigned", blocks = "pair_id", clusters = "household_id", se_type = "stata")
  pcx("ols_cr0_fe_w", "ols", "voted", "assigned", blocks = "pair_id", clusters = "household_id", se_type = "CR0", weights = "weight")
  pcx("cace_cr2_fe", "2sls", "voted", "assigned", treatment = "contacted", blocks = "pair_id", clusters = "household_id", se_type = "CR2")
  pcx("cace_stata_fe_w", "2sls", "voted", "assigned", treatment = "contacted", blocks = "pair_id", clusters = "household_id", se_type = "stata", weights = "weight")
}

# ---------------------------------------------------------- 2. real experiments
if (!is.null(D$nh)) {
  message("New Haven 1998")
  # the published cases of ../shared/data/reference_estimatr.csv (same names)
  run_case("nh_subset_itt_hc2", "nh_fedai", "ols", "v98", "persngrp")
  run_case("nh_subset_itt_d_hc2", "nh_fedai", "ols", "cntany", "persngrp")
  run_case("nh_subset_cace_hc2", "nh_fedai", "2sls", "v98", "persngrp", treatment = "cntany")
  run_case("nh_subset_cace_hc0", "nh_fedai", "2sls", "v98", "persngrp", treatment = "cntany", se_type = "HC0")
  run_case("nh_full_itt_stata", "nh", "ols", "v98", "persngrp", clusters = "id1", se_type = "stata")
  run_case("nh_full_cace_cr0", "nh", "2sls", "v98", "persngrp", treatment = "cntany", clusters = "id1", se_type = "CR0")
  run_case("nh_full_cace_stata", "nh", "2sls", "v98", "persngrp", treatment = "cntany", clusters = "id1", se_type = "stata")
  run_case("nh_full_factorial_stata_persngrp", "nh", "ols", "v98", "persngrp", clusters = "id1", covariates = c("phongotv", "mailings"), se_type = "stata")
  run_case("nh_full_ward_fe_stata", "nh", "ols", "v98", "persngrp", blocks = "ward", clusters = "id1", covariates = "v96_1", se_type = "stata")
  run_case("nh_full_lin_stata", "nh", "lin", "v98", "persngrp", clusters = "id1", covariates = c("v96_1", "majorpty", "age"), se_type = "stata")
  # more: FEDAI subset
  for (se in c("HC1", "HC3", "stata")) {
    run_case(paste0("nh_subset_itt_", tolower(se)), "nh_fedai", "ols", "v98", "persngrp", se_type = se)
    run_case(paste0("nh_subset_cace_", tolower(se)), "nh_fedai", "2sls", "v98", "persngrp", treatment = "cntany", se_type = se)
  }
  run_case("nh_subset_dim", "nh_fedai", "dim", "v98", "persngrp")
  run_case("nh_subset_dim_blocked_ward", "nh_fedai", "dim", "v98", "persngrp", blocks = "ward")
  run_case("nh_subset_lin_hc2", "nh_fedai", "lin", "v98", "persngrp", covariates = c("v96_1", "majorpty", "age"), se_type = "HC2")
  run_case("nh_subset_lin_ward_hc2", "nh_fedai", "lin", "v98", "persngrp", blocks = "ward", covariates = c("v96_1", "majorpty", "age"), se_type = "HC2")
  run_case("nh_subset_itt_ward_fe_hc2", "nh_fedai", "ols", "v98", "persngrp", blocks = "ward", covariates = "v96_1", se_type = "HC2")
  run_case("nh_subset_cace_ward_fe_hc2", "nh_fedai", "2sls", "v98", "persngrp", treatment = "cntany", blocks = "ward", covariates = "v96_1", se_type = "HC2")
  if (!skip_slow) {
    # CR2 with 7,090 singleton household clusters (~10 s each in estimatr)
    run_case("nh_subset_itt_cr2", "nh_fedai", "ols", "v98", "persngrp", clusters = "id1", se_type = "CR2")
    run_case("nh_subset_cace_cr2", "nh_fedai", "2sls", "v98", "persngrp", treatment = "cntany", clusters = "id1", se_type = "CR2")
  }
  # more: full file, household clusters, CR0 and stata (CR2 with 23,450 clusters does not finish in estimatr)
  run_case("nh_full_itt_cr0", "nh", "ols", "v98", "persngrp", clusters = "id1", se_type = "CR0")
  run_case("nh_full_itt_ward_fe_cr0", "nh", "ols", "v98", "persngrp", blocks = "ward", clusters = "id1", covariates = "v96_1", se_type = "CR0")
  run_case("nh_full_cace_ward_fe_stata", "nh", "2sls", "v98", "persngrp", treatment = "cntany", blocks = "ward", clusters = "id1", covariates = "v96_1", se_type = "stata")
  run_case("nh_full_cace_ward_fe_cr0", "nh", "2sls", "v98", "persngrp", treatment = "cntany", blocks = "ward", clusters = "id1", covariates = "v96_1", se_type = "CR0")
  run_case("nh_full_cace_factorial_stata", "nh", "2sls", "v98", "persngrp", treatment = "cntany", clusters = "id1", covariates = c("phongotv", "mailings"), se_type = "stata")
  run_case("nh_full_lin_ward_stata", "nh", "lin", "v98", "persngrp", blocks = "ward", clusters = "id1", covariates = c("v96_1", "majorpty", "age"), se_type = "stata")
  run_case("nh_full_lin_cr0", "nh", "lin", "v98", "persngrp", clusters = "id1", covariates = c("v96_1", "majorpty", "age"), se_type = "CR0")
  run_case("nh_full_dim_blocked_ward", "nh", "dim", "v98", "persngrp", blocks = "ward")
  # the raw columns with their missing codes, filtered
  run_case("nh_valid_v98_1_itt_stata", "nh_valid_v98_1", "ols", "v98_1", "persngrp", clusters = "id1", se_type = "stata")
  run_case("nh_valid_age1_lin_stata", "nh_valid_age1", "lin", "v98", "persngrp", clusters = "id1", covariates = c("v96_1", "age1"), se_type = "stata")
  # issue 9: households assigned, standard errors clustered by ward (coarser than the assignment),
  # and ward as both fixed effect and cluster
  NHX <- c("v96_1", "majorpty", "age")
  for (se in c(NA, "CR0", "stata")) {
    l <- se_label(se)
    run_case(paste0("nh_full_itt_ward_cl_", l), "nh", "ols", "v98", "persngrp", clusters = "ward", se_type = se)
    run_case(paste0("nh_full_itt_ward_cl_cov_", l), "nh", "ols", "v98", "persngrp", clusters = "ward", covariates = "v96_1", se_type = se)
    run_case(paste0("nh_full_cace_ward_cl_", l), "nh", "2sls", "v98", "persngrp", treatment = "cntany", clusters = "ward", se_type = se)
    run_case(paste0("nh_full_lin_ward_cl_", l), "nh", "lin", "v98", "persngrp", clusters = "ward", covariates = NHX, se_type = se)
    run_case(paste0("nh_full_itt_ward_fe_cl_", l), "nh", "ols", "v98", "persngrp", blocks = "ward", clusters = "ward", covariates = "v96_1", se_type = se)
    run_case(paste0("nh_full_cace_ward_fe_cl_", l), "nh", "2sls", "v98", "persngrp", treatment = "cntany", blocks = "ward", clusters = "ward", covariates = "v96_1", se_type = se)
    run_case(paste0("nh_full_lin_ward_blocks_cl_", l), "nh", "lin", "v98", "persngrp", blocks = "ward", clusters = "ward", covariates = NHX, se_type = se)
    run_case(paste0("nh_subset_itt_ward_cl_", l), "nh_fedai", "ols", "v98", "persngrp", clusters = "ward", se_type = se)
    run_case(paste0("nh_subset_cace_ward_cl_", l), "nh_fedai", "2sls", "v98", "persngrp", treatment = "cntany", clusters = "ward", se_type = se)
  }
  # Lin with ward indicators, absorbed as ward x arm cells in fieldexp: every se_type
  for (se in c("HC0", "HC1", "HC3", "stata")) {
    run_case(paste0("nh_subset_lin_ward_", tolower(se)), "nh_fedai", "lin", "v98", "persngrp", blocks = "ward", covariates = NHX, se_type = se)
  }
  run_case("nh_full_lin_ward_cr0", "nh", "lin", "v98", "persngrp", blocks = "ward", clusters = "id1", covariates = NHX, se_type = "CR0")
  if (!skip_slow) {
    run_case("nh_subset_lin_ward_cr2", "nh_fedai", "lin", "v98", "persngrp", blocks = "ward", clusters = "id1", covariates = NHX, se_type = "CR2")
  }
}

if (!is.null(D$kc)) {
  message("Kansas City")
  run_case("kc_itt_cr2", "kc", "ols", "Y_voted_2003", "Z", clusters = "precinct")
  run_case("kc_itt_stata", "kc", "ols", "Y_voted_2003", "Z", clusters = "precinct", se_type = "stata")
  run_case("kc_cace_cr2", "kc", "2sls", "Y_voted_2003", "Z", treatment = "D_contact", clusters = "precinct")
  run_case("kc_dim_clustered", "kc", "dim", "Y_voted_2003", "Z", clusters = "precinct")
  run_case("kc_itt_cr0", "kc", "ols", "Y_voted_2003", "Z", clusters = "precinct", se_type = "CR0")
  run_case("kc_cace_stata", "kc", "2sls", "Y_voted_2003", "Z", treatment = "D_contact", clusters = "precinct", se_type = "stata")
  run_case("kc_cace_cr0", "kc", "2sls", "Y_voted_2003", "Z", treatment = "D_contact", clusters = "precinct", se_type = "CR0")
  run_case("kc_itt_hc2_unclustered", "kc", "ols", "Y_voted_2003", "Z", se_type = "HC2")
}

if (!is.null(D$beijing)) {
  message("Beijing")
  run_case("beijing_itt_cr2", "beijing", "ols", "turnout", "treat2", clusters = "dormid")
  run_case("beijing_cace_cr2", "beijing", "2sls", "turnout", "treat2", treatment = "contact", clusters = "dormid")
  run_case("beijing_dim_clustered", "beijing", "dim", "turnout", "treat2", clusters = "dormid")
  run_case("beijing_itt_stata", "beijing", "ols", "turnout", "treat2", clusters = "dormid", se_type = "stata")
  run_case("beijing_cace_stata", "beijing", "2sls", "turnout", "treat2", treatment = "contact", clusters = "dormid", se_type = "stata")
  run_case("beijing_itt_cr0", "beijing", "ols", "turnout", "treat2", clusters = "dormid", se_type = "CR0")
}

if (!is.null(D$fieldhouse)) {
  message("Fieldhouse et al.")
  # canvassing was assigned only within the phone arm (c = 1 implies p = 1): the canvass experiment
  # is c within p == 1, or c with the other factors (p, m) as covariates on the full file
  run_case("fh_canvass_itt_hc2", "fieldhouse_phone_arm", "ols", "y", "c", se_type = "HC2")
  run_case("fh_canvass_cace_hc2", "fieldhouse_phone_arm", "2sls", "y", "c", treatment = "c_m", se_type = "HC2")
  run_case("fh_canvass_itt_stata", "fieldhouse_phone_arm", "ols", "y", "c", se_type = "stata")
  run_case("fh_canvass_cace_stata", "fieldhouse_phone_arm", "2sls", "y", "c", treatment = "c_m", se_type = "stata")
  run_case("fh_canvass_itt_default", "fieldhouse_phone_arm", "ols", "y", "c")
  run_case("fh_canvass_cace_hc3_cov", "fieldhouse_phone_arm", "2sls", "y", "c", treatment = "c_m", covariates = "m", se_type = "HC3")
  run_case("fh_canvass_dim", "fieldhouse_phone_arm", "dim", "y", "c")
  run_case("fh_canvass_dim_blocked_mail", "fieldhouse_phone_arm", "dim", "y", "c", blocks = "m")
  run_case("fh_canvass_lin_hc2", "fieldhouse_phone_arm", "lin", "y", "c", covariates = "m", se_type = "HC2")
  run_case("fh_canvass_ols_mail_fe_hc1", "fieldhouse_phone_arm", "ols", "y", "c", blocks = "m", se_type = "HC1")
  run_case("fh_canvass_factorial_itt_hc2", "fieldhouse", "ols", "y", "c", covariates = c("p", "m"), se_type = "HC2")
  run_case("fh_canvass_factorial_cace_hc2", "fieldhouse", "2sls", "y", "c", treatment = "c_m", covariates = c("p", "m"), se_type = "HC2")
  run_case("fh_canvass_factorial_cace_stata", "fieldhouse", "2sls", "y", "c", treatment = "c_m", covariates = c("p", "m"), se_type = "stata")
  run_case("fh_phone_cace_hc2", "fieldhouse", "2sls", "y", "p", treatment = "p_m", covariates = "m", se_type = "HC2")
}

# ------------------------------------------------------------------ extension: clubSandwich
# estimatr refuses weighted CR2 with fixed_effects. Without fixed effects its weighted CR2 (SE and
# Bell-McCaffrey df) equals clubSandwich's CR2 + Satterthwaite df on lm(..., weights = w), and with
# fixed effects (unweighted) it equals clubSandwich on the dummy-variable regression. The natural
# reference for the refused calls is therefore clubSandwich on the weighted dummy-variable fit
# (lm, or AER::ivreg for the CACE). They go to extension.csv, same columns.
ext_rows <- list()
if (length(to_extend) && requireNamespace("clubSandwich", quietly = TRUE) && requireNamespace("AER", quietly = TRUE)) {
  message("extension: weighted CR2 with fixed effects via clubSandwich")
  for (x in to_extend) {
    s <- x$s
    covs <- s$covariates
    fe <- sprintf("factor(%s)", s$blocks)
    if (s$method == "2sls" && x$stage == "second") {
      f <- call("~", sym(s$outcome), call("|", rhs_sum(c(s$treatment, covs, fe)), rhs_sum(c(s$assignment, covs, fe))))
      fit_call <- call("ivreg", formula = f, data = sym(s$data), weights = sym(s$weights))
      term <- s$treatment
    } else {
      lhs <- if (s$method == "2sls") s$treatment else s$outcome
      f <- call("~", sym(lhs), rhs_sum(c(s$assignment, covs, fe)))
      fit_call <- call("lm", formula = f, data = sym(s$data), weights = sym(s$weights))
      term <- s$assignment
    }
    test_call <- call("coef_test", fit_call, vcov = "CR2", cluster = call("$", sym(s$data), sym(s$clusters)), test = "Satterthwaite")
    envir <- list2env(list(ivreg = AER::ivreg, coef_test = clubSandwich::coef_test), parent = D)
    ct <- eval(test_call, envir = envir)
    i <- match(term, ct$Coef)
    est <- ct$beta[i]
    se <- ct$SE[i]
    dfv <- ct$df_Satt[i]
    crit <- qt(1 - s$alpha / 2, dfv)
    dat <- D[[s$data]]
    vals <- list(
      estimate = est, std_error = se, statistic = est / se, df = dfv,
      p_value = 2 * pt(abs(est / se), dfv, lower.tail = FALSE),
      ci_low = est - crit * se, ci_high = est + crit * se,
      nobs = nrow(dat), nclusters = length(unique(dat[[s$clusters]])),
      se_type_resolved = "CR2", design = NA_character_, warnings = NA_character_
    )
    meta <- x$meta
    meta$`function` <- "clubSandwich::coef_test"
    meta$call <- deparse1line(test_call)
    message(sprintf("  %-55s est=%.6g se=%.6g df=%.6g", meta$case, est, se, dfv))
    ext_rows[[length(ext_rows) + 1]] <- c(meta, vals)
  }
}

# ------------------------------------------------------------------ writing
fmt_num <- function(x) ifelse(is.na(x), NA_character_, trimws(formatC(x, digits = 17, format = "g")))
NUM_COLS <- c("alpha", "estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high", "nobs", "nclusters")

to_frame <- function(lst) {
  cols <- unique(unlist(lapply(lst, names)))
  out <- as.data.frame(lapply(setNames(cols, cols), function(cn) {
    vapply(lst, function(r) {
      v <- r[[cn]]
      if (is.null(v) || length(v) == 0 || is.na(v)) return(NA_character_)
      if (cn %in% NUM_COLS) fmt_num(as.numeric(v)) else as.character(v)
    }, character(1))
  }), check.names = FALSE)
  out
}

write_ref <- function(frame, file) {
  text_cols <- which(!(names(frame) %in% NUM_COLS))
  write.csv(frame, file.path(out_dir, file), row.names = FALSE, na = "NA", quote = text_cols)
}

ref <- to_frame(rows)
write_ref(ref, "reference.csv")
write_ref(to_frame(ext_rows), "extension.csv")
if (length(refused)) {
  write_ref(to_frame(refused), "refused.csv")
} else {
  write_ref(data.frame(case = character(), call = character(), error = character()), "refused.csv")
}

# ------------------------------------------------------------------ versions
ver <- c(
  "# written by tests/reference/make_reference.R",
  paste0("R: ", R.version.string),
  paste0("platform: ", R.version$platform),
  vapply(c("estimatr", "Rcpp", "RcppEigen", "Formula", "rlang", "clubSandwich", "AER", "sandwich"), function(p) {
    paste0(p, ": ", tryCatch(as.character(packageVersion(p)), error = function(e) "not installed"))
  }, character(1)),
  paste0("BLAS: ", tryCatch(extSoftVersion()[["BLAS"]], error = function(e) "unknown")),
  paste0("LAPACK: ", tryCatch(La_library(), error = function(e) "unknown")),
  "",
  "# inputs (md5)",
  paste0(names(inputs), ": ", unlist(inputs)),
  "",
  sprintf("cases: %d reference rows, %d refused calls, %d extension rows", nrow(ref), length(refused), length(ext_rows))
)
writeLines(ver, file.path(out_dir, "versions.txt"))

message(sprintf(
  "\nwrote %d reference rows and %d refused calls to %s in %.1f s",
  nrow(ref), length(refused), out_dir, as.numeric(difftime(Sys.time(), t_start, units = "secs"))
))
if (length(missing_inputs)) {
  message("WARNING: missing inputs, their cases are absent:\n  ", paste(missing_inputs, collapse = "\n  "))
  quit(status = 3)
}
