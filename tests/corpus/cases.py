"""The corpus cases, as data: what each sample is, what lossdoctor must find, what it must not.

A case names a builder from make_corpus (called with its arguments), the options passed to
`diagnose` (a callable value is computed from the sample: the loss a framework would have
printed), and its verdict:

- `must_find`: (check id, severity) pairs that must be among the findings, at that severity.
- `may_find`: checks allowed at warning or above as a true consequence of the mistake (a double
  sigmoid also leaves every score >= 0.5, so every row is predicted 1); each one says why.
- every other check of the registry must stay below warning (`Case.must_not_find`), so a new
  check is held to silence on the whole corpus from the day it is added.

A case is healthy when it must find nothing above info: then nothing at warning or above may
fire at all. Infos a healthy case must show (declared logits, string labels mapped, a reported
loss reproduced) are in its must_find.

`xfail` records a known miss or false alarm of a check, reported and left to the check's owner:
the test is expected to fail (strictly, so the mark goes when the check is fixed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from lossdoctor.checks import BY_ID
from lossdoctor.checks.base import Severity
from tests.corpus import make_corpus as mc
from tests.corpus.make_corpus import Sample

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], Sample]
    must_find: frozenset[tuple[str, Severity]] = frozenset()
    may_find: Mapping[str, str] = field(default_factory=dict)  # check id -> why it may fire
    options: Mapping[str, Any] = field(default_factory=dict)
    formats: tuple[str, ...] = ()  # also run through the CLI on a file of each format
    xfail: str = ""  # a known miss or false alarm: why the case fails today

    @property
    def healthy(self) -> bool:
        return all(severity == INFO for _, severity in self.must_find)

    @property
    def must_not_find(self) -> frozenset[str]:
        """Checks that must stay below warning: all but the expected ones and their side effects."""
        return frozenset(BY_ID) - {check for check, _ in self.must_find} - set(self.may_find)

    def resolve_options(self, sample: Sample) -> dict[str, Any]:
        return {k: v(sample) if callable(v) else v for k, v in self.options.items()}

    def problems(self, findings: Iterable[tuple[str, Severity, str]]) -> list[str]:
        """Misses and false alarms among (check, severity, title) findings; empty when right."""
        findings = list(findings)
        found = {(check, severity) for check, severity, _ in findings}
        problems = [
            f"miss: no {severity} from {check}"
            for check, severity in sorted(self.must_find)
            if (check, severity) not in found
        ]
        problems += [
            f"false alarm: {severity} from {check}: {title}"
            for check, severity, title in findings
            if severity >= WARNING and check in self.must_not_find
        ]
        return problems


def case(name: str, build, *args, must_find=(), **kwargs) -> Case:
    return Case(name, partial(build, *args), frozenset(must_find), **kwargs)


# Side effects that are true of the file as saved, named once.
INVERTED = "the mirror image of a confident model is confidently wrong on almost every row"
SQUASHED_CLASSES = "every squashed score is >= 0.5: every row is predicted 1 at the threshold 0.5"
SQUASHED_THRESHOLD = "on squashed scores the best threshold is sigmoid(0.5) = 0.62, not 0.5"
SQUASHED_CALIBRATION = "squashed scores are miscalibrated: that is the mistake, seen again"
NOISE_CALIBRATION = "against wrong labels a confident model is overconfident"
NOISE_SATURATION = "flipped labels turn near-0 probabilities into confidently wrong rows"
SHARP_SATURATION = "logits x4 push probabilities below 1e-7 and some of those rows are wrong"
SHARP_LABEL_ISSUES = "an overconfident model's confident errors look like mislabelled rows"
SATURATED_LABEL_ISSUES = "an unregularised model's confident errors look like mislabelled rows"
PERMUTED = "against the columns of other classes a confident model is confidently wrong"
IMBALANCE_THRESHOLD = "with 3 % positives the best-F1 threshold sits below 0.5"

CASES: tuple[Case, ...] = (
    # --- healthy: three models x three data sets, predict_proba as it comes ---------------------
    case("healthy-lr-breast-cancer", mc.healthy, "lr", "breast_cancer",
         formats=("parquet", "csv", "npz", "feather")),
    case("healthy-gb-breast-cancer", mc.healthy, "gb", "breast_cancer"),
    case("healthy-mlp-breast-cancer", mc.healthy, "mlp", "breast_cancer"),
    case("healthy-lr-digits", mc.healthy, "lr", "digits", formats=("parquet", "npz")),
    case("healthy-gb-digits", mc.healthy, "gb", "digits"),
    case("healthy-mlp-digits", mc.healthy, "mlp", "digits"),
    case("healthy-lr-wine", mc.healthy, "lr", "wine", formats=("csv",)),
    case("healthy-gb-wine", mc.healthy, "gb", "wine"),
    case("healthy-mlp-wine", mc.healthy, "mlp", "wine"),
    case("healthy-lr-iris", mc.healthy, "lr", "iris"),
    case("healthy-weak-lr-2pc-digits", mc.healthy, "lr-2pc", "digits"),
    case("healthy-gb-default-breast-cancer", mc.healthy, "gb-default", "breast_cancer"),
    case("healthy-gb-default-iris", mc.healthy, "gb-default", "iris"),
    # --- healthy: the ways users save predictions correctly -------------------------------------
    case("two-softmax-columns-binary", mc.two_softmax_columns, "lr", "breast_cancer",
         formats=("parquet", "npz")),
    case("declared-logits-option-binary", mc.declared_logits, "lr", "breast_cancer",
         must_find={("logits-vs-probabilities", INFO)}, options={"from_logits": True},
         formats=("npz",)),
    case("declared-logits-option-multiclass", mc.declared_logits, "lr", "digits",
         must_find={("logits-vs-probabilities", INFO)}, options={"from_logits": True}),
    case("logit-column-binary", mc.logit_columns, "lr", "breast_cancer",
         must_find={("logits-vs-probabilities", INFO)}, formats=("parquet", "csv")),
    case("logit-columns-multiclass", mc.logit_columns, "lr", "wine",
         must_find={("logits-vs-probabilities", INFO)}, formats=("csv",)),
    case("prob-columns-float32-multiclass", mc.prob_columns, "gb", "digits",
         formats=("parquet", "csv")),
    case("list-column-multiclass", mc.list_column, "mlp", "digits",
         formats=("parquet", "feather")),
    case("one-hot-labels-wine", mc.one_hot_labels, "lr", "wine", formats=("npz", "parquet")),
    case("one-hot-labels-digits", mc.one_hot_labels, "gb", "digits"),
    case("string-labels-positive-label", mc.string_labels, "lr",
         must_find={("label-encoding", INFO)}, options={"positive_label": "benign"},
         formats=("csv", "parquet")),
    case("class-names-given-wine", mc.class_names, "lr", "wine",
         must_find={("label-encoding", INFO)}, options={"classes": mc.CLASS_NAMES["wine"]},
         formats=("csv",)),
    case("class-names-given-digits", mc.class_names, "gb", "digits",
         must_find={("label-encoding", INFO)}, options={"classes": mc.CLASS_NAMES["digits"]}),
    case("columns-named-by-classes-wine", mc.columns_named_by_classes, "lr", "wine",
         must_find={("column-choice", INFO), ("label-encoding", INFO)},
         formats=("csv", "parquet")),
    case("unnamed-prediction-column", mc.unnamed_prediction_column, "lr", "breast_cancer",
         must_find={("column-choice", INFO)}, formats=("csv", "feather")),
    case("float32-probabilities-digits", mc.healthy, "lr", "digits", "float32"),
    case("float16-confident-and-right", mc.float16, "mlp", "breast_cancer",
         must_find={("probability-saturation", INFO)}),
    case("reported-loss-reproduced", mc.healthy, "lr", "breast_cancer",
         must_find={("loss-reconciliation", INFO)}, options={"reported_loss": mc.mean_log_loss}),
    case("reported-accuracy-categorical", mc.one_hot_labels, "lr-weak", "digits",
         options={"reported_accuracy": mc.categorical_accuracy}),
    case("multilabel-sigmoids", mc.multilabel, "lr", "digits"),
    # --- broken: what the scores are ------------------------------------------------------------
    case("logits-as-probabilities-binary", mc.logits_as_probabilities, "lr", "breast_cancer",
         must_find={("logits-vs-probabilities", ERROR)}, formats=("parquet", "csv", "npz")),
    case("other-class-column-binary", mc.other_class_column, "lr", "breast_cancer",
         must_find={("inverted-scores", WARNING)}, formats=("parquet",),
         may_find={"probability-saturation": INVERTED, "threshold": INVERTED,
                   "calibration": INVERTED, "label-issues": INVERTED}),
    case("logits-as-probabilities-multiclass", mc.logits_as_probabilities, "lr", "digits",
         must_find={("logits-vs-probabilities", ERROR)}, formats=("parquet",)),
    case("log-probabilities-multiclass", mc.log_probabilities, "lr", "wine",
         must_find={("logits-vs-probabilities", ERROR)}, formats=("csv",)),
    case("log-probabilities-binary", mc.log_probabilities, "mlp", "breast_cancer",
         must_find={("logits-vs-probabilities", ERROR)}),
    case("double-sigmoid-binary", mc.double_sigmoid, "gb", "breast_cancer",
         must_find={("logits-vs-probabilities", WARNING)},
         may_find={"degenerate-predictions": SQUASHED_CLASSES, "threshold": SQUASHED_THRESHOLD,
                   "calibration": SQUASHED_CALIBRATION}),
    case("double-softmax-wine", mc.double_softmax, "lr", "wine",
         must_find={("logits-vs-probabilities", WARNING)}),
    case("double-softmax-digits", mc.double_softmax, "mlp", "digits",
         must_find={("logits-vs-probabilities", WARNING)},
         may_find={"calibration": SQUASHED_CALIBRATION}),
    case("independent-sigmoids-single-label", mc.independent_sigmoids, "lr", "digits",
         must_find={("logits-vs-probabilities", WARNING)},
         may_find={"calibration": SQUASHED_CALIBRATION}),
    # --- broken: labels -------------------------------------------------------------------------
    case("labels-minus-one-plus-one", mc.labels_minus_one_plus_one, "lr",
         must_find={("label-encoding", ERROR)}, formats=("csv", "npz")),
    case("labels-one-to-k-wine", mc.labels_one_to_k, "lr", "wine",
         must_find={("label-encoding", ERROR)}, formats=("csv",)),
    case("labels-one-to-k-digits", mc.labels_one_to_k, "gb", "digits",
         must_find={("label-encoding", ERROR)}),
    case("class-names-sorted-wine", mc.class_names, "lr", "wine",
         must_find={("label-order", ERROR), ("label-encoding", INFO)}, formats=("csv", "parquet"),
         may_find={"label-issues": PERMUTED, "calibration": PERMUTED,
                   "probability-saturation": PERMUTED}),
    case("class-names-sorted-digits", mc.class_names, "mlp", "digits",
         must_find={("label-order", ERROR), ("label-encoding", INFO)},
         may_find={"label-issues": PERMUTED, "calibration": PERMUTED,
                   "probability-saturation": PERMUTED}),
    case("labels-flipped-15pct-breast-cancer", mc.flipped_labels, "lr", "breast_cancer",
         must_find={("label-issues", WARNING)},
         may_find={"calibration": NOISE_CALIBRATION, "probability-saturation": NOISE_SATURATION}),
    case("labels-flipped-15pct-digits", mc.flipped_labels, "lr", "digits",
         must_find={("label-issues", WARNING)},
         may_find={"calibration": NOISE_CALIBRATION, "probability-saturation": NOISE_SATURATION}),
    # --- broken: saturation ---------------------------------------------------------------------
    # rounded to 0/1 on save, probabilities are the class labels predict would give
    case("rounded-to-0-1-lr", mc.rounded, "lr", "breast_cancer",
         must_find={("hard-predictions", ERROR)}, formats=("csv",)),
    case("rounded-to-0-1-mlp", mc.rounded, "mlp", "breast_cancer",
         must_find={("hard-predictions", ERROR)}),
    # --- broken: class labels saved as the predictions --------------------------------------------
    case("predict-binary-lr", mc.predicted_labels, "lr", "breast_cancer",
         must_find={("hard-predictions", ERROR)}, formats=("parquet", "csv")),
    case("predict-multiclass-gb", mc.predicted_labels, "gb", "digits",
         must_find={("hard-predictions", ERROR)}, formats=("csv",)),
    case("predict-multiclass-lr-wine", mc.predicted_labels, "lr", "wine",
         must_find={("hard-predictions", ERROR)}),
    case("predict-one-hot-columns-lr", mc.one_hot_predictions, "lr", "digits",
         must_find={("hard-predictions", ERROR)}, formats=("parquet",)),
    case("float16-saturation", mc.float16, "lr-unregularised", "breast_cancer",
         must_find={("probability-saturation", ERROR)},
         may_find={"label-issues": SATURATED_LABEL_ISSUES}),
    case("float32-sigmoid-saturation", mc.float32_sigmoid, "lr-unregularised", "breast_cancer",
         must_find={("probability-saturation", ERROR)},
         may_find={"label-issues": SATURATED_LABEL_ISSUES}),
    # --- broken: the model and the class balance ------------------------------------------------
    case("heavy-imbalance-3pct", mc.imbalanced, "gb",
         must_find={("class-imbalance", WARNING)}, may_find={"threshold": IMBALANCE_THRESHOLD}),
    case("threshold-under-imbalance", mc.imbalanced, "lr",
         must_find={("class-imbalance", WARNING), ("threshold", WARNING)}),
    case("threshold-weak-model", mc.healthy, "lr", "nines-4px",
         must_find={("class-imbalance", WARNING), ("threshold", WARNING)}),
    case("one-class-prior-binary", mc.constant, "prior", "breast_cancer",
         must_find={("degenerate-predictions", ERROR)}, formats=("parquet",)),
    case("one-class-prior-multiclass", mc.constant, "prior", "digits",
         must_find={("degenerate-predictions", ERROR)}),
    case("classes-never-predicted", mc.healthy, "lr-1pc", "digits",
         must_find={("degenerate-predictions", WARNING)}),
    case("overconfident-logits-x4", mc.sharpened, "lr-weak", "digits",
         must_find={("calibration", WARNING)},
         may_find={"probability-saturation": SHARP_SATURATION,
                   "label-issues": SHARP_LABEL_ISSUES}),
    case("non-finite-binary", mc.with_non_finite, "lr", "breast_cancer",
         must_find={("non-finite-values", ERROR)}, formats=("csv", "npz")),
    case("non-finite-multiclass", mc.with_non_finite, "gb", "digits",
         must_find={("non-finite-values", ERROR)}),
    # --- broken: the numbers a framework printed ------------------------------------------------
    case("reported-loss-logits-taken-as-probabilities", mc.declared_logits, "lr",
         "breast_cancer",
         must_find={("loss-reconciliation", WARNING), ("logits-vs-probabilities", INFO)},
         options={"from_logits": True, "reported_loss": mc.keras_bce_on_logits}),
    case("reported-loss-summed", mc.healthy, "lr", "breast_cancer",
         must_find={("loss-reconciliation", WARNING)},
         options={"reported_loss": mc.summed_log_loss}),
    case("reported-accuracy-raw-minus-one-labels", mc.labels_minus_one_plus_one, "lr",
         must_find={("label-encoding", ERROR), ("loss-reconciliation", WARNING)},
         options={"reported_accuracy": mc.accuracy_against_raw_labels}),
    case("reported-accuracy-keras-binary-one-hot", mc.one_hot_labels, "lr-weak", "digits",
         must_find={("accuracy-mismatch", WARNING)},
         options={"reported_accuracy": mc.keras_binary_accuracy}, formats=("npz",)),
    case("binary-crossentropy-on-multiclass", mc.healthy, "lr", "wine",
         must_find={("accuracy-mismatch", WARNING)}, options={"loss": "binary_crossentropy"}),
)  # fmt: skip

BY_NAME = {c.name: c for c in CASES}
assert len(BY_NAME) == len(CASES), "case names must be unique"
