"""The HTML estimate report renders in headless Chromium, offline, without console errors."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ftprep.estimation import estimate
from ftprep.report import estimate_html

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")]


def test_html_report_renders_charts_without_errors(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    train = tmp_path / "train.jsonl"
    train.write_bytes(b"".join(
        orjson.dumps({"messages": [{"role": "system", "content": "Be brief."},
                                   {"role": "user", "content": "word " * (i + 1)},
                                   {"role": "assistant", "content": f"Answer {i}."}]}) + b"\n" for i in range(40)))
    page_path = tmp_path / "estimate.html"
    page_path.write_text(estimate_html.render(estimate(str(train), model="gpt-4o-mini")), encoding="utf-8")

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_path.as_uri())
            page.wait_for_selector(".js-plotly-plot .main-svg")
            plots = page.locator(".js-plotly-plot").count()
            bars = page.locator(".js-plotly-plot .bars .point").count()
            slices = page.locator(".js-plotly-plot .slice").count()
            title = page.title()
        finally:
            browser.close()
    assert errors == []
    assert requests == [page_path.as_uri()]  # everything inlined: no CDN, no network
    assert (plots, title) == (2, "ftprep estimate: gpt-4o-mini-2024-07-18")
    assert bars == 10 and slices == 4  # histogram bins; system, user, assistant, primer
