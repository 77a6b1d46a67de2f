#!/usr/bin/env python3
"""The playground in a real browser (scripts/playground_check.sh starts the server, with an access token):
Debian's Chromium, headless, driven by Playwright (its Python package, with no browser of its own). Without
the token the server does not serve the app. With it, the page shows the app's widgets and a histogram
(the DOM and a screenshot are saved); then the What-if controls are set to 6-bit activations, the real file
is written (resnet8-ptq: the .pt and its report, no ONNX or TFLite, which take 7 or 8 bits, as the page
says), and the model picker lists it and has picked it. Every wait is bounded."""

import argparse
import re
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
TITLE = "resnet8 quantization playground"


def check(failures, ok, what):
    print(f"{'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)


def without_token(browser, url, failures):
    page = browser.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_timeout(3000)
    check(failures, TITLE not in page.content(), "without the access token the app is not served")
    page.close()


def widgets_and_charts(page, out, failures):
    page.locator("h1", has_text=TITLE).wait_for()
    # The layer histogram: marimo's Vega element carrying the chart's spec (its title), and a drawn chart.
    histogram = page.locator("marimo-vega[data-spec*='fp32 beside quantized']")
    histogram.first.wait_for(state="attached")
    charts = page.locator("canvas")  # Vega draws every chart into one (inside shadow roots, which locators pierce)
    charts.first.wait_for()
    page.wait_for_timeout(2000)  # let the last charts draw
    out.mkdir(parents=True, exist_ok=True)
    (out / "dom.html").write_text(page.content())
    page.screenshot(path=str(out / "screenshot.png"), full_page=True)
    for tag, least in WIDGETS.items():
        n = page.locator(tag).count()
        check(failures, n >= least, f"{n} {tag} (at least {least})")
    check(failures, charts.count() >= 3, f"{charts.count()} charts drawn (the two histograms and the channel scales)")
    check(failures, histogram.count() == 1, f"the layer histogram (fp32 beside quantized): {histogram.count()}")
    text = page.locator("body").inner_text()
    for needed in ("Models", "Layers", "What if", "Graph", "Sensitivity", "stem.conv"):
        check(failures, needed in text, f"the page says '{needed}'")
    check(failures, "Traceback" not in text, "no Python traceback on the page")


def write_six_bit_file(page, failures, seconds):
    """Sets activation bits to 6, writes the real file, and finds it picked in the model picker."""
    bits = page.locator("marimo-dropdown", has_text="activation bits").locator("select")
    bits.select_option("6")
    page.get_by_text("ONNX: its int8 tensors take 7- or 8-bit activations, not 6").first.wait_for()
    check(failures, True, "the page says why no ONNX and no TFLite file is written at 6 bits")
    page.locator("marimo-button", has_text="Write the real file").locator("button").click()
    wrote = page.get_by_text(re.compile(r"Wrote w\d+a6_[0-9a-f]+\.pt"))
    wrote.first.wait_for(timeout=seconds * 1000)
    name = re.search(r"(w\d+a6_[0-9a-f]+\.pt)", wrote.first.inner_text()).group(1)
    check(failures, True, f"resnet8-ptq wrote {name} at 6-bit activations")
    picker = page.locator("marimo-dropdown", has_text="Model file").locator("select")
    page.wait_for_function(
        "([el, name]) => el.value.endsWith(name)", arg=[picker.element_handle(), name], timeout=60000
    )
    options = picker.locator("option").all_inner_texts()
    check(failures, any(o.endswith(name) for o in options), f"the model picker lists {name} and has picked it")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--timeout", type=float, default=120, help="seconds for the page and its charts")
    ap.add_argument("--write-timeout", type=float, default=300, help="seconds for resnet8-ptq's run")
    args = ap.parse_args()
    failures = []
    flags = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync"]  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, headless=True, args=flags)
        without_token(browser, args.url, failures)
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.set_default_timeout(args.timeout * 1000)
        page.goto(f"{args.url}?access_token={args.token}", wait_until="domcontentloaded")
        widgets_and_charts(page, args.out, failures)
        write_six_bit_file(page, failures, args.write_timeout)
        page.screenshot(path=str(args.out / "after_write.png"), full_page=True)
        browser.close()
    print(f"DOM: {args.out / 'dom.html'}, screenshots: {args.out}")
    print(f"{len(failures)} failed: {failures}" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
