"""Screenshots of the HTML report for the README: three reports and a compare page at desktop
and phone widths.

    .venv/bin/python docs/screenshots.py            # needs Chromium (apt-get install chromium)

Writes docs/html-{binary,multiclass,multilabel,compare}-{desktop,phone}.png in the light theme,
from the same pages the browser tests load: a report on a desktop from the metrics down (the
curves, the distributions), on a phone from the curves down; the compare page of two binary
models from the paired tests down, and on a phone from the overlaid curves down.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lossdoctor.render.html import render_all  # noqa: E402
from tests.browser import Browser, chromium  # noqa: E402
from tests.test_browser import REPORTS, binary_comparison  # noqa: E402

# width, height of the picture, and the section it starts at
SIZES = {"desktop": (1280, 1400, "metrics"), "phone": (390, 1700, "curves")}
COMPARE_SIZES = {"desktop": (1280, 1250, "comparison"), "phone": (390, 1500, "overlaid")}
PAGES = {
    **{kind: (lambda make=make: render_all([make()]), SIZES) for kind, make in REPORTS.items()},
    "compare": (binary_comparison, COMPARE_SIZES),
}


def main() -> int:
    executable = chromium()
    if executable is None:
        print("Chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    browser = Browser(executable)
    try:
        for kind, (make, sizes) in PAGES.items():
            page = ROOT / "docs" / f".{kind}.html"
            page.write_text(make(), encoding="utf-8")
            try:
                for size, (width, height, section) in sizes.items():
                    _, session = browser.open(page, width, height)
                    top = browser.evaluate(
                        session,
                        f"document.querySelector('section.{section}').getBoundingClientRect().top",
                    )
                    clip = {"x": 0, "y": top - 8, "width": width, "height": height, "scale": 1}
                    shot = browser.send(
                        "Page.captureScreenshot",
                        {"format": "png", "clip": clip, "captureBeyondViewport": True},
                        session,
                    )
                    out = ROOT / "docs" / f"html-{kind}-{size}.png"
                    out.write_bytes(base64.b64decode(shot["data"]))
                    print(f"{out.relative_to(ROOT)}: {out.stat().st_size:,} bytes")
            finally:
                page.unlink()
    finally:
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
