"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright (Playwright's own
browser download is never used), with the flags that keep it off the network and quiet."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from devstack.browser import CHROMIUM
from settings import PROJECT_ROOT

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def headless_chromium() -> Iterator[Browser]:
    """A running headless Chromium, closed afterwards."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def screenshot_folder(name: str) -> Path:
    """$SHOP_REPORTS_DIR/<name> (reports/<name> by default), created."""
    folder = Path(os.environ.get("SHOP_REPORTS_DIR") or PROJECT_ROOT / "reports") / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
