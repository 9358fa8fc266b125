"""The comparison of a candidate (or several) with a baseline: one object every renderer reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lossdoctor.checks.base import Finding, Severity
from lossdoctor.report import SCHEMA_VERSION, Report, _plain

from .verdicts import IMPROVEMENT, REGRESSION, MetricComparison

REGRESSION_ID = "regression"
IMPROVEMENT_ID = "improvement"
KIND_CHANGED_ID = "kind-changed"
WHY = {
    REGRESSION_ID: (
        "The candidate is worse than the baseline on the same rows, by more than chance explains "
        "at the chosen alpha (Holm-corrected over the metrics compared)."
    ),
    IMPROVEMENT_ID: "The candidate is better than the baseline by more than chance explains.",
    KIND_CHANGED_ID: (
        "The two files save different kinds of scores: a pipeline that changed what it saves "
        "changes every downstream threshold, even where the model did not change."
    ),
}


@dataclass(frozen=True)
class Paired:
    """One candidate against the baseline."""

    candidate: Report
    rows_paired: int
    rows_unpaired: int  # left out by --unpaired-ok: in one file only
    metrics: tuple[MetricComparison, ...]
    findings: tuple[Finding, ...]

    @property
    def exit_code(self) -> int:
        failed = any(f.severity >= Severity.ERROR for f in self.findings)
        return max(int(failed), self.candidate.exit_code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_paired": self.rows_paired,
            "rows_unpaired": self.rows_unpaired,
            "comparison": {m.metric: metric_dict(m) for m in self.metrics},
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class Comparison:
    baseline: Report
    pairs: tuple[Paired, ...]
    alpha: float
    confidence: float
    bootstrap: int
    seed: int

    @property
    def candidates(self) -> tuple[Report, ...]:
        return tuple(pair.candidate for pair in self.pairs)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for pair in self.pairs for f in pair.findings)

    @property
    def exit_code(self) -> int:
        """1 on a regression, a failed gate or a finding at --fail-on in a candidate."""
        return max(pair.exit_code for pair in self.pairs)

    def to_dict(self) -> dict[str, Any]:
        """The JSON comparison: for one candidate, its comparison and rows as single values;
        for several, lists in the candidates' order."""
        pairs = [pair.to_dict() for pair in self.pairs]
        one = len(pairs) == 1
        return _plain(
            {
                "schema_version": SCHEMA_VERSION,
                "baseline": self.baseline.to_dict(),
                "candidates": [pair.candidate.to_dict() for pair in self.pairs],
                "rows_paired": pairs[0]["rows_paired"]
                if one
                else [p["rows_paired"] for p in pairs],
                "rows_unpaired": (
                    pairs[0]["rows_unpaired"] if one else [p["rows_unpaired"] for p in pairs]
                ),
                "alpha": self.alpha,
                "ci_level": self.confidence,
                "bootstrap": self.bootstrap,
                "seed": self.seed,
                "comparison": pairs[0]["comparison"] if one else [p["comparison"] for p in pairs],
                "findings": [f.to_dict() for f in self.findings],
                "exit_code": self.exit_code,
            }
        )

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def _repr_html_(self) -> str:
        """The compare page (--format html), with its charts, for a notebook."""
        from lossdoctor.render.html.comparison import fragment

        return fragment(self)


def metric_dict(m: MetricComparison) -> dict[str, Any]:
    return {
        "baseline": m.baseline,
        "candidate": m.candidate,
        "difference": m.difference,
        "ci": list(m.ci),
        "p_value": m.p_value,
        "p_adjusted": m.p_adjusted,
        "test": m.test,
        "verdict": m.verdict,
        "detectable_difference": m.detectable,
    }


def verdict_findings(metrics: tuple[MetricComparison, ...], alpha: float) -> list[Finding]:
    """A regression (error) or an improvement (info) per significant headline metric."""
    found = []
    for m in metrics:
        if m.verdict not in (REGRESSION, IMPROVEMENT) or "[" in m.metric:
            continue
        regressed = m.verdict == REGRESSION
        low, high = m.ci
        found.append(
            Finding(
                check=REGRESSION_ID if regressed else IMPROVEMENT_ID,
                severity=Severity.ERROR if regressed else Severity.INFO,
                title=f"{m.metric} {'regressed' if regressed else 'improved'}: "
                f"{m.difference:+.4g} [{low:+.4g}, {high:+.4g}]",
                message=(
                    f"{m.metric} is {m.candidate:.4g} against the baseline's {m.baseline:.4g} "
                    f"on the same rows; {m.test} test p = {m.p_value:.2g} "
                    f"(Holm-adjusted {m.p_adjusted:.2g} < alpha {alpha:g})."
                ),
                evidence={
                    "metric": m.metric,
                    **metric_dict(m),
                    "ci": [low, high],
                    "alpha": alpha,
                },
                why=WHY[REGRESSION_ID if regressed else IMPROVEMENT_ID],
            )
        )
    return found


def kind_finding(baseline: Report, candidate: Report) -> Finding | None:
    """A warning when the two files save different kinds of scores (logits for probabilities)."""
    if baseline.prediction_kind == candidate.prediction_kind:
        return None
    return Finding(
        check=KIND_CHANGED_ID,
        severity=Severity.WARNING,
        title=(
            f"The candidate's scores are {candidate.prediction_kind} where the baseline's were "
            f"{baseline.prediction_kind}"
        ),
        message=(
            f"Both were read as probabilities ({candidate.transform} for the candidate) before "
            "comparing; any threshold applied downstream to the raw scores changes meaning."
        ),
        evidence={
            "baseline_kind": baseline.prediction_kind,
            "candidate_kind": candidate.prediction_kind,
            "candidate_transform": candidate.transform,
        },
        why=WHY[KIND_CHANGED_ID],
    )
