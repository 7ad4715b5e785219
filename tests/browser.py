"""Shared set-up for browser tests: Debian's chromium driven by Playwright (a pytest plugin).

Without /usr/bin/chromium the browser tests are skipped, unless PINGAN_REQUIRE_BROWSER=1
(CI sets it), in which case they fail. Screenshots go to test-artifacts/ for a person to
look at (UI.md: check it as a user would).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("PINGAN_REQUIRE_BROWSER") == "1":
            pytest.fail("PINGAN_REQUIRE_BROWSER=1 but /usr/bin/chromium is not installed")
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
    # itself (fixtures) are synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


def log_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Log in through the real login form and land on the home page."""
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button.btn-primary")
    page.wait_for_url(f"{base_url}/")


def shot(page, name: str, settle_ms: int = 700) -> None:
    """Save a screenshot after zoom, fade and chart animations finish."""
    page.wait_for_timeout(settle_ms)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)
