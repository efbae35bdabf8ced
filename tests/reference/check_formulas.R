#!/usr/bin/env Rscript
# Checks the formulas written in tests/reference/README.md ("estimatr 1.0.0 formulas a
# reimplementation needs") against estimatr itself, with plain dense R implementations.
#
#   Rscript tests/reference/check_formulas.R      # from the repo root; prints one line per check
#
# Uses fixtures/experiment_small.csv (4 precincts, to keep the dense n x n matrices small) and the
# pairs fixtures. Exits with status 1 if any check differs by more than 1e-10 relative.

suppressPackageStartupMessages(library(estimatr))
args <- commandArgs(trailingOnly = FALSE)
script_path <- sub("^--file=", "", args[grep("^--file=", args)])
repo <- if (length(script_path)) normalizePath(file.path(dirname(script_path), "..", "..")) else getwd()
fx <- read.csv(file.path(repo, "fixtures", "experiment_small.csv"))
d <- fx[fx$precinct_id %in% sort(unique(fx$precinct_id))[1:4], ]
pairs <- read.csv(file.path(repo, "fixtures", "experiment_pairs.csv"))
cpairs <- read.csv(file.path(repo, "fixtures", "experiment_pairs_clustered.csv"))

TOL <- 1e-10
failed <- 0L
check <- function(label, estimatr_vals, mine) {
  rel <- max(abs(unlist(estimatr_vals) - unlist(mine)) / pmax(abs(unlist(estimatr_vals)), 1e-300))
  ok <- is.finite(rel) && rel <= TOL
  if (!ok) failed <<- failed + 1L
  cat(sprintf("%-4s %-62s max rel diff %.2e\n", if (ok) "ok" else "FAIL", label, rel))
}
est3 <- function(fit, j) c(fit$coefficients[[j]], fit$std.error[[j]], fit$df[[j]])

# ---------------------------------------------------------------- regression sandwich, dense
msqrt_inv <- function(B) {
  e <- eigen(B, symmetric = TRUE)
  v <- ifelse(e$values > 1e-12, 1 / sqrt(e$values), 0)
  e$vectors %*% (v * t(e$vectors))
}
# X: structural design (residuals y - X b); Xfit: the design of the projection (X, or X-hat for 2SLS)
sandwich_dense <- function(X, y, type, w = NULL, cl = NULL, j = 2, Xfit = X) {
  n <- length(y)
  w <- if (is.null(w)) rep(1, n) else w / mean(w)
  M <- solve(crossprod(Xfit, w * Xfit))
  b <- M %*% crossprod(Xfit, w * y)
  e <- as.vector(y - X %*% b)
  k <- ncol(X)
  if (type %in% c("HC0", "HC1", "HC2", "HC3")) {
    h <- w * rowSums((Xfit %*% M) * Xfit)
    om <- switch(type, HC0 = e^2, HC1 = e^2 * n / (n - k), HC2 = e^2 / (1 - h), HC3 = e^2 / (1 - h)^2)
    V <- M %*% crossprod(Xfit * (w * sqrt(om))) %*% M
    return(c(b[j], sqrt(V[j, j]), n - k))
  }
  groups <- split(seq_len(n), cl)
  J <- length(groups)
  if (type %in% c("CR0", "stata")) {
    U <- t(vapply(groups, function(g) colSums(Xfit[g, , drop = FALSE] * (w[g] * e[g])), numeric(k)))
    V <- M %*% crossprod(U) %*% M
    if (type == "stata") V <- V * J * (n - 1) / ((J - 1) * (n - k))
    return(c(b[j], sqrt(V[j, j]), J - 1))
  }
  # CR2 and Bell-McCaffrey df
  H <- Xfit %*% M %*% t(w * Xfit)
  IH <- diag(n) - H
  Vw <- IH %*% t(IH)
  ej <- replace(numeric(k), j, 1)
  meat <- matrix(0, k, k)
  P <- matrix(0, n, J)
  for (q in seq_along(groups)) {
    g <- groups[[q]]
    A <- msqrt_inv(Vw[g, g, drop = FALSE])
    WX <- w[g] * Xfit[g, , drop = FALSE]
    u <- crossprod(WX, A %*% e[g])
    meat <- meat + u %*% t(u)
    P[g, q] <- A %*% WX %*% M %*% ej
  }
  V <- M %*% meat %*% M
  G <- t(P) %*% Vw %*% P
  c(b[j], sqrt(V[j, j]), sum(diag(G))^2 / sum(G^2))
}

X <- cbind(1, d$assigned, d$voted_2016, d$age)
fe <- model.matrix(~ 0 + factor(precinct_id), d)
Xfe <- cbind(d$assigned, d$voted_2016, d$age, fe) # intercept absorbed by the FE dummies
f <- voted ~ assigned + voted_2016 + age
for (st in c("HC0", "HC1", "HC2", "HC3")) {
  check(paste("lm_robust", st), est3(lm_robust(f, d, se_type = st), 2), sandwich_dense(X, d$voted, st))
  check(paste("lm_robust", st, "weighted"), est3(lm_robust(f, d, se_type = st, weights = weight), 2), sandwich_dense(X, d$voted, st, d$weight))
  check(paste("lm_robust", st, "fixed effects = dummies"), est3(lm_robust(f, d, se_type = st, fixed_effects = ~precinct_id), 1), sandwich_dense(Xfe, d$voted, st, j = 1))
  check(paste("lm_robust", st, "fixed effects, weighted"), est3(lm_robust(f, d, se_type = st, fixed_effects = ~precinct_id, weights = weight), 1), sandwich_dense(Xfe, d$voted, st, d$weight, j = 1))
}
for (st in c("CR0", "stata", "CR2")) {
  check(paste("lm_robust", st), est3(lm_robust(f, d, clusters = household_id, se_type = st), 2), sandwich_dense(X, d$voted, st, cl = d$household_id))
  check(paste("lm_robust", st, "weighted"), est3(lm_robust(f, d, clusters = household_id, se_type = st, weights = weight), 2), sandwich_dense(X, d$voted, st, d$weight, d$household_id))
  check(paste("lm_robust", st, "fixed effects = dummies"), est3(lm_robust(f, d, clusters = household_id, se_type = st, fixed_effects = ~precinct_id), 1), sandwich_dense(Xfe, d$voted, st, cl = d$household_id, j = 1))
}
check("lm_robust CR2 precinct clusters (coarser than assignment)", est3(lm_robust(f, d, clusters = precinct_id, se_type = "CR2"), 2), sandwich_dense(X, d$voted, "CR2", cl = d$precinct_id))

# lm_lin: weighted-centred covariates, block indicators as covariates
Z <- model.matrix(~ voted_2016 + age + factor(precinct_id), d)[, -1]
lin_X <- function(w) {
  Zc <- sweep(Z, 2, if (is.null(w)) colMeans(Z) else apply(Z, 2, weighted.mean, w))
  cbind(1, d$assigned, Zc, d$assigned * Zc)
}
for (st in c("HC2", "CR2")) {
  cl <- if (st == "CR2") d$household_id else NULL
  fit <- if (st == "CR2") lm_lin(voted ~ assigned, ~ voted_2016 + age + factor(precinct_id), d, clusters = household_id) else lm_lin(voted ~ assigned, ~ voted_2016 + age + factor(precinct_id), d, se_type = st)
  check(paste("lm_lin", st, "covariates + block indicators"), est3(fit, 2), sandwich_dense(lin_X(NULL), d$voted, st, cl = cl))
  fit <- if (st == "CR2") lm_lin(voted ~ assigned, ~ voted_2016 + age + factor(precinct_id), d, clusters = household_id, weights = weight) else lm_lin(voted ~ assigned, ~ voted_2016 + age + factor(precinct_id), d, se_type = st, weights = weight)
  check(paste("lm_lin", st, "weighted (weighted centring)"), est3(fit, 2), sandwich_dense(lin_X(d$weight), d$voted, st, d$weight, cl))
}

# iv_robust: X-hat for leverages / CR2 / df, structural residuals
Zi <- cbind(1, d$assigned, d$voted_2016, d$age)
Xi <- cbind(1, d$contacted, d$voted_2016, d$age)
fi <- voted ~ contacted + voted_2016 + age | assigned + voted_2016 + age
xhat <- function(w) Zi %*% solve(crossprod(Zi, w * Zi), crossprod(Zi, w * Xi))
for (wt in c(FALSE, TRUE)) {
  w <- if (wt) d$weight else rep(1, nrow(d))
  lab <- if (wt) " weighted" else ""
  for (st in c("HC0", "HC1", "HC2", "HC3")) {
    fit <- if (wt) iv_robust(fi, d, se_type = st, weights = weight) else iv_robust(fi, d, se_type = st)
    check(paste0("iv_robust ", st, lab), est3(fit, 2), sandwich_dense(Xi, d$voted, st, w, Xfit = xhat(w)))
  }
  for (st in c("CR0", "stata", "CR2")) {
    fit <- if (wt) iv_robust(fi, d, clusters = household_id, se_type = st, weights = weight) else iv_robust(fi, d, clusters = household_id, se_type = st)
    check(paste0("iv_robust ", st, lab), est3(fit, 2), sandwich_dense(Xi, d$voted, st, w, d$household_id, Xfit = xhat(w)))
  }
}

# ---------------------------------------------------------------- difference in means
dim3 <- function(fit) c(fit$coefficients[[1]], fit$std.error[[1]], fit$df[[1]])
welch <- function(y, z) {
  v1 <- var(y[z == 1]) / sum(z == 1)
  v0 <- var(y[z == 0]) / sum(z == 0)
  c(mean(y[z == 1]) - mean(y[z == 0]), sqrt(v1 + v0), (v1 + v0)^2 / (v1^2 / (sum(z == 1) - 1) + v0^2 / (sum(z == 0) - 1)))
}
check("dim standard (Welch)", dim3(difference_in_means(voted ~ assigned, fx)), welch(fx$voted, fx$assigned))
Xd <- cbind(1, fx$assigned)
check("dim standard weighted = WLS HC2, df n-2", dim3(difference_in_means(voted ~ assigned, fx, weights = weight)), sandwich_dense(Xd, fx$voted, "HC2", fx$weight))
check("dim clustered = lm_robust CR2", dim3(difference_in_means(voted ~ assigned, fx, clusters = household_id)), est3(lm_robust(voted ~ assigned, fx, clusters = household_id), 2))
check("dim clustered weighted = weighted CR2", dim3(difference_in_means(voted ~ assigned, fx, clusters = household_id, weights = weight)), est3(lm_robust(voted ~ assigned, fx, clusters = household_id, weights = weight), 2))
blocked <- function(data, weighted, clustered) {
  w <- data$weight / mean(data$weight)
  parts <- lapply(split(seq_len(nrow(data)), data$precinct_id), function(i) {
    b <- data[i, ]
    r <- if (clustered) {
      if (weighted) est3(lm_robust(voted ~ assigned, b, clusters = household_id, weights = weight), 2) else est3(lm_robust(voted ~ assigned, b, clusters = household_id), 2)
    } else if (weighted) {
      sandwich_dense(cbind(1, b$assigned), b$voted, "HC2", b$weight)
    } else {
      welch(b$voted, b$assigned)
    }
    c(r[1:2], size = if (weighted) sum(w[i]) else length(i))
  })
  P <- do.call(rbind, parts)
  s <- P[, 3] / sum(P[, 3])
  B <- nrow(P)
  dfv <- if (clustered) length(unique(data$household_id)) - 2 * B else nrow(data) - 2 * B
  c(sum(s * P[, 1]), sqrt(sum(s^2 * P[, 2]^2)), dfv)
}
check("dim blocked", dim3(difference_in_means(voted ~ assigned, fx, blocks = precinct_id)), blocked(fx, FALSE, FALSE))
check("dim blocked weighted (blocks weighted by weight totals)", dim3(difference_in_means(voted ~ assigned, fx, blocks = precinct_id, weights = weight)), blocked(fx, TRUE, FALSE))
check("dim blocked-clustered, df J-2B", dim3(difference_in_means(voted ~ assigned, fx, blocks = precinct_id, clusters = household_id)), blocked(fx, FALSE, TRUE))
check("dim blocked-clustered weighted", dim3(difference_in_means(voted ~ assigned, fx, blocks = precinct_id, clusters = household_id, weights = weight)), blocked(fx, TRUE, TRUE))
check("dim blocked = lm_lin(~ factor(block)) HC2", dim3(difference_in_means(voted ~ assigned, fx, blocks = precinct_id)), est3(lm_lin(voted ~ assigned, ~ factor(precinct_id), fx), 2))
matched <- function(data, clustered) {
  parts <- t(vapply(split(data, data$pair_id), function(b) c(mean(b$voted[b$assigned == 1]) - mean(b$voted[b$assigned == 0]), nrow(b)), numeric(2)))
  B <- nrow(parts)
  N <- sum(parts[, 2])
  tau <- sum(parts[, 1] * parts[, 2] / N)
  se <- if (clustered) sqrt(B / ((B - 1) * N^2) * sum((parts[, 2] * parts[, 1] - N * tau / B)^2)) else sqrt(sum((parts[, 1] - tau)^2) / (B * (B - 1)))
  c(tau, se, B - 1)
}
check("dim matched pairs", dim3(difference_in_means(voted ~ assigned, pairs, blocks = pair_id)), matched(pairs, FALSE))
check("dim matched pairs of clusters", dim3(difference_in_means(voted ~ assigned, cpairs, blocks = pair_id, clusters = household_id)), matched(cpairs, TRUE))
check("dim blocks of 2+ voters, no clusters (matched-pair formula)", dim3(suppressWarnings(difference_in_means(voted ~ assigned, cpairs, blocks = pair_id))), matched(cpairs, FALSE))

if (failed) {
  cat(failed, "check(s) failed\n")
  quit(status = 1)
}
cat("all formulas agree with estimatr\n")
