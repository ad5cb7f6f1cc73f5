"""Headless Debian chromium driven by Playwright. Skips, saying so once, when there is none."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = (
    os.environ.get("XINFANG_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
)
# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# around it are plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM:
        pytest.skip("no chromium on this machine: browser tests skipped (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    # bypass_csp: Playwright's string helpers (wait_for_function("...")) evaluate with eval, which
    # the site's Content-Security-Policy forbids; tests/browser/test_security_csp.py keeps it on.
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1400, "height": 1000}, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
