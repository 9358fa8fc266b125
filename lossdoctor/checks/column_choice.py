"""column-choice: prediction columns found by what the file holds, not by their names.

How it decides: no column has a prediction name (prob, proba_1, y_score, logits, ...) and no
--pred-col is given; then columns named by the classes themselves (the labels' values, as
`DataFrame(model.predict_proba(X), columns=model.classes_)` writes them, every class naming
one) are one column per class, in their order; else the one numeric column besides the label
column is the predictions. Either is an info, so that a wrong guess is seen. A column of
sample weights found by its name (sample_weight, weight, weights; no --weight-col) is an info
too: it changes every number.
"""

from __future__ import annotations

from lossdoctor.checks.base import Example, Finding, Severity
from lossdoctor.checks.summaries import Summaries
from lossdoctor.infer import Plan
from lossdoctor.io import BY_CLASS_NAMES, BY_ELIMINATION
from lossdoctor.metrics import Metrics

ID = "column-choice"
SEVERITY = Severity.INFO
WHY = (
    "A diagnosis is only as right as the columns it reads. When no column name says which "
    "column holds the predictions, lossdoctor reads the one that can only be them, and says "
    "so: a wrong guess then shows at once, instead of a report about the wrong column."
)
FIXES = {
    "lossdoctor": "--pred-col NAME  # name the prediction column(s); globs allowed",
    "pandas": "df.rename(columns={'model_output': 'prob'})",
}


EXAMPLES = (
    Example(
        "columns y and model_output: model_output is read as the predictions",
        {"y": (0, 1, 1, 0), "model_output": (0.2, 0.8, 0.6, 0.3)},
        Severity.INFO,
    ),
    Example("columns label and prob", {"label": (0, 1, 1, 0), "prob": (0.2, 0.8, 0.6, 0.3)}),
)

SUMMARIES = ()  # reads the plan and the metrics only


def check(plan: Plan, s: Summaries, metrics: Metrics) -> list[Finding]:
    return [*_predictions(plan), *_weights(plan)]


def _weights(plan: Plan) -> list[Finding]:
    column = plan.weight_column
    if not column or not plan.survey.weight_by_name:
        return []
    return [
        Finding(
            ID,
            SEVERITY,
            "Rows weighted by a sample-weight column",
            f"The column {column!r} is read as sample weights, as scikit-learn's "
            "sample_weight: every metric, table and check weighs each row by it.",
            {"weight_column": column, "weight_used": plan.weight_used},
            f"--weight-col {column}  # to say so; drop the column to weigh rows alike",
        )
    ]


def _predictions(plan: Plan) -> list[Finding]:
    chosen_by = plan.survey.columns_chosen_by
    columns = list(plan.prediction_columns)
    evidence = {"prediction_columns": columns, "chosen_by": chosen_by}
    if chosen_by == BY_ELIMINATION:
        return [
            Finding(
                ID,
                SEVERITY,
                "Prediction column chosen by elimination",
                f"No column has a prediction name; {columns[0]!r} is the one numeric column "
                "besides the labels, and is read as the predictions.",
                evidence,
                f"--pred-col {columns[0]}  # to say so, or name the right one",
            )
        ]
    if chosen_by == BY_CLASS_NAMES:
        return [
            Finding(
                ID,
                SEVERITY,
                "Prediction columns named by the classes",
                f"The columns {', '.join(columns[:8])}{', ...' if len(columns) > 8 else ''} "
                "are named by the label values: each is read as the probability of the class "
                "it names, in that order.",
                evidence,
                "--pred-col NAME ...  # to choose other columns",
            )
        ]
    return []
