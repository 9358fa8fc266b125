"""The report as one self-contained HTML page, to attach to an issue or open in a notebook.

Charts are hand-written inline SVG from a handful of functions (lossdoctor.render.svg), not a
plotting library: the page must make no request at view time (no script bundle, no web font;
a Content-Security-Policy forbids any), read without JavaScript, stay under a megabyte or two
for a thousand classes, and this package must cost nothing to the other formats. The charts a
report needs (lines with marked points, bars, a heat map) are a few hundred lines of SVG, whose
text stays text, and which the stylesheet colours for light and dark themes and for print.

The page is a list of sections, one function each (SECTIONS): a report that carries more (a
comparison, segments) gets a section by adding a function. The sections in words and numbers
are in text.py, the curves in curves.py, the per-class charts in classes.py; parts.py holds
what they share and style.py the stylesheet. The compare page (comparison.py) draws the
models' curves overlaid (overlaid.py) above each file's sections. Everything from the data
(paths, column names, class names, findings) is escaped. This package draws; it computes
nothing the report does not hold (the curves come from lossdoctor.metrics, thinned there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from lossdoctor.render.escape import markup
from lossdoctor.render.html.classes import (
    confusion_section,
    distributions_section,
    per_class_section,
)
from lossdoctor.render.html.curves import curves_section
from lossdoctor.render.html.parts import Ids
from lossdoctor.render.html.segments import segments_section
from lossdoctor.render.html.style import PAGE_STYLE, STYLE
from lossdoctor.render.html.text import (
    findings_section,
    metrics_section,
    thresholds_section,
    verdict_section,
)
from lossdoctor.report import FailedInput, Report

# Nothing may load: no script, no font, no image but inline ones, no frame, no form target.
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"


def render_all(results: Iterable[Report | FailedInput]) -> str:
    """A whole page: every report (or the error of a path that could not be read), in order."""
    results = list(results)
    ids = Ids()
    body = "\n".join(
        _failed(r) if isinstance(r, FailedInput) else _report(r, ids, level=2) for r in results
    )
    names = [p for r in results for p in (r.input.paths if isinstance(r, Report) else [r.path])]
    return page("lossdoctor: " + ", ".join(names), body)


def render_error(message: str, exit_code: int) -> str:
    """A run that ended without a report: in place of the report, a page saying what went wrong."""
    body = (
        f'<section class="report failed">\n<h2>no report (exit code {exit_code})</h2>\n'
        f'<p class="verdict error">{markup(message)}</p>\n</section>'
    )
    return page("lossdoctor: no report", body)


def page(title: str, body: str, heading: str = "lossdoctor report") -> str:
    """The document around a body: the policy that forbids every request, the stylesheet."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f"<title>{markup(title)}</title>\n<style>{PAGE_STYLE}{STYLE}</style>\n</head>\n<body>\n"
        f'<main class="lossdoctor">\n<h1>{markup(heading)}</h1>\n{body}\n</main>\n'
        "</body>\n</html>\n"
    )


def fragment(report: Report) -> str:
    """One report as a block with its own scoped stylesheet: what a notebook shows."""
    body = _report(report, Ids(prefix=f"ld{id(report):x}-"), level=3)
    return f'<div class="lossdoctor">\n<style>{STYLE}</style>\n{body}\n</div>'


# ---- the page of one report --------------------------------------------------------------------


def _report(report: Report, ids: Ids, level: int) -> str:
    heading = f"h{level}"
    paths = ", ".join(report.input.paths)
    parts = [
        f'<section class="report">\n<{heading} class="paths">{markup(paths)}</{heading}>',
        *(section(report, ids, level + 1) for section in SECTIONS),
        "</section>",
    ]
    return "\n".join(part for part in parts if part)


def _failed(failed: FailedInput) -> str:
    return (
        f'<section class="report failed">\n<h2 class="paths">{markup(failed.path)}</h2>\n'
        f'<p class="verdict error">not diagnosed: {markup(failed.message)}</p>\n</section>'
    )


SECTIONS: tuple[Callable[[Report, Ids, int], str], ...] = (
    verdict_section,
    findings_section,
    metrics_section,
    curves_section,
    thresholds_section,
    distributions_section,
    confusion_section,
    per_class_section,
    segments_section,
)
