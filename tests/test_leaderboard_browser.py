"""`codereps leaderboard` served on 127.0.0.1 and driven in headless Chromium (Debian's `chromium`)."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from leaderboard_fixtures import LM_RESULTS, write_results_folder

from eval_space.leaderboard.leaderboard_data import CI_COLUMN, VS_A_COLUMN

# Debian's package, installed by `make test` when missing (Makefile `chromium`).
CHROMIUM = os.environ.get("CODEREPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "build" / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def leaderboard(tmp_path):
    """(url, log path) of `codereps leaderboard` on a run folder holding one broken and one foreign JSON."""
    results = write_results_folder(tmp_path / "run", with_broken=True)
    (results / "notes.json").write_text('{"comment": "not a result"}')
    port = _free_port()
    log_path = tmp_path / "leaderboard.log"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "codereps.cli",
                "leaderboard",
                "--results",
                str(results.parent),
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"leaderboard exited:\n{log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"leaderboard did not answer:\n{log_path.read_text()[-3000:]}"
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                time.sleep(0.3)
        yield url, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Gradio's Dataframe draws its rows as ARIA grid rows (`[role=row][data-index]`) of gridcells
# addressed by `data-row`/`data-col`; its <tbody> is a hidden single-row measuring copy.
ROWS = "#leaderboard-table [role=row][data-index]"


def _column(page, title: str) -> list:
    """Texts of the column headed `title`, in display order."""
    header = page.locator(f'#leaderboard-table th[role=columnheader][title="{title}"]')
    col = header.get_attribute("data-heading")
    cells = page.locator(f'#leaderboard-table [role=gridcell][data-col="{col}"]')
    by_row = {int(c.get_attribute("data-row")): c.inner_text().strip() for c in cells.all()}
    return [by_row[i] for i in sorted(by_row)]


def _in_first_screen(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] + box["height"] <= page.viewport_size["height"]


def test_first_screen_shows_the_table_with_intervals(leaderboard):
    from playwright.sync_api import expect, sync_playwright

    url, log_path = leaderboard
    # the command names what it did not read in one line, and lists nothing unless asked
    log = log_path.read_text()
    assert "2 file(s) not read (--show-skipped lists them)" in log and "broken.json" not in log
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})  # a laptop's first screen
            page.goto(url, wait_until="domcontentloaded")
            expect(page.locator(ROWS)).to_have_count(len(LM_RESULTS), timeout=60_000)
            title = page.get_by_role("heading", name="codereps leaderboard")
            assert _in_first_screen(page, title)
            assert _in_first_screen(page, page.locator("#filter-variant"))
            assert _in_first_screen(page, page.locator(ROWS).last), "the table's last row is below the fold"
            for header in ("model", "pass@1", CI_COLUMN, VS_A_COLUMN):
                cell = page.locator(f'#leaderboard-table th[role=columnheader][title="{header}"]')
                assert _in_first_screen(page, cell), f"column {header!r} is off the first screen"
            by_model = dict(zip(_column(page, "model"), _column(page, CI_COLUMN), strict=True))
            assert by_model["mrochk/codereps-tiny-llama-B"] == "[0.200, 0.300]"
            assert all(re.fullmatch(r"\[0\.\d{3}, 0\.\d{3}\]", ci) for ci in by_model.values())
            vs_a = dict(zip(_column(page, "model"), _column(page, VS_A_COLUMN), strict=True))
            assert vs_a["mrochk/codereps-tiny-llama-A"] == "baseline"
            assert vs_a["mrochk/codereps-tiny-llama-B"] == "+0.150 [+0.050, +0.250] p=0.219"

            # what was skipped: one collapsed line, the files only after a click
            skipped = page.locator("#skipped")
            expect(skipped).to_contain_text("2 file(s) not read as results")
            expect(page.get_by_text("broken.json", exact=False)).to_have_count(0)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "leaderboard-first-screen.png"))
            skipped.get_by_text("2 file(s) not read as results").click()
            expect(page.get_by_text("broken.json: unreadable JSON", exact=False)).to_be_visible(
                timeout=30_000
            )
        finally:
            browser.close()


def test_leaderboard_table_sorting_and_chart_in_chromium(leaderboard):
    from playwright.sync_api import expect, sync_playwright

    expected_desc = sorted((r[3] for r in LM_RESULTS), reverse=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(leaderboard[0], wait_until="domcontentloaded")
            expect(page.locator(ROWS)).to_have_count(len(LM_RESULTS), timeout=60_000)
            assert sorted(_column(page, "model")) == sorted(
                f"mrochk/codereps-{base}-{variant}" for base, variant, *_ in LM_RESULTS
            )
            assert [float(v) for v in _column(page, "pass@1")] == expected_desc

            page.locator("#ascending input[type=checkbox]").check()
            first_model = page.locator('#leaderboard-table [data-testid="cell-0-0"]')
            expect(first_model).to_have_text("mrochk/codereps-tiny-phi-A", timeout=30_000)
            assert [float(v) for v in _column(page, "pass@1")] == sorted(expected_desc)

            chart = page.locator("#passk-chart img")
            expect(chart).to_be_visible(timeout=30_000)
            width = chart.evaluate("img => img.complete ? img.naturalWidth : 0")
            assert width >= 400, f"chart image not rendered (naturalWidth={width})"

            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / "leaderboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

            # Filtering: without variant A two rows go, and the chart is redrawn for the rest.
            old_chart = chart.get_attribute("src")
            page.locator("#filter-variant label", has_text="A").locator("input").uncheck()
            expect(page.locator(ROWS)).to_have_count(len(LM_RESULTS) - 2, timeout=30_000)
            assert "A" not in _column(page, "variant")
            expect(chart).not_to_have_attribute("src", old_chart, timeout=30_000)

            page.get_by_role("tab", name="Tokenizer efficiency").click()
            ir_cells = page.locator(".tokenizer-table [role=gridcell]", has_text="IR BPE 512")
            expect(ir_cells).to_have_count(2, timeout=30_000)  # one per IR field (ast, cfg)
            page.get_by_role("tab", name="Pair classifiers").click()
            expect(page.locator("#classifier-table")).to_contain_text(
                "mrochk/codereps-pair-src-cfg", timeout=30_000
            )
        finally:
            browser.close()
