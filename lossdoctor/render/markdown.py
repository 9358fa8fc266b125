"""The report as GitHub-flavoured Markdown, for a pull request comment or a job summary.

The verdict and the findings come first, each problem with its fix and, folded away, why it
matters and its evidence; then the metrics, the thresholds and the confusion matrix as tables.
Everything from the data (column names, labels, paths) is escaped, so a label such as `<b>|` is
shown as written and cannot break a table. This module formats; it computes nothing.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from typing import Any

from lossdoctor.checks.base import Finding, Severity
from lossdoctor.metrics import ClassMetrics
from lossdoctor.render import segments, words
from lossdoctor.render.escape import markdown_text as _text
from lossdoctor.render.escape import visible
from lossdoctor.report import FailedInput, Report

MARK = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}
HEALTHY = "✅"
DASH = "—"
MAX_CLASS_ROWS = 50  # per-class rows, worst F1 first


def render(report: Report) -> str:
    """One report: a level-3 heading with the verdict, then its sections."""
    parts = [
        f"### {_verdict(report)}",
        _about(report),
        *_problems(report.findings),
        _notes(report.findings),
        _metrics(report),
        _thresholds(report),
        _confusion(report),
        _per_class(report),
        segments.markdown(report),
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


def render_failed(failed: FailedInput) -> str:
    """A path that could not be read: where its report would have been."""
    return (
        f"### {MARK[Severity.ERROR]} {_code(failed.path)}: not diagnosed\n\n"
        f"{_text(failed.message)}\n"
    )


def render_error(message: str, exit_code: int) -> str:
    """A run that ended without a report: in place of the report, what went wrong."""
    head = f"### {MARK[Severity.ERROR]} lossdoctor: no report (exit code {exit_code})"
    return f"{head}\n\n{_text(message)}\n"


def render_all(results: Iterable[Report | FailedInput]) -> str:
    """Several files: their sections one after another, in the order of the paths."""
    return "\n".join(render_failed(r) if isinstance(r, FailedInput) else render(r) for r in results)


# ---- verdict and findings ----------------------------------------------------------------------


def _verdict(report: Report) -> str:
    errors, warnings, notes = words.tally(report)
    paths = ", ".join(_code(p) for p in report.input.paths)
    note = f", {words.count(notes, 'note')}" if notes else ""
    if not errors + warnings:
        return f"{HEALTHY} {paths}: healthy, {'no problem' if notes else 'no finding'}{note}"
    problems, kinds = words.problems(errors, warnings)
    return f"{MARK[report.worst]} {paths}: {problems} ({kinds}){note}"


def _about(report: Report) -> str:
    info = report.input
    exit_code = f"exit code {report.exit_code} ({_code(f'--fail-on {report.fail_on}')})"
    parts = [words.rows(report), words.task(report), _text(words.kind(report)), exit_code]
    parts[2:2] = [_text(order)] if (order := words.class_order(report)) else []
    columns = [
        f"labels: {_names(info.label_columns)}" if info.label_columns else "",
        f"predictions: {_names(info.prediction_columns)}" if info.prediction_columns else "",
    ]
    return " · ".join(parts + [c for c in columns if c])


def _names(names: Sequence[str]) -> str:
    if len(names) > 3:
        return f"{_code(names[0])} .. {_code(names[-1])} ({len(names)})"
    return ", ".join(_code(name) for name in names)


def _problems(findings: Iterable[Finding]) -> list[str]:
    """Errors and warnings: each a block with its fix, details folded away."""
    return [_problem(f) for f in findings if f.severity > Severity.INFO]


def _problem(finding: Finding) -> str:
    head = (
        f"**{MARK[finding.severity]} {finding.severity}: {_text(finding.title)}** · "
        f"{_code(finding.check)}"
    )
    lines = [head, "", _text(finding.message)]
    if finding.fix:
        lines += ["", f"Fix: {_fix(finding.fix)}"]
    details = _details(finding)
    if details:
        lines += ["", details]
    return "\n".join(lines)


def _details(finding: Finding) -> str:
    parts = []
    if finding.why:
        parts.append(f"Why it matters: {_text(finding.why)}")
    if finding.fixes:
        parts.append("\n".join(f"- {_text(k)}: {_fix(v)}" for k, v in finding.fixes.items()))
    if finding.evidence:
        rows = [
            [_code(k, in_table=True), _text(words.evidence(v, DASH))]
            for k, v in finding.evidence.items()
        ]
        parts.append(_table(["evidence", "value"], rows, "--"))
    if not parts:
        return ""
    body = "\n\n".join(parts)
    return f"<details><summary>Why, fixes, evidence</summary>\n\n{body}\n\n</details>"


def _notes(findings: Iterable[Finding]) -> str:
    """Infos: one line each, as the terminal shows them."""
    return "\n".join(
        f"- {MARK[f.severity]} **{_text(f.title)}**: {_text(f.message)} {_code(f.check)}"
        for f in findings
        if f.severity == Severity.INFO
    )


# ---- the numbers -------------------------------------------------------------------------------


def _metrics(report: Report) -> str:
    metrics = report.metrics
    notes = words.metric_notes(metrics)
    note = "note" if metrics.error_bound else "why undefined"
    intervals = report.metrics_ci
    level = f"{words.confidence(report)} interval"
    header = ["metric", "value"] + ([level] if intervals else []) + ([note] if notes else [])
    rows = []
    for name, value in metrics.values.items():
        row = [_code(name, in_table=True), _number(value)]
        if intervals:
            row.append(words.interval(intervals[name]) if name in intervals else "")
        if notes:
            row.append(_text(notes.get(name, "")))
        rows.append(row)
    return "#### Metrics\n\n" + _table(header, rows, "-:" + "-" * (len(header) - 2))


def _thresholds(report: Report) -> str:
    if report.task != "binary":
        return ""
    header = ["t", "accuracy", "precision", "recall", "F1", "tp", "fp", "fn", "tn", ""]
    rows = []
    for row in sorted(report.metrics.thresholds, key=lambda r: (r.threshold, r.best_f1)):
        note = "best F1" if row.best_f1 else "yours" if row.threshold == report.threshold else ""
        cells = [
            f"{row.threshold:.4g}",
            *(f"{v:.3f}" for v in (row.accuracy, row.precision, row.recall, row.f1)),
            *(words.amount(v) for v in (row.tp, row.fp, row.fn, row.tn)),
        ]
        if note:
            cells = [f"**{c}**" for c in cells]
        rows.append([*cells, note])
    title = f"#### Thresholds: predict 1 when {_code('p >= t')}\n\n"
    return title + _table(header, rows, ":" * 9 + "-")


def _confusion(report: Report) -> str:
    """Rows are true classes, columns predicted; multi-label: tn fp fn tp per label."""
    labels = [_text(str(label)) for label in report.class_labels]
    matrix = report.metrics.confusion
    by_index = _by_index(report.metrics.per_class)
    if report.task == "multilabel":
        rows = [
            [
                labels[k],
                *(words.amount(n.item()) for n in matrix[k].ravel()),
                words.amount(by_index[k].support),
            ]
            for k in range(len(labels))
        ]
        title = f"#### Confusion per label ({_code(f'p >= {report.threshold:g}')})\n\n"
        return title + _table(["label", "tn", "fp", "fn", "tp", "support"], rows, "-:::::")
    rule = f"p >= {report.threshold:g}" if report.task == "binary" else "argmax"
    title = f"#### Confusion matrix ({_code(rule)}): rows true, columns predicted\n\n"
    if report.n_classes > words.MAX_MATRIX_CLASSES:
        return title + (
            f"{report.n_classes} classes: too many for a table here; "
            f"{_code('--format json')} has the matrix."
        )
    rows = [
        [
            f"**{labels[i]}**",
            *(words.amount(n.item()) for n in matrix[i]),
            f"{by_index[i].recall:.3f}",
        ]
        for i in range(len(labels))
    ]
    rows.append(["precision", *(f"{by_index[i].precision:.3f}" for i in range(len(labels))), ""])
    header = ["true \\\\ predicted", *labels, "recall"]
    return title + _table(header, rows, "-" + ":" * (len(labels) + 1))


def _per_class(report: Report) -> str:
    if report.task == "binary":
        return ""  # precision and recall of class 1 are in the metrics, class 0 in the matrix
    noun = "label" if report.task == "multilabel" else "class"
    worst = sorted(report.metrics.per_class, key=lambda c: (c.f1, c.index))
    rows = [
        [
            _text(str(report.class_labels[c.index])),
            *(_number(v) for v in (c.precision, c.recall, c.f1)),
            words.amount(c.support),
            *(_number(v) for v in (c.roc_auc, c.pr_auc)),
        ]
        for c in worst[:MAX_CLASS_ROWS]
    ]
    header = [noun, "precision", "recall", "f1", "support", "roc_auc", "pr_auc"]
    more = len(worst) - MAX_CLASS_ROWS
    rest = f"\n\nand {more} more, with a better F1" if more > 0 else ""
    return (
        f"<details><summary>Per {noun}, worst F1 first</summary>\n\n"
        f"{_table(header, rows, '-::::::')}{rest}\n\n</details>"
    )


def _by_index(per_class: Sequence[ClassMetrics]) -> dict[int, ClassMetrics]:
    return {c.index: c for c in per_class}


# ---- Markdown pieces ---------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], align: str) -> str:
    """A GFM table; `align` has one character per column: - left, : right."""
    rule = ["---:" if a == ":" else "---" for a in align]
    lines = [header, rule, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def _number(value: Any, digits: int = 4) -> str:
    if value is None:
        return DASH
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _fix(fix: str) -> str:
    """A line to type as code; advice in words as text, as the terminal shows them."""
    try:
        ast.parse(fix)
    except SyntaxError:
        return _text(fix)
    return _code(fix)


def _code(text: str, *, in_table: bool = False) -> str:
    """Inline code: a fence longer than any run of backticks inside, as CommonMark allows.

    In a table a pipe is escaped even here: GFM splits the cells before it reads code spans."""
    text = visible(text)  # on one line: a code span keeps its spaces, and no line break
    if in_table:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
