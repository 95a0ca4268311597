"""The report in a real browser: headless Chromium loads it from disk with no console error and
no network request other than the file itself; a screenshot is kept for people to look at.

Uses the system chromium and chromedriver (scripts/system-deps.sh installs them) through
Selenium 4. Network isolation is checked twice: the page's CSP forbids any fetch, and the
DevTools performance log must list no request except the file:// document.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from twinbench.inputs import load_claims
from twinbench.report.build import write_report
from twinbench.report.model import claims_for
from twinbench.results.store import load_run

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DATA = Path(__file__).parents[1] / "data"
BEFORE, AFTER = DATA / "quick-sqlite", DATA / "quick-postgres"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def driver() -> Iterator[object]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("chromium/chromedriver missing: run `make install` (scripts/system-deps.sh)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="twinbench-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,2400",
    ):  # fmt: skip
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    write_report([BEFORE, AFTER], out)  # two runs (SQLite, then PostgreSQL): the deltas too
    return out


def _requests(perf_log: list[dict[str, object]]) -> list[str]:
    urls = []
    for entry in perf_log:
        msg = json.loads(str(entry["message"]))["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def test_loads_without_console_errors_or_network(driver: object, report_file: Path) -> None:
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(driver, WebDriver)
    driver.get_log("browser")  # drop anything logged before our page
    driver.get_log("performance")
    url = report_file.as_uri()
    driver.get(url)
    assert driver.execute_script("return document.readyState") == "complete"
    assert driver.title.startswith("twinbench report")

    console = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert console == []
    requests = _requests(driver.get_log("performance"))
    assert requests == [url]

    # The page really rendered: charts drawn with a size, tables present.
    svgs = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg'))"
        ".map(s => s.getBoundingClientRect().width)"
    )
    assert len(svgs) >= 10 and min(svgs) > 100
    # Every claim the report judges has its row (plus the header row).
    shown = claims_for([load_run(BEFORE), load_run(AFTER)], load_claims())
    assert len(shown) >= 10
    rows = driver.execute_script("return document.querySelectorAll('#claims-table tr').length")
    assert rows == len(shown) + 1
    assert driver.execute_script("return document.querySelectorAll('#deltas-table tr').length") > 1
    planned = sum(len(json.loads((d / "run.json").read_text())["cells"]) for d in (BEFORE, AFTER))
    assert (
        driver.execute_script("return document.querySelectorAll('tr[data-cell]').length") == planned
    )

    # Kept beside the report, under this test's own temporary folder, for people to look at.
    screenshot = report_file.with_name("report-screenshot.png")
    assert driver.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000


def test_csp_blocks_a_planted_external_request(driver: object, tmp_path: Path) -> None:
    """The check above can fail: the same page with an external image does make a request."""
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(driver, WebDriver)
    page = tmp_path / "planted.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'\"><title>x</title></head><body>"
        '<img src="http://192.0.2.1/x.png" alt="planted"></body></html>'
    )
    driver.get_log("browser")
    driver.get(page.as_uri())
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert any("Content Security Policy" in e["message"] for e in errors)


def test_first_screen_at_1400_by_900_holds_the_verdict_and_the_chart(
    driver: object, report_file: Path
) -> None:
    """At a 1400 × 900 viewport the verdict paragraph and the summary chart lie wholly on the
    first screen (checked on the layout and on the screenshot's pixels), the contents stay
    reachable after scrolling, and the page never scrolls sideways."""
    from PIL import Image
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(driver, WebDriver)
    metrics = {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        driver.get(report_file.as_uri())
        view = driver.execute_script("return [window.innerWidth, window.innerHeight]")
        assert view == [1400, 900]
        boxes = {}
        for ident in ("verdict-text", "chart-summary"):
            box = driver.execute_script(
                "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
                "return [r.left, r.top, r.right, r.bottom];",
                ident,
            )
            left, top, right, bottom = box
            assert 0 <= left < right <= 1400 and 0 <= top < bottom <= 900, (ident, box)
            assert bottom - top > 40, (ident, box)
            boxes[ident] = box
        width = driver.execute_script(
            "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        )
        assert width <= 1400, f"the page scrolls sideways: {width} px wide"

        shot = report_file.with_name("first-screen-1400x900.png")
        assert driver.save_screenshot(str(shot))
        image = Image.open(shot).convert("L")
        assert image.size == (1400, 900)
        for ident, (left, top, right, bottom) in boxes.items():
            region = image.crop((int(left), int(top), int(right), int(bottom)))
            dark = sum(region.histogram()[:160])  # pixels darker than light grey
            # Drawn, not blank: text and chart marks cover a few per cent of the box.
            assert dark > 0.01 * region.size[0] * region.size[1], (ident, dark)

        # Far down the page, the contents are still on screen.
        driver.execute_script("document.getElementById('methods').scrollIntoView()")
        top = driver.execute_script(
            "return document.getElementById('toc').getBoundingClientRect().top"
        )
        assert 0 <= top < 5
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_first_screen_holds_a_full_runs_thirteen_scenarios(driver: object, tmp_path: Path) -> None:
    """A full run has 13 scenarios: the verdict and the chart, with a row for each, still lie
    on the first screen at 1400 × 900 (the recorded run's scenarios repeated under new names)."""
    import dataclasses

    from selenium.webdriver.remote.webdriver import WebDriver

    from twinbench.report.build import build
    from twinbench.report.render import render
    from twinbench.report.sections import summary_chart

    assert isinstance(driver, WebDriver)
    model = build([AFTER])
    recorded = model.summary.scenarios
    many = tuple(
        dataclasses.replace(recorded[i % len(recorded)], scenario=f"scenario_{i}")
        for i in range(13)
    )
    summary = dataclasses.replace(model.summary, scenarios=many)
    model = dataclasses.replace(model, summary=summary, summary_chart=summary_chart(summary))
    page = tmp_path / "thirteen.html"
    page.write_text(render(model), encoding="utf-8")
    metrics = {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        driver.get(page.as_uri())
        assert "on 13 scenarios" in driver.find_element("id", "verdict-text").text
        for ident in ("verdict-text", "chart-summary"):
            top, bottom = driver.execute_script(
                "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
                "return [r.top, r.bottom];",
                ident,
            )
            assert 0 <= top < bottom <= 900, (ident, top, bottom)
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 1400
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
