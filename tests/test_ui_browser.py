"""The workbench in a real browser: Playwright drives Debian's headless Chromium against the run's live app."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

pytest.importorskip("gradio")

from workbench.store.history import History  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
PROMPT = "browser test, glassy arpeggios, 120 BPM"
TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def app_url(live_app):
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")
    return live_app.url, live_app.out


@pytest.fixture()
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            tab.set_default_timeout(TIMEOUT_MS)
            yield tab
        finally:
            browser.close()


def test_compare_four_seeds_rate_one_and_find_it_in_history(app_url, page, tmp_path):
    url, out = app_url
    page.goto(url)
    page.wait_for_selector("#gen-prompt textarea")
    duration = page.locator("#duration input[type=number]")
    duration.fill("1")  # 1 s takes: the shared sampling settings apply to every tab
    duration.press("Enter")

    page.get_by_role("tab", name="Compare seeds").click()
    page.locator("#cmp-prompt textarea").fill(PROMPT)
    page.locator("#cmp-seeds").locator("textarea, input").first.fill("1-4")
    page.locator("#cmp-run").click()
    players = ".cmp-audio a[data-testid=download-link][href*='.wav']"
    page.wait_for_function(f"document.querySelectorAll(\"{players}\").length === 4", timeout=TIMEOUT_MS)
    sources = [page.locator(players).nth(i).get_attribute("href") for i in range(4)]
    assert [s.rsplit("/", 1)[1] for s in sources] == ["s1.wav", "s2.wav", "s3.wav", "s4.wav"]

    card = page.locator(".take-card").nth(1)  # seed 2
    card.locator(".cmp-rating label", has_text="4").click()
    card.get_by_text("★★★★").wait_for()
    [row] = History(out).search(PROMPT, min_rating=1)
    assert row["seed"] == 2 and row["rating"] == 4  # saved through the history (and the sidecar)

    page.get_by_role("tab", name="History").click()
    search = page.locator("#hist-search textarea")
    search.fill("glassy arpeggios")
    search.press("Enter")
    table = page.locator("#hist-table")
    page.wait_for_function("(t) => { const e = document.querySelector('#hist-table');"
                           " return e && e.innerText.includes(t) && e.innerText.includes('★★★★'); }", arg=PROMPT)
    assert table.inner_text().count("★★★★") == 1 and table.inner_text().count(PROMPT) == 4
    cell = table.locator("[data-testid^='cell-']", has_text="★★★★").first
    _, row_index, _ = cell.get_attribute("data-testid").split("-")  # cell-<row>-<column>
    assert table.get_by_test_id(f"cell-{row_index}-2").inner_text().strip() == PROMPT  # prompt column
    assert table.get_by_test_id(f"cell-{row_index}-3").inner_text().strip() == "2"  # seed column
    cell.click()  # open the rated take
    page.wait_for_function("(id) => document.querySelector('#hist-take textarea, #hist-take input').value === id",
                           arg=str(row["id"]))
    page.get_by_text(f"take #{row['id']} · seed 2 · tiny").wait_for()

    # retake from the playhead: while the take plays (or once paused), the playhead fills the time to retake from
    page.get_by_text("Loop or retake from a point").click()
    at = page.locator("#hist-at input")
    at.fill("0.25")
    page.locator("#hist-playhead").click()
    page.wait_for_timeout(300)
    assert float(at.input_value()) == 0.25  # not played yet: the typed time stays
    page.locator("#hist-audio button[aria-label='Play']").first.click()
    for _ in range(50):  # read the playhead while it plays (the 1 s take may end before a pause lands)
        page.locator("#hist-playhead").click()
        page.wait_for_timeout(100)
        if float(at.input_value() or 0) not in (0.0, 0.25):
            break
    assert 0 < float(at.input_value()) <= 1.0  # where the 1 s take was playing

    shot = tmp_path / "workbench-history.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("WORKBENCH_SCREENSHOTS"):  # keep a copy to look at
        folder = Path(os.environ["WORKBENCH_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, folder / shot.name)
        page.get_by_role("tab", name="Compare seeds").click()
        page.screenshot(path=str(folder / "workbench-compare.png"), full_page=True)
