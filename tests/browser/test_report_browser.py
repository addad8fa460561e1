"""The report of a tiny run, opened in a real headless Chromium with the network off.

Chromium comes from tests/browser/chromium.sh (Debian's `chromium`, installed with
apt-get when missing). Where it cannot run the test is skipped with the reason; in CI
(CI=true) it fails instead.
"""

import os
from pathlib import Path

import pandas as pd
import pytest
from chromium import BrowserError, Chromium, find_binary

from conftest import REPO
from outofcore.core.readable import REPORT_WIDTH_PX

CANNOT_RUN = 3
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

CLICK = """(name => {
  const el = Array.from(document.querySelectorAll('nav li')).find(x => x.innerText.trim() === name);
  if (!el) return false;
  (el.querySelector('a') || el).click();
  return true;
})"""
# the eye buttons of the results shown in the browser (images and HTML; CSVs download)
VIEW_BUTTONS = "Array.from(document.querySelectorAll('nav table a[iconname=eye][href=\"#\"]'))"
SHOWN = """(() => {
  const img = document.querySelector('#app img:not(nav img)');
  const frame = document.querySelector('#app iframe');
  if (img) return {kind: 'img', ok: img.complete && img.naturalWidth > 0, src: img.src.slice(0, 40),
                   shown: img.clientWidth, natural: img.naturalWidth};
  if (frame) return {kind: 'html', ok: true, src: frame.src.slice(0, 40)};
  return {kind: 'none'};
})()"""


# The landing page's verdict: the items of the list after the heading "What to use, from
# this run", each with its text and the result each link opens
VERDICT = """(() => {
  const heading = Array.from(document.querySelectorAll('h1, h2, h3, h4'))
    .find(h => h.innerText.trim().startsWith('What to use, from this run'));
  if (!heading) return null;
  let list = heading.nextElementSibling;
  while (list && list.tagName !== 'UL') list = list.nextElementSibling;
  if (!list) return [];
  return Array.from(list.children).map(li => ({
    text: li.innerText,
    links: Array.from(li.querySelectorAll('a')).map(a => a.getAttribute('href')),
  }));
})()"""


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the browser test must run in CI, but Chromium cannot: {reason}")
    pytest.skip(f"no headless Chromium here: {reason}")


@pytest.fixture(scope="module")
def browser():
    code, found = find_binary(REPO / "tests" / "browser" / "chromium.sh")
    if code == CANNOT_RUN:
        skip_or_fail(found)
    assert code == 0, f"tests/browser/chromium.sh failed: {found}"
    chromium = Chromium(found)
    try:
        chromium.open_page()
    except (BrowserError, OSError) as error:
        chromium.close()
        skip_or_fail(f"{found} does not start headless: {error}")
    yield chromium
    chromium.close()


def open_report(browser: Chromium, report: Path) -> None:
    browser.navigate(report.as_uri())
    browser.wait_for(lambda: browser.evaluate("typeof categories !== 'undefined'"), "the report's app")
    browser.pump(0.1)


def frame_has_table(browser: Chromium) -> int:
    """Cells of the HTML table shown in the report's iframe (0 if none)."""
    cells = 0
    for frame in browser.child_frames():
        cells = max(cells, browser.evaluate("document.querySelectorAll('table td').length",
                                            browser.frame_context(frame["id"])) or 0)  # fmt: skip
    return cells


def frame_overflow(browser: Chromium) -> int:
    """How many pixels the widest HTML page shown in the report's iframe scrolls sideways."""
    widest = 0
    for frame in browser.child_frames():
        context = browser.frame_context(frame["id"])
        page = "document.documentElement"
        scroll = browser.evaluate(f"{page}.scrollWidth - {page}.clientWidth", context)
        widest = max(widest, scroll or 0)
    return widest


def show(browser: Chromium, report: Path, category: str, subcategory: str | None) -> int:
    """Open a category (and subcategory) from the menu; the number of items to view."""
    open_report(browser, report)
    assert browser.evaluate(f"{CLICK}({category!r})"), f"no menu item {category}"
    browser.pump(0.1)
    if subcategory is not None:
        assert browser.evaluate(f"{CLICK}({subcategory!r})"), f"no item {subcategory} in {category}"
        browser.pump(0.1)
    return browser.evaluate(f"{VIEW_BUTTONS}.length")


def test_report_opens_offline_without_errors_and_everything_shows(browser, tiny_run):
    report = tiny_run / "results" / "report.html"
    open_report(browser, report)
    categories = browser.evaluate(
        "Object.fromEntries(Object.entries(categories).map(([c, s]) => [c, Object.keys(s)]))"
    )
    assert sorted(categories)[0] == "0. What to use"  # the menu sorts them: the answer comes first
    shown = {"img": 0, "html": 0}
    tables = 0
    for category, subcategories in sorted(categories.items()):
        for subcategory in subcategories if len(subcategories) > 1 else [None]:
            count = show(browser, report, category, subcategory)
            assert count > 0, f"{category} / {subcategory} shows nothing to view"
            for index in range(count):
                if browser.evaluate(f"{VIEW_BUTTONS}.length") != count:  # the menu moved on
                    show(browser, report, category, subcategory)
                browser.evaluate(f"{VIEW_BUTTONS}[{index}].click()")
                browser.pump(0.1)
                result = browser.evaluate(SHOWN)
                assert result["kind"] in shown, f"{category} item {index} shows nothing"
                if result["kind"] == "img":
                    browser.wait_for(lambda: browser.evaluate(SHOWN)["ok"], f"image {result['src']} to load")
                    result = browser.evaluate(SHOWN)
                    # the pane shows a figure at least as wide as its text was sized for
                    assert result["shown"] >= min(result["natural"], REPORT_WIDTH_PX) - 2, result
                shown[result["kind"]] += 1
                if result["kind"] == "html":
                    browser.wait_for(lambda: frame_has_table(browser) > 0, f"a table in {category}")
                    assert frame_overflow(browser) <= 1, f"a table in {category} scrolls sideways"
                    tables += 1
    assert shown["img"] >= 5 and tables >= 5, shown
    outside = [url for url in browser.requests() if not url.startswith(LOCAL_SCHEMES)]
    assert outside == [], f"the report fetched from outside the file: {outside}"
    assert browser.errors() == [], "JavaScript errors in the report"


def test_the_landing_page_opens_with_the_verdict_a_sentence_and_a_link_per_job(browser, tiny_run):
    report = tiny_run / "results" / "report.html"
    jobs = list(dict.fromkeys(pd.read_csv(tiny_run / "results" / "decision.csv")["job"]))
    open_report(browser, report)
    browser.wait_for(lambda: browser.evaluate(VERDICT) is not None, "the verdict on the landing page")
    verdict = browser.evaluate(VERDICT)
    assert len(verdict) == len(jobs) >= 4, verdict
    for job, item in zip(jobs, verdict, strict=True):
        assert item["text"].lower().startswith(job), (job, item["text"])
        assert "spread" in item["text"] or "timed once" in item["text"]  # how sure, in words
        shown = [link for link in item["links"] if link.startswith("javascript:app.showResultInfo('results/")]
        assert len(shown) == 2, item  # its evidence and the decision table
    # a link opens its result: the evidence's entry shows in the app
    browser.evaluate("document.querySelector('a[href*=\"results/decision.html\"]').click()")
    browser.pump(0.2)
    assert browser.evaluate("document.body.innerText.includes('decision.html')")
    assert browser.errors() == [], "JavaScript errors in the report"
