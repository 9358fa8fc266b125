"""The HTML report's stylesheet: light and dark themes, print, and the charts' colours."""

from __future__ import annotations

from collections.abc import Sequence

# Okabe & Ito's palette, which readers with any common colour-vision deficiency tell apart;
# black becomes light grey in the dark theme.
LIGHT = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
DARK = ("#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#0072B2", "#DDDDDD", "#F0E442")


def _palette(colours: Sequence[str]) -> str:
    return "".join(f"--c{n}:{colour};" for n, colour in enumerate(colours))


STYLE = f"""
.lossdoctor{{{_palette(LIGHT)}--fg:#1b1b1b;--bg:#ffffff;--muted:#5a5a5a;--line:#d0d0d0;
--soft:#f3f3f3;--error:#b3261e;--warning:#8a5a00;--info:#005a8c;--healthy:#1e6b34;
color:var(--fg);background:var(--bg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",
Roboto,Helvetica,Arial,sans-serif;max-width:1180px;margin:0 auto;padding:12px 16px}}
@media (prefers-color-scheme:dark){{.lossdoctor{{{_palette(DARK)}--fg:#e8e8e8;--bg:#16181b;
--muted:#a8a8a8;--line:#3c4046;--soft:#22252a;--error:#ff8a80;--warning:#ffcc66;
--info:#7cc4ff;--healthy:#7fd494}}.lossdoctor svg.heat text.value.on-dark{{fill:#000000}}}}
.lossdoctor h1{{font-size:1.5em;margin:.2em 0 .4em}}
.lossdoctor h2,.lossdoctor h3,.lossdoctor h4,.lossdoctor h5{{margin:1.1em 0 .4em;line-height:1.25}}
.lossdoctor .paths{{font-size:1.2em;word-break:break-all;border-bottom:1px solid var(--line);
padding-bottom:.2em}}
.lossdoctor code,.lossdoctor pre{{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,
"DejaVu Sans Mono",monospace;font-size:.9em}}
.lossdoctor pre{{margin:0;white-space:pre-wrap;word-break:break-word;background:var(--soft);
padding:.3em .5em;border-radius:4px;user-select:all}}
.lossdoctor code{{word-break:break-word}}
.lossdoctor .verdict{{font-size:1.25em;font-weight:700;margin:.3em 0}}
.lossdoctor .verdict.error,.lossdoctor .badge.error{{color:var(--error)}}
.lossdoctor .verdict.warning,.lossdoctor .badge.warning{{color:var(--warning)}}
.lossdoctor .verdict.info,.lossdoctor .badge.info{{color:var(--info)}}
.lossdoctor .verdict.healthy{{color:var(--healthy)}}
.lossdoctor .about,.lossdoctor .columns,.lossdoctor .note{{color:var(--muted);margin:.2em 0}}
.lossdoctor .finding{{border:1px solid var(--line);border-left:6px solid var(--info);
border-radius:6px;padding:.2em .9em .6em;margin:.7em 0;break-inside:avoid}}
.lossdoctor .finding.error{{border-left-color:var(--error)}}
.lossdoctor .finding.warning{{border-left-color:var(--warning)}}
.lossdoctor .finding h4,.lossdoctor .finding h5{{margin:.5em 0 .3em}}
.lossdoctor .badge{{text-transform:uppercase;font-size:.75em;letter-spacing:.05em;
border:1px solid currentColor;border-radius:3px;padding:0 .3em;vertical-align:middle}}
.lossdoctor .check{{color:var(--muted);font-weight:400}}
.lossdoctor table{{border-collapse:collapse;margin:.4em 0;font-size:.92em}}
.lossdoctor caption{{text-align:left;font-weight:600;padding:.2em 0}}
.lossdoctor th,.lossdoctor td{{border-bottom:1px solid var(--line);padding:.2em .6em;
text-align:left;vertical-align:top}}
.lossdoctor .numbers td{{text-align:right;font-variant-numeric:tabular-nums}}
.lossdoctor .numbers th,.lossdoctor .numbers td{{white-space:nowrap}}
.lossdoctor .numbers td.name{{text-align:left}}
.lossdoctor .keys{{color:var(--muted)}}
.lossdoctor .numbers td:last-child:not([data-value]){{text-align:left;color:var(--muted)}}
.lossdoctor tr.marked{{font-weight:700}}
.lossdoctor .fixes td{{width:100%}}
.lossdoctor .fixes th{{white-space:nowrap}}
.lossdoctor .evidence th{{overflow-wrap:anywhere}}
.lossdoctor .fixes{{width:100%}}
.lossdoctor .details{{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));
gap:0 24px}}
.lossdoctor .details>div{{min-width:0}}
.lossdoctor summary{{cursor:pointer;color:var(--muted)}}
.lossdoctor .scroll{{overflow-x:auto;max-width:100%}}
.lossdoctor .charts{{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));
gap:12px 20px;align-items:start}}
.lossdoctor figure{{margin:0;break-inside:avoid;min-width:0}}
.lossdoctor svg.chart{{width:100%;height:auto;display:block;max-width:560px}}
.lossdoctor svg.heat{{max-width:620px}}
.lossdoctor svg text{{fill:var(--fg);font-size:11px;font-family:inherit}}
.lossdoctor svg .label{{font-size:12px}}
.lossdoctor svg .grid{{stroke:var(--line);stroke-width:.5}}
.lossdoctor svg .axis{{stroke:var(--fg);stroke-width:1}}
.lossdoctor svg .reference{{stroke:var(--muted);stroke-dasharray:4 4;fill:none}}
.lossdoctor svg .threshold{{stroke:var(--fg);stroke-dasharray:2 3;stroke-width:1.2}}
.lossdoctor svg .line{{fill:none;stroke-width:2;stroke-linejoin:round}}
.lossdoctor svg .dashed{{stroke-dasharray:6 3}}
.lossdoctor svg .dotted{{stroke-dasharray:1 3.5;stroke-linecap:round}}
.lossdoctor svg .mark{{stroke:var(--bg);stroke-width:1.5}}
.lossdoctor svg .bars rect{{fill-opacity:.75}}
.lossdoctor svg .cell{{fill:var(--c0);stroke:var(--bg);stroke-width:1}}
.lossdoctor svg text.value.on-dark{{fill:#ffffff}}
{"".join(f".lossdoctor svg .c{n}{{stroke:var(--c{n});fill:var(--c{n})}}" for n in range(8))}
{"".join(f".lossdoctor svg .line.c{n}{{fill:none}}" for n in range(8))}
.lossdoctor .legend{{list-style:none;padding:0;margin:.3em 0;display:flex;flex-wrap:wrap;
gap:.2em 1em;font-size:.9em}}
.lossdoctor .swatch{{display:inline-block;width:.9em;height:.9em;border-radius:2px;
margin-right:.35em;vertical-align:-.1em}}
{"".join(f".lossdoctor .swatch.c{n}{{background:var(--c{n})}}" for n in range(8))}
.lossdoctor .stroke{{display:inline-block;width:2em;border-top:3px solid var(--muted);
margin-right:.35em;vertical-align:.3em}}
.lossdoctor .stroke.dashed{{border-top-style:dashed}}
.lossdoctor .stroke.dotted{{border-top-style:dotted}}
{"".join(f".lossdoctor .stroke.c{n}{{border-top-color:var(--c{n})}}" for n in range(8))}
.lossdoctor table.comparison tr.regression td.call{{color:var(--error);font-weight:600}}
.lossdoctor table.comparison tr.improvement td.call{{color:var(--healthy);font-weight:600}}
.lossdoctor .pair-findings{{padding-left:1.2em}}
.lossdoctor .pair-findings li{{margin:.25em 0}}
.lossdoctor .pair-findings summary{{color:inherit}}
@media print{{@page{{size:A4;margin:12mm}}
.lossdoctor{{max-width:none;padding:0;font-size:10.5pt;color:#000;background:#fff}}
.lossdoctor .charts{{grid-template-columns:1fr 1fr}}
.lossdoctor .scroll{{overflow:visible}}
.lossdoctor section{{break-inside:auto}}
.lossdoctor details::details-content{{content-visibility:visible;display:contents}}
.lossdoctor h2,.lossdoctor h3,.lossdoctor h4{{break-after:avoid}}}}
"""
# The page around the reports; not in a notebook, whose page is not ours to style.
PAGE_STYLE = """
html,body{margin:0;background:#ffffff}
@media (prefers-color-scheme:dark){html,body{background:#16181b}}
@media print{html,body{background:#ffffff}}
"""
