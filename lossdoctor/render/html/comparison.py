"""The compare page (`lossdoctor compare --format html`), and the same in a notebook.

At the top, each candidate's paired tests against the baseline (each metric's difference, its
interval, the p-values and the verdict) and the comparison's findings; then the models' curves
overlaid (overlaid.py); then each file: its verdict and findings, and the rest of its report as
the check page draws it, folded away. Formats and never computes: every number is the
Comparison's, written in full in the cells' data attributes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from lossdoctor.checks.base import Finding
from lossdoctor.comparison.verdicts import IMPROVEMENT, REGRESSION, MetricComparison
from lossdoctor.render.escape import markup
from lossdoctor.render.html import SECTIONS, page
from lossdoctor.render.html.overlaid import models, overlaid_section
from lossdoctor.render.html.parts import SEVERITY_CLASS, Ids, number
from lossdoctor.render.html.style import STYLE
from lossdoctor.render.html.text import findings_section, verdict_section
from lossdoctor.render.paired import cells, p_value, rows_line
from lossdoctor.render.paired import name as metric_name
from lossdoctor.report import Report

if TYPE_CHECKING:  # the comparison's model shows itself with this page (Comparison._repr_html_)
    from lossdoctor.comparison.result import Comparison, Paired

# What each file shows unfolded; the rest of its sections are in a <details> below them.
UNFOLDED = (verdict_section, findings_section)


def render_page(comparison: Comparison) -> str:
    paths = [_path(r) for r in (comparison.baseline, *comparison.candidates)]
    title = "lossdoctor compare: " + ", ".join(paths)
    return page(title, _body(comparison, Ids(), 2), heading="lossdoctor compare")


def fragment(comparison: Comparison) -> str:
    """The page's body as a block with its own scoped stylesheet: what a notebook shows."""
    body = _body(comparison, Ids(prefix=f"ld{id(comparison):x}-"), 3)
    return f'<div class="lossdoctor">\n<style>{STYLE}</style>\n{body}\n</div>'


def _path(report: Report) -> str:
    return ", ".join(report.input.paths)


def _body(comparison: Comparison, ids: Ids, level: int) -> str:
    drawn = models(comparison)
    parts = [
        f'<p class="about">baseline <code>{markup(_path(comparison.baseline))}</code> · '
        f"exit code {comparison.exit_code}</p>",
        *(
            _pair_section(pair, model.name, comparison, level)
            for pair, model in zip(comparison.pairs, drawn[1:], strict=True)
        ),
        overlaid_section(comparison, ids, level),
        *(_file_section(model.report, model.name, ids, level) for model in drawn),
    ]
    return "\n".join(parts)


def _pair_section(pair: Paired, role: str, comparison: Comparison, level: int) -> str:
    heading = f"h{level}"
    parts = [
        f'<section class="comparison">\n<{heading} class="paths">{markup(_path(pair.candidate))}'
        f" ({role}) against the baseline</{heading}>",
        _verdict(pair),
        f'<p class="about">{markup(rows_line(pair, comparison))}</p>',
        _table(pair.metrics, comparison.confidence),
    ]
    if pair.findings:
        parts.append(_findings(pair.findings))
    parts.append("</section>")
    return "\n".join(parts)


def _findings(findings: tuple[Finding, ...]) -> str:
    """The comparison's findings, a line each: the title, and the message folded under it (a
    verdict's numbers are the table's)."""
    items = "".join(
        f'<li><details><summary><span class="badge {SEVERITY_CLASS[f.severity]}">'
        f'{f.severity}</span> {markup(f.title)} <code class="check">{markup(f.check)}</code>'
        f"</summary><p>{markup(f.message)}</p></details></li>"
        for f in findings
    )
    return f'<ul class="pair-findings">{items}</ul>'


def _verdict(pair: Paired) -> str:
    """The headline metrics that moved, as the comparison's findings name them (a class's
    own metric, such as ROC-AUC[2], is in the table)."""
    headline = [m for m in pair.metrics if "[" not in m.metric]
    regressed = [metric_name(m.metric) for m in headline if m.verdict == REGRESSION]
    improved = [metric_name(m.metric) for m in headline if m.verdict == IMPROVEMENT]
    said = [f"↓ regression: {', '.join(regressed)}"] if regressed else []
    said += [f"↑ improvement: {', '.join(improved)}"] if improved else []
    kind = "error" if regressed else "healthy" if improved else "info"
    text = "; ".join(said) or "= no detectable difference"
    return (
        f'<p class="verdict {kind}">{markup(text)}</p>'
        f'<p class="about">exit code {pair.exit_code}</p>'
    )


HEADER = ("metric", "baseline", "candidate", "difference", "interval", "p", "p (Holm)", "test")


def _table(metrics: tuple[MetricComparison, ...], confidence: float) -> str:
    header = "".join(
        f'<th scope="col">{f"{confidence:.0%} interval" if cell == "interval" else cell}</th>'
        for cell in (*HEADER, "verdict")
    )
    rows = "".join(_row(m) for m in metrics)
    return (
        '<div class="scroll"><table class="numbers comparison"><caption>Paired tests on the same '
        f"rows</caption><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _row(m: MetricComparison) -> str:
    shown = cells(m, ascii=False)
    low, high = m.ci
    kind = f' class="{m.verdict}"' if m.verdict in (REGRESSION, IMPROVEMENT) else ""
    return (
        f'<tr{kind} data-metric="{markup(m.metric)}"><th scope="row">{markup(shown[0])}</th>'
        f"{number(float(m.baseline))}{number(float(m.candidate))}"
        f'{_cell(m.difference, shown[3])}<td class="interval" data-low="{float(low)!r}" '
        f'data-high="{float(high)!r}">{shown[4]}</td>'
        f"{_cell(m.p_value, p_value(m.p_value))}{_cell(m.p_adjusted, p_value(m.p_adjusted))}"
        f'<td class="name">{markup(m.test)}</td><td class="call">{markup(shown[7])}</td></tr>'
    )


def _cell(value: float, shown: str) -> str:
    """A number as the terminal writes it, in full in data-value when it is defined."""
    value = float(value)
    full = f' data-value="{value!r}"' if math.isfinite(value) else ""
    return f"<td{full}>{markup(shown)}</td>"


def _file_section(report: Report, role: str, ids: Ids, level: int) -> str:
    heading = f"h{level}"
    unfolded = [section(report, ids, level + 1) for section in UNFOLDED]
    folded = [section(report, ids, level + 1) for section in SECTIONS if section not in UNFOLDED]
    return "\n".join(
        part
        for part in (
            f'<section class="report">\n<{heading} class="paths">{markup(_path(report))} '
            f"({role})</{heading}>",
            *unfolded,
            '<details class="whole"><summary>Its metrics, curves, thresholds, score '
            "distributions, confusion and per-class table</summary>",
            *folded,
            "</details>\n</section>",
        )
        if part
    )
