"""Fixtures of the browser tests: one headless Chromium per module, pointed at pytest-django's
live server."""

from __future__ import annotations

import pytest

from tests.browser.browser import Browser, available


def pytest_collection_modifyitems(items):
    if available():
        return
    skip = pytest.mark.skip(reason="needs Debian's chromium and chromium-driver (bash .ci/run installs them)")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="module")
def browser_session():
    browser = Browser()
    yield browser
    browser.quit()


@pytest.fixture
def browser(browser_session, live_server):
    browser_session.base_url = live_server.url
    browser_session.driver.delete_all_cookies()
    browser_session.console_errors()  # start each test with an empty console
    return browser_session
