#!/usr/bin/env python3
"""The playground in a real browser (scripts/playground_check.sh starts the server): Debian's Chromium,
headless, driven by Playwright (its Python package, with no browser of its own), opens the page, waits for
the app's widgets and a histogram, saves the rendered DOM and a screenshot, and checks them. Every wait is
bounded."""

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

WIDGETS = {  # marimo's custom elements, and how many of each the app shows at least
    "marimo-dropdown": 4,
    "marimo-slider": 1,
    "marimo-range-slider": 1,
    "marimo-button": 2,
    "marimo-checkbox": 2,
    "marimo-switch": 1,
    "marimo-multiselect": 1,
    "marimo-number": 2,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--timeout", type=float, default=120, help="seconds for the page and its charts")
    args = ap.parse_args()
    failures = []
    flags = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync"]  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, headless=True, args=flags)
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.set_default_timeout(args.timeout * 1000)
        page.goto(args.url, wait_until="domcontentloaded")
        page.locator("h1", has_text="resnet8 quantization playground").wait_for()
        # The layer histogram: marimo's Vega element carrying the chart's spec (its title), and a drawn chart.
        histogram = page.locator("marimo-vega[data-spec*='fp32 beside quantized']")
        histogram.first.wait_for(state="attached")
        charts = page.locator("canvas")  # Vega draws every chart into one (inside shadow roots, which locators pierce)
        charts.first.wait_for()
        page.wait_for_timeout(2000)  # let the last charts draw
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "dom.html").write_text(page.content())
        page.screenshot(path=str(args.out / "screenshot.png"), full_page=True)
        for tag, least in WIDGETS.items():
            n = page.locator(tag).count()
            print(f"{'ok  ' if n >= least else 'FAIL'} {n} {tag} (at least {least})")
            if n < least:
                failures.append(tag)
        n = charts.count()
        print(f"{'ok  ' if n >= 3 else 'FAIL'} {n} charts drawn (the two histograms and the channel scales)")
        if n < 3:
            failures.append("charts")
        n = histogram.count()
        print(f"{'ok  ' if n == 1 else 'FAIL'} the layer histogram (fp32 beside quantized): {n}")
        if n != 1:
            failures.append("histogram")
        text = page.locator("body").inner_text()
        for needed in ("Models", "Layers", "What if", "Graph", "Sensitivity", "stem.conv"):
            ok = needed in text
            print(f"{'ok  ' if ok else 'FAIL'} the page says '{needed}'")
            if not ok:
                failures.append(needed)
        if "Traceback" in text:
            failures.append("a Python traceback on the page")
        browser.close()
    print(f"DOM: {args.out / 'dom.html'}, screenshot: {args.out / 'screenshot.png'}")
    print(f"{len(failures)} failed: {failures}" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
