"""The sections of the HTML report in words and numbers: verdict, findings, metrics, thresholds."""

from __future__ import annotations

import ast

from lossdoctor.checks.base import Finding, Severity
from lossdoctor.render import words
from lossdoctor.render.escape import markup
from lossdoctor.render.html.parts import (
    DASH,
    SEVERITY_CLASS,
    Ids,
    interval,
    names,
    number,
)
from lossdoctor.report import Report


def verdict_section(report: Report, ids: Ids, level: int) -> str:
    errors, warnings, notes = words.tally(report)
    note = f", {words.count(notes, 'note')}" if notes else ""
    if not errors + warnings:
        said = "no problem" if notes else "no finding"
        text, kind = f"✓ healthy: {said}{note}", "healthy"
    else:
        problems, kinds = words.problems(errors, warnings)
        text, kind = f"{problems}: {kinds}{note}", SEVERITY_CLASS[report.worst]
    info = report.input
    order = words.class_order(report)
    about = [
        words.rows(report),
        words.task(report),
        *([order] if order else []),
        words.kind(report),
        f"exit code {report.exit_code} (--fail-on {report.fail_on})",
    ]
    columns = []
    if info.label_columns:
        columns.append(f"labels: {names(info.label_columns)}")
    if info.prediction_columns:
        columns.append(f"predictions: {names(info.prediction_columns)}")
    lines = [
        f'<p class="verdict {kind}">{markup(text)}</p>',
        f'<p class="about">{" · ".join(markup(part) for part in about)}</p>',
    ]
    if columns:
        lines.append(f'<p class="columns">{" · ".join(columns)}</p>')
    return "\n".join(lines)


# ---- findings ----------------------------------------------------------------------------------


def findings_section(report: Report, ids: Ids, level: int) -> str:
    if not report.findings:
        return ""
    heading = f"h{level}"
    blocks = "\n".join(_finding(f, level + 1) for f in report.findings)
    return f'<section class="findings">\n<{heading}>Findings</{heading}>\n{blocks}\n</section>'


def _finding(finding: Finding, level: int) -> str:
    kind = SEVERITY_CLASS[finding.severity]
    heading = f"h{level}"
    parts = [
        f'<article class="finding {kind}">',
        f'<{heading}><span class="badge {kind}">{finding.severity}</span> '
        f'{markup(finding.title)} <code class="check">{markup(finding.check)}</code>'
        f"</{heading}>",
        f"<p>{markup(finding.message)}</p>",
    ]
    if finding.fix:
        parts.append(f'<p class="fix">Fix: {_fix(finding.fix)}</p>')
    advice = []
    if finding.why:
        advice.append(f'<p class="why"><strong>Why it matters:</strong> {markup(finding.why)}</p>')
    if finding.fixes:
        rows = "".join(
            f'<tr><th scope="row">{markup(framework)}</th><td>{_fix(line, block=True)}</td></tr>'
            for framework, line in finding.fixes.items()
        )
        advice.append(
            '<table class="fixes"><caption>Fixes by framework</caption>'
            f"<tbody>{rows}</tbody></table>"
        )
    evidence = ""
    if finding.evidence:
        rows = "".join(
            f'<tr><th scope="row"><code>{markup(name)}</code></th>'
            f"<td>{markup(words.evidence(value, DASH))}</td></tr>"
            for name, value in finding.evidence.items()
        )
        evidence = (
            f'<table class="evidence"><caption>Evidence</caption><tbody>{rows}</tbody></table>'
        )
    if advice or evidence:
        details = f'<div class="details"><div>{"".join(advice)}</div><div>{evidence}</div></div>'
        if finding.severity == Severity.INFO:
            # A note folds its details away, as the terminal shows notes in one line.
            details = f"<details><summary>Why, fixes, evidence</summary>{details}</details>"
        parts.append(details)
    parts.append("</article>")
    return "\n".join(parts)


def _fix(fix: str, *, block: bool = False) -> str:
    """A line to type as code, to copy; advice in words as text."""
    try:
        ast.parse(fix)
    except SyntaxError:
        return markup(fix)
    code = f"<code>{markup(fix)}</code>"
    return f"<pre>{code}</pre>" if block else code


# ---- the numbers -------------------------------------------------------------------------------


def metrics_section(report: Report, ids: Ids, level: int) -> str:
    metrics = report.metrics
    notes = words.metric_notes(metrics)
    intervals = report.metrics_ci
    rows = "".join(
        f'<tr data-metric="{markup(name)}"><th scope="row"><code>{markup(name)}</code></th>'
        f"{number(value)}{interval(intervals.get(name)) if intervals else ''}"
        f"<td>{markup(notes.get(name, ''))}</td></tr>"
        for name, value in metrics.values.items()
    )
    level_column = f'<th scope="col">{words.confidence(report)} interval</th>' if intervals else ""
    heading = f"h{level}"
    return (
        f'<section class="metrics">\n<{heading}>Metrics</{heading}>\n'
        '<div class="scroll"><table class="numbers metrics-table"><thead><tr>'
        '<th scope="col">metric</th><th scope="col">value</th>'
        f'{level_column}<th scope="col">note</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>\n</section>"
    )


def thresholds_section(report: Report, ids: Ids, level: int) -> str:
    if report.task != "binary":
        return ""
    heading = f"h{level}"
    rows = []
    for row in sorted(report.metrics.thresholds, key=lambda r: (r.threshold, r.best_f1)):
        note = "best F1" if row.best_f1 else "yours" if row.threshold == report.threshold else ""
        cells = [
            number(row.threshold),
            *(number(v, 3) for v in (row.accuracy, row.precision, row.recall, row.f1)),
            *(number(v) for v in (row.tp, row.fp, row.fn, row.tn)),
        ]
        marked = ' class="marked"' if note else ""
        rows.append(f"<tr{marked}>{''.join(cells)}<td>{note}</td></tr>")
    header = "".join(
        f'<th scope="col">{name}</th>'
        for name in ("t", "accuracy", "precision", "recall", "F1", "tp", "fp", "fn", "tn", "")
    )
    return (
        f'<section class="thresholds">\n<{heading}>Thresholds: predict 1 when '
        f"<code>p &gt;= t</code></{heading}>\n"
        f'<div class="scroll"><table class="numbers"><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>\n</section>"
    )
