"""The HTML report in a real browser: headless Chromium, offline, loads the reports of a binary,
a multi-class and a multi-label sample, and compare pages (binary, multi-class), at desktop and
phone widths, in light and dark themes (with every folded section opened).

No console error, no request but the file itself, no failed load; every chart drawn with a
size; no page wider than the screen; and the screenshots' pixels show a page, not a blank: the
theme's background, the charts' palette inside the charts. Screenshots are kept in pytest's
temporary directory (and in $LOSSDOCTOR_SCREENSHOTS, when set).

Chromium is Debian's `chromium` (`make test` installs it when it can). Without it these tests
skip, except where a browser is required (CI, or LOSSDOCTOR_REQUIRE_BROWSER=1): there they fail.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import lossdoctor
from lossdoctor.io import read_predictions
from lossdoctor.render.html import render_all
from lossdoctor.render.html.style import DARK, LIGHT
from lossdoctor.settings import Settings
from tests.browser import Browser, chromium, read_png
from tests.comparison.helpers import multiclass_models, two_models
from tests.conftest import SAMPLES
from tests.helpers import diagnose_predictions

REQUIRED = bool(os.environ.get("CI") or os.environ.get("LOSSDOCTOR_REQUIRE_BROWSER"))
DESKTOP, PHONE = 1280, 390
CHARTS = "[...document.querySelectorAll('svg.chart')]"
FOLDED = "[...document.querySelectorAll('details:not([open])')]"
RECTANGLE = "e => {const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]}"


@pytest.fixture(scope="module")
def browser():
    executable = chromium()
    if executable is None:
        reason = "Chromium is not installed (apt-get install chromium; make test does it as root)"
        if REQUIRED:
            pytest.fail(reason + ", and this run requires a browser")
        pytest.skip(reason)
    opened = Browser(executable)
    yield opened
    opened.close()


def multilabel_report() -> lossdoctor.Report:
    rng = np.random.default_rng(7)
    y = (rng.uniform(size=(2_000, 5)) < [0.5, 0.3, 0.2, 0.1, 0.05]).astype(int)
    proba = np.clip(0.45 * y + 0.55 * rng.uniform(size=y.shape), 0, 1)
    return lossdoctor.diagnose(y, proba, task="multilabel")


def sample(name: str) -> lossdoctor.Report:
    """A sample's report, named by its path in the repository wherever the tests run."""
    report = diagnose_predictions(read_predictions(str(SAMPLES / name)), Settings())
    return replace(report, input=replace(report.input, paths=(f"sample_data/{name}",)))


REPORTS = {
    "binary": lambda: sample("imbalanced.parquet"),
    "multiclass": lambda: sample("healthy_multiclass.parquet"),
    "multilabel": multilabel_report,
}


def comparison(y: np.ndarray, baseline: np.ndarray, candidate: np.ndarray) -> str:
    """The compare page of two models' scores, named as files."""
    from lossdoctor.comparison import Frame, Pairing, compare_paths
    from lossdoctor.render.comparison import render_html

    def frame(name: str, scores: np.ndarray) -> Frame:
        columns = {f"prob_{k}": scores[:, k] for k in range(scores.shape[1])}
        return Frame(f"models/{name}.parquet", columns | {"label": y})

    return render_html(
        compare_paths(
            frame("baseline", baseline),
            [frame("candidate", candidate)],
            Settings(),
            Pairing(replicates=200),
        )
    )


def binary_comparison() -> str:
    y, first, second = two_models(3_000, seed=1, gap=0.15)
    return comparison(y, np.column_stack([1 - first, first]), np.column_stack([1 - second, second]))


def multiclass_comparison() -> str:
    return comparison(*multiclass_models(3_000, 4, seed=2))


PAGES = {
    **{kind: lambda make=make: render_all([make()]) for kind, make in REPORTS.items()},
    "compare-binary": binary_comparison,
    "compare-multiclass": multiclass_comparison,
}


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("html")
    written = {}
    for kind, make in PAGES.items():
        path = folder / f"{kind}.html"
        path.write_text(make(), encoding="utf-8")
        written[kind] = path
    return written


def keep(shot: bytes, name: str, tmp_path: Path) -> None:
    (tmp_path / name).write_bytes(shot)
    wanted = os.environ.get("LOSSDOCTOR_SCREENSHOTS")
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        (Path(wanted) / name).write_bytes(shot)


def colour(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])


def in_palette(pixels: np.ndarray, palette: list[np.ndarray]) -> int:
    """Pixels within a small distance of one of the palette's colours (its greys aside: text
    is drawn in them too)."""
    near = [np.abs(pixels - c).sum(axis=2) < 40 for c in palette if np.ptp(c) > 50]
    return int(np.logical_or.reduce(near).sum())


@pytest.mark.parametrize("kind", list(PAGES))
@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_report_loads_offline_with_every_chart_drawn(
    browser, pages, kind, width, dark, tmp_path
):
    path = pages[kind]
    page, session = browser.open(path, width, dark=dark)
    assert page.requests == [path.resolve().as_uri()]
    assert page.failed == []
    assert page.console == []
    assert page.exceptions == []

    # Every chart has a size once the folded sections are opened; the pixels are checked in
    # those shown unfolded.
    browser.evaluate(session, f"{FOLDED}.forEach(d => {{d.open = true; d.dataset.opened = 1}})")
    every = browser.evaluate(session, f"{CHARTS}.map({RECTANGLE})")
    browser.evaluate(
        session, "document.querySelectorAll('[data-opened]').forEach(d => d.open = false)"
    )
    assert len(every) == path.read_text(encoding="utf-8").count('<svg class="chart')
    for _, _, chart_width, chart_height in every:
        assert chart_width > 100 and chart_height > 80
    sizes = browser.evaluate(
        session, f"{CHARTS}.filter(e => !e.closest('details:not([open])')).map({RECTANGLE})"
    )
    assert len(sizes) >= 3
    page_width = browser.evaluate(session, "document.documentElement.scrollWidth")
    assert page_width <= width  # nothing wider than the screen: tables scroll in their box

    shot = browser.screenshot(session)
    keep(shot, f"{kind}-{width}-{'dark' if dark else 'light'}.png", tmp_path)
    image = read_png(shot)
    assert image.width == width and image.height > 1_000
    background = np.array(image.pixel(2, 2))
    if dark:
        assert background.sum() < 3 * 60
    else:
        assert background.min() > 245
    pixels = image.pixels[..., :3].astype(int)
    drawn = np.abs(pixels - background).sum(axis=2) > 60
    assert drawn.mean() > 0.03  # text and charts, not a blank page

    # Each chart holds the palette's colours: its lines, marks or bars were drawn.
    palette = [colour(c) for c in (DARK if dark else LIGHT)]
    for left, top, chart_width, chart_height in sizes:
        left, top = int(left), int(top)
        inside = pixels[top : top + int(chart_height), left : left + int(chart_width)]
        assert in_palette(inside, palette) > 200


def test_a_page_without_charts_would_fail_the_pixel_checks(browser, tmp_path):
    """The pixel checks above can fail: a page of text only has no chart colour."""
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><title>x</title><p>nothing</p>", encoding="utf-8")
    _, session = browser.open(blank, DESKTOP)
    image = read_png(browser.screenshot(session))
    pixels = image.pixels[..., :3].astype(int)
    drawn = np.abs(pixels - np.array(image.pixel(2, 2))).sum(axis=2) > 60
    assert drawn.mean() < 0.03
    assert in_palette(pixels, [colour(c) for c in LIGHT]) == 0


def test_a_request_from_the_page_is_seen(browser, tmp_path):
    """The request check above can fail: a page that asks for a file elsewhere is caught."""
    fetching = tmp_path / "fetching.html"
    fetching.write_text(
        '<!DOCTYPE html><title>x</title><img src="https://example.com/x.png" alt="">',
        encoding="utf-8",
    )
    page, _ = browser.open(fetching, DESKTOP)
    assert "https://example.com/x.png" in page.requests
    assert page.failed


def test_the_report_prints_on_a4(browser, pages):
    """Printed (to PDF), the page takes the A4 size its stylesheet asks for."""
    _, session = browser.open(pages["multiclass"], DESKTOP)
    pdf = base64.b64decode(
        browser.send("Page.printToPDF", {"preferCSSPageSize": True}, session)["data"]
    )
    assert pdf.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert len(boxes) >= 2  # pages
    for width, height in boxes:
        assert abs(float(width) - 595.3) < 2 and abs(float(height) - 841.9) < 2  # A4 in points
