"""A comparison as text: the terminal's side-by-side table, and the Markdown a reviewer reads
(the HTML page is lossdoctor.render.html.comparison).

Formats and never computes: every number is the Comparison's. Names and titles that come from
the files are made visible (escape.visible) before they are printed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lossdoctor.checks.base import Finding
from lossdoctor.comparison.verdicts import IMPROVEMENT, REGRESSION, MetricComparison
from lossdoctor.render.escape import markdown_text, strict_json, visible
from lossdoctor.render.paired import cells, interval, name, p_value, rows_line
from lossdoctor.report import Report

if TYPE_CHECKING:  # the comparison's model shows itself with the HTML page (_repr_html_)
    from lossdoctor.comparison.result import Comparison


def render_json(comparison: Comparison) -> str:
    return strict_json(comparison.to_dict())


def render_terminal(comparison: Comparison, *, ascii: bool = False) -> str:
    """The metrics side by side with the difference, its interval, the p-value and an arrow;
    then each file's findings."""
    lines = [f"baseline   {visible(_path(comparison.baseline))}"]
    for pair in comparison.pairs:
        lines += ["", f"candidate  {visible(_path(pair.candidate))}", rows_line(pair, comparison)]
        lines += _table(pair.metrics, ascii)
        lines += [f"  {_mark(f)} {visible(f.title)}" for f in pair.findings]
    lines += ["", f"findings of {visible(_path(comparison.baseline))} (baseline):"]
    lines += _report_findings(comparison.baseline)
    for pair in comparison.pairs:
        lines += [f"findings of {visible(_path(pair.candidate))} (candidate):"]
        lines += _report_findings(pair.candidate)
    verdict = "FAILED" if comparison.exit_code else "passed"
    lines += ["", f"comparison {verdict} (exit code {comparison.exit_code})"]
    return "\n".join(lines) + "\n"


def _path(report: Report) -> str:
    return ", ".join(report.input.paths)


def _table(metrics: tuple[MetricComparison, ...], ascii: bool) -> list[str]:
    header = ("metric", "baseline", "candidate", "difference", "interval", "p", "test", "")
    rows = [header] + [cells(m, ascii) for m in metrics]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return [
        "  "
        + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _mark(finding: Finding) -> str:
    return str(finding.severity).upper()


def _report_findings(report: Report) -> list[str]:
    if not report.findings:
        return ["  none"]
    return [f"  {_mark(f)} {f.check}: {visible(f.title)}" for f in report.findings]


def render_markdown(comparison: Comparison) -> str:
    """The pull-request comment: a verdict line per candidate, its table, then the findings."""
    parts = [f"## lossdoctor compare: {markdown_text(_path(comparison.baseline))} (baseline)"]
    for pair in comparison.pairs:
        parts.append(f"### {markdown_text(_path(pair.candidate))}")
        parts.append(markdown_text(rows_line(pair, comparison)))
        parts.append("\n".join(f"- {_sentence(m)}" for m in pair.metrics if "[" not in m.metric))
        parts.append(_markdown_table(pair.metrics))
        found = [*pair.findings, *pair.candidate.findings]
        if found:
            parts += ["Findings:", _findings(found)]
    if comparison.baseline.findings:
        parts += ["Findings of the baseline:", _findings(comparison.baseline.findings)]
    return "\n\n".join(parts) + "\n"


def _findings(findings) -> str:
    return "\n".join(f"- **{f.severity}** `{f.check}`: {markdown_text(f.title)}" for f in findings)


def _sentence(m: MetricComparison) -> str:
    """ROC-AUC -0.004 [-0.007, -0.001], p = 0.01: significant regression."""
    low, high = m.ci
    said = {
        REGRESSION: "significant regression",
        IMPROVEMENT: "significant improvement",
    }.get(m.verdict, f"no detectable difference (could detect {m.detectable:.2g})")
    p = p_value(m.p_value)
    p = f"p {p}" if p.startswith("<") else f"p = {p}"
    return f"{name(m.metric)} {m.difference:+.3g} [{low:+.3g}, {high:+.3g}], {p}: {said}"


def _markdown_table(metrics: tuple[MetricComparison, ...]) -> str:
    header = "| metric | baseline | candidate | difference | interval | p | test |"
    rule = "|---|--:|--:|--:|--:|--:|---|"
    rows = [
        f"| {name(m.metric)} | {m.baseline:.4f} | {m.candidate:.4f} | {m.difference:+.4f} "
        f"| {interval(m)} | {p_value(m.p_value)} | {m.test} |"
        for m in metrics
    ]
    return "\n".join([header, rule, *rows])


def render_html(comparison: Comparison) -> str:
    """The page: each candidate's paired tests, the models' curves overlaid, then each file's
    report (lossdoctor.render.html.comparison)."""
    from lossdoctor.render.html.comparison import render_page

    return render_page(comparison)
