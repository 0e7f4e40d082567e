"""The console in a real headless Chromium: log in, filter the list, open a transcript, hostile text stays text."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from devstack.processes import free_port
from settings import PROJECT_ROOT
from store.models import CsatRating
from tests.browser import headless_chromium, screenshot_folder
from tests.console.conftest import PASSWORD, ROLE_USERS, XSS, Console

PAGE_TIMEOUT_MS = 90_000  # how long a step may wait for a page on a loaded 2-core machine (not a speed check)


@pytest.fixture
def served_console(console: Console, tmp_path: Path) -> Iterator[str]:
    """The fixture's databases served by the console's own command (`python -m console serve`)."""
    port = free_port()
    env = {
        **os.environ,
        "SHOP_DATA_DIR": str(tmp_path),
        "SHOP_DATABASE_URL": console.state.config.shop_database_url,
        "TRACKER_DATABASE_URL": console.state.config.tracker_database_url,
        "CONSOLE_SECRET": "browser-test-secret-0123456789",
    }
    log = (tmp_path / "console.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "console",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--training-data",
            str(console.state.config.training_data_dir),
            "--domain",
            str(console.state.config.domain_file),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the console did not start:\n{(tmp_path / 'console.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        # pytest shows a test's output only when it failed: then this is the console's side of the story
        print((tmp_path / "console.log").read_text(errors="replace")[-6000:])


@pytest.fixture
def browser() -> Iterator[Browser]:
    with headless_chromium() as chromium:
        yield chromium


def test_log_in_filter_open_a_transcript_and_script_stays_text(served_console: str, browser: Browser) -> None:
    page = browser.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(f"{served_console}/conversations?channel=rest")
    assert "/login" in page.url  # every page needs a login
    page.fill("input[name=email]", ROLE_USERS["agent"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served_console}/conversations?channel=rest")

    page.goto(f"{served_console}/conversations")
    assert page.locator("a.conversation-link").count() == 4
    page.select_option("select[name=channel]", "rest")
    page.select_option("select[name=fallback]", "yes")
    page.click("#apply-filters")
    page.wait_for_url("**/conversations?*fallback=yes*")
    links = page.locator("a.conversation-link")
    assert links.all_inner_texts() == ["bob-rest"]

    links.first.click()
    page.wait_for_url("**/conversations/bob-rest")
    first_message = page.locator(".customer-text").first
    assert first_message.inner_text() == XSS  # shown as the customer typed it
    assert page.locator("#transcript script").count() == 0
    assert "invoice" in page.locator(".turn.customer").first.inner_text()
    fallback = page.locator(".turn.action", has_text="action_two_stage_fallback")
    assert "policy RulePolicy" in fallback.inner_text()
    page.wait_for_timeout(300)  # give an injected script every chance to run before checking it did not
    assert dialogs == []
    page.close()


def test_annotate_a_message_export_it_and_see_the_yaml_diff(
    served_console: str, browser: Browser, console: Console
) -> None:
    page = browser.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(f"{served_console}/login")
    page.fill("input[name=email]", ROLE_USERS["annotator"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served_console}/conversations")
    page.click("text=NLU inbox")
    page.wait_for_url(f"{served_console}/nlu")
    row = page.locator("tr.inbox-item", has_text="this is useless, it was promised last week!!!")
    assert "delivery_problem (0.88)" in row.inner_text()
    row.locator("select[name=intent]").select_option("complaint")
    row.locator("input[name=example]").fill("my [boots](product) are a week late, useless!!!")
    with page.expect_navigation(url=f"{served_console}/nlu"):  # the post, then its redirect back to the inbox
        row.locator("button[value=approved]").click()
    assert page.locator("tr.inbox-item", has_text="promised last week").count() == 0
    page.click("text=export")
    page.wait_for_url(f"{served_console}/nlu/export")
    assert "+    - my [boots](product) are a week late, useless!!!" in page.locator("#yaml-diff").inner_text()
    page.click("#export-button")
    page.wait_for_selector("#export-written")
    diff = page.locator("#yaml-diff").inner_text()
    assert "--- a/data/nlu/" in diff and "+    - my [boots](product) are a week late, useless!!!" in diff
    written = (console.state.config.training_data_dir / "nlu").glob("*.yml")
    assert any("    - my [boots](product) are a week late, useless!!!\n" in p.read_text() for p in written)
    page.close()


def test_analytics_draws_its_charts_under_the_pages_csp(
    served_console: str, browser: Browser, console: Console
) -> None:
    with console.state.db.transaction() as session:
        for chat, score in (("alice-web", 2), ("bob-rest", 5)):
            session.add(
                CsatRating(
                    channel="web", session_id=chat, score=score, created_at=dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
                )
            )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    blocked: list[str] = []
    page.on(
        "console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.goto(f"{served_console}/login")
    page.fill("input[name=email]", ROLE_USERS["annotator"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served_console}/conversations")
    page.click("text=Analytics")
    page.wait_for_url(f"{served_console}/analytics")
    page.fill("input[name=from]", "2026-11-15")
    page.fill("input[name=to]", "2026-11-30")
    page.click("#apply-period")
    page.wait_for_url("**/analytics?from=2026-11-15&to=2026-11-30*")
    assert page.locator("#fig-conversations").inner_text() == "4"
    charts = page.locator("svg.chart[role=img]")
    assert charts.count() == 5  # per day, intents, sentiment mix and trend, CSAT
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 40
    assert page.locator("#per-day svg rect").count() >= 4  # a column piece per day with conversations, and the legend
    assert page.locator("#csat-5").inner_text() == "1"
    page.screenshot(path=str(screenshot_folder("console") / "analytics.png"), full_page=True)
    assert blocked == []
    page.close()
