"""Chromium (Debian's package) driven by Playwright, against the app on 127.0.0.1."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

# The app fixtures on the test database, shared with tests/app.
from tests.app.conftest import (  # noqa: F401
    app,
    client,
    close_workshop,
    database_url_for_tests,
    live_server,
    make_token,
    make_user,
    make_workshop,
    paris,
    password_hash,
    rennes,
    runner,
)
from tests.helpers import PASSWORD

CHROMIUM = "/usr/bin/chromium"
# A cheap Android phone, as residents hold it: touch, 360×640, French.
PHONE = {
    "viewport": {"width": 360, "height": 640},
    "is_mobile": True,
    "has_touch": True,
    "locale": "fr-FR",
}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class RequestLog(list):
    def hosts(self) -> set[str]:
        return {urlsplit(url).hostname for url in self}


@pytest.fixture
def page(browser):
    """A French-speaking page whose every request is recorded."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.requests = RequestLog()
    page.on("request", lambda request: page.requests.append(request.url))
    yield page
    context.close()


def sign_in(page, base: str, email: str) -> None:
    """Sign in through the login form, as a person would, and wait for the home page."""
    page.goto(f"{base}/connexion")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.fixture
def phone(browser):
    """A page in a phone context (:data:`PHONE`)."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    yield page
    context.close()
