"""Without a browser the browser tests fail, saying what to install; they are never skipped."""

from __future__ import annotations

import pytest

from tests.web import browser


def test_a_missing_browser_fails_with_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install -y chromium"):
        browser.launch(object())
