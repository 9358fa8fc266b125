"""Every number of the report, in NumPy, equal to scikit-learn's, from totals that merge.

metric_totals() reduces a batch of rows to MetricTotals: row counts, loss and Brier sums, the
confusion matrix, counts at fixed thresholds and histogram edges, and a value table per score
column (lossdoctor.value_tables). Totals of batches merge, and metrics_from() reads every metric
off them, so a file in memory (one batch), a stream of batches and the partitions of a cluster
share one code path. Ranking metrics and calibration come from the tables: exact unless a
capacity turned them into grids, whose values then carry error bounds.

Sample weights (scikit-learn's sample_weight) turn every count into a sum of weights: the
confusion matrix, the tables, the threshold rows and the histograms hold float64 sums, and
every mean is weighted. Calibration bins are the weighted quantiles: the bins of the rows
repeated as many times as their weight says (scikit-learn's calibration_curve takes no weights).

The modules: results (what the metrics hold), totals and batch (the totals of a batch, and
their merge), confusion (label metrics from counts), ranking (metrics from value tables),
per_task (each task's metrics off its totals).
"""

from lossdoctor.metrics.batch import metric_totals
from lossdoctor.metrics.per_task import metrics_from
from lossdoctor.metrics.results import (
    HISTOGRAM_BINS,
    METRIC_NAMES,
    SCORE_METRICS,
    THRESHOLD_GRID,
    Calibration,
    ClassMetrics,
    Histogram,
    Metrics,
    ThresholdRow,
    without_scores,
)
from lossdoctor.metrics.totals import MetricTotals

__all__ = [
    "HISTOGRAM_BINS",
    "METRIC_NAMES",
    "SCORE_METRICS",
    "THRESHOLD_GRID",
    "Calibration",
    "ClassMetrics",
    "Histogram",
    "MetricTotals",
    "Metrics",
    "ThresholdRow",
    "metric_totals",
    "metrics_from",
    "without_scores",
]
