"""The segments section of the HTML report (--by): a table per --by, worst segments first."""

from __future__ import annotations

from lossdoctor.render import segments, words
from lossdoctor.render.escape import markup
from lossdoctor.render.html.parts import Ids, interval, number
from lossdoctor.report import Report


def segments_section(report: Report, ids: Ids, level: int) -> str:
    """Each --by's shown segments: rows, the headline metrics with their intervals, the
    difference from the rest, and what was found; the others counted."""
    found = segments.sections(report)
    if not found:
        return ""
    heading = f"h{level}"
    level_name = words.confidence(report)
    parts = [f'<section class="segments">\n<{heading}>Segments</{heading}>']
    for by, shown, hidden in found:
        header = "".join(
            f'<th scope="col">{markup(name)}</th>'
            for name in (
                "segment",
                "rows",
                *(column for name in segments.SHOWN for column in (name, f"{level_name} interval")),
                "vs rest",
                "found",
            )
        )
        rows = []
        for segment in shown:
            cells = "".join(
                number(segment.metrics.get(name))
                + (
                    interval(segment.metrics_ci.get(name))
                    if name in segments.WITH_INTERVALS
                    else ""
                )
                for name in segments.SHOWN
            )
            flags = markup(", ".join(dict.fromkeys(f.check for f in segment.findings)))
            rows.append(
                f'<tr><th scope="row">{markup(str(segment.value))}</th>{number(segment.rows)}'
                f"{cells}{number(segment.difference, 3)}<td>{flags}</td></tr>"
            )
        more = f"<p>and {hidden:,} more segments</p>" if hidden else ""
        parts.append(
            f"<h{level + 1}>by <code>{markup(by)}</code></h{level + 1}>\n"
            f'<div class="scroll"><table class="numbers segments-table"><thead><tr>{header}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{more}"
        )
    parts.append("</section>")
    return "\n".join(parts)
