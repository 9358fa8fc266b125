# Reference values of R's pROC for lossdoctor's DeLong intervals and paired tests.
# Regenerate with:  Rscript tests/reference/proc_reference.R > tests/reference/proc_reference.json
# (needs R and pROC: apt-get install r-base-core r-cran-proc). Each case holds its inputs.
suppressPackageStartupMessages(library(pROC))
set.seed(20261207)

num <- function(x) {
  ifelse(is.na(x), "null", sprintf("%.17g", x))
}
vec <- function(x) paste0("[", paste(num(x), collapse = ", "), "]")

make_case <- function(name, y, first, second, conf.level = 0.95) {
  r1 <- roc(y, first, levels = c(0, 1), direction = "<", quiet = TRUE)
  r2 <- roc(y, second, levels = c(0, 1), direction = "<", quiet = TRUE)
  ci1 <- ci.auc(r1, method = "delong", conf.level = conf.level)
  test <- roc.test(r1, r2, method = "delong", paired = TRUE, conf.level = conf.level)
  interval <- if (is.null(test$conf.int)) c(NA, NA) else as.numeric(test$conf.int)
  paste0(
    "  {\"name\": \"", name, "\", \"confidence\": ", num(conf.level),
    ", \"y\": ", vec(y), ", \"first\": ", vec(first), ", \"second\": ", vec(second),
    ", \"auc\": ", num(as.numeric(auc(r1))),
    ", \"ci_auc\": ", vec(as.numeric(ci1)[c(1, 3)]),
    ", \"var_auc\": ", num(var(r1, method = "delong")),
    ", \"paired_z\": ", num(as.numeric(test$statistic)),
    ", \"paired_p\": ", num(test$p.value),
    ", \"paired_ci\": ", vec(interval), "}"
  )
}

cases <- list()
n <- 60
y <- rbinom(n, 1, 0.4)
first <- round(plogis(1.2 * y + rnorm(n)), 2)  # rounded: many ties
second <- round(plogis(0.6 * y + rnorm(n)), 1)
cases[[1]] <- make_case("ties", y, first, second)
cases[[2]] <- make_case("ties_90", y, first, second, conf.level = 0.9)

n <- 200
y <- as.numeric(runif(n) < 0.05)
y[1:3] <- 1
first <- plogis(2 * y + rnorm(n))
second <- plogis(1.5 * y + rnorm(n))
cases[[3]] <- make_case("imbalance", y, first, second)

n <- 80
y <- rbinom(n, 1, 0.5)
first <- plogis(y + rnorm(n))
cases[[4]] <- make_case("identical", y, first, first)

n <- 40
y <- rep(c(0, 1), n / 2)
first <- ifelse(y == 1, runif(n, 0.5, 1), runif(n, 0, 0.6))
second <- runif(n)
cases[[5]] <- make_case("near_perfect", y, first, second)

y <- c(0, 0, 1, 1, 1, 0)
cases[[6]] <- make_case("small", y, c(0.1, 0.4, 0.35, 0.8, 0.4, 0.2), c(0.3, 0.3, 0.3, 0.9, 0.1, 0.2))

# Several classes: each class against the rest, as lossdoctor compare tests roc_auc[k].
mat <- function(m) paste0("[", paste(apply(m, 1, vec), collapse = ", "), "]")
make_ovr_case <- function(name, y, first, second) {
  per_class <- sapply(seq_len(ncol(first)), function(k) {
    hit <- as.numeric(y == k - 1)
    r1 <- roc(hit, first[, k], levels = c(0, 1), direction = "<", quiet = TRUE)
    r2 <- roc(hit, second[, k], levels = c(0, 1), direction = "<", quiet = TRUE)
    test <- roc.test(r1, r2, method = "delong", paired = TRUE)
    paste0(
      "{\"auc\": ", num(as.numeric(auc(r1))), ", \"paired_p\": ", num(test$p.value),
      ", \"paired_ci\": ", vec(as.numeric(test$conf.int)), "}"
    )
  })
  paste0(
    "  {\"name\": \"", name, "\", \"y\": ", vec(y), ", \"first\": ", mat(first),
    ", \"second\": ", mat(second), ", \"classes\": [", paste(per_class, collapse = ", "), "]}"
  )
}
softmax <- function(z) exp(z) / rowSums(exp(z))
ovr <- list()
for (k in c(3, 5)) {
  n <- 40 * k
  y <- sample(0:(k - 1), n, replace = TRUE)
  signal <- outer(y, 0:(k - 1), "==") * 1.5
  first <- softmax(round(signal + matrix(rnorm(n * k), n)))  # whole logits: ties
  second <- softmax(signal * 0.7 + matrix(rnorm(n * k), n))
  ovr[[length(ovr) + 1]] <- make_ovr_case(paste0("classes_", k), y, first, second)
}

cat("{\"proc_version\": \"", as.character(packageVersion("pROC")), "\", \"cases\": [\n",
    paste(unlist(cases), collapse = ",\n"), "\n], \"one_vs_rest\": [\n",
    paste(unlist(ovr), collapse = ",\n"), "\n]}\n", sep = "")
