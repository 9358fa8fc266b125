# R's pROC on the benchmark's paired rows: the two ROC curves and roc.test(method = "delong",
# paired = TRUE), timed inside R (wall and CPU seconds), reading excluded.
#   Rscript benchmarks/proc_roc_test.R benchmarks/data/paired_1m/paired.csv
suppressPackageStartupMessages(library(pROC))
rows <- read.csv(commandArgs(trailingOnly = TRUE)[1])
start <- proc.time()
baseline <- roc(rows$label, rows$baseline, levels = c(0, 1), direction = "<", quiet = TRUE)
candidate <- roc(rows$label, rows$candidate, levels = c(0, 1), direction = "<", quiet = TRUE)
test <- roc.test(candidate, baseline, method = "delong", paired = TRUE)
spent <- proc.time() - start
seconds <- spent[["elapsed"]]
cpu_seconds <- spent[["user.self"]] + spent[["sys.self"]]
cat(sprintf(
  paste0(
    "{\"seconds\": %.17g, \"cpu_seconds\": %.17g, \"p_value\": %.17g, ",
    "\"ci\": [%.17g, %.17g], \"difference\": %.17g}\n"
  ),
  seconds, cpu_seconds, test$p.value, test$conf.int[1], test$conf.int[2],
  as.numeric(auc(candidate)) - as.numeric(auc(baseline))
))
