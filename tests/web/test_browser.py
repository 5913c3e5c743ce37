"""The web view in a real browser (Chromium, headless) against a real ``murmur serve`` on 127.0.0.1: every page
type renders and is photographed, links lead where they say, a phone-sized window needs no sideways scrolling,
and hostile content stays text: no script it carries runs, and nothing even tries (no CSP violation)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from murmur.store import Store
from tests.e2e.harness import ServerProcess
from tests.web.browser import WATCH_CSP, ink, launch, png_size
from tests.web.site import about_post, group_of, in_group, joins, open_letter, people, signature

HOSTILE = (
    '<script>window.owned = 1</script><img src=x onerror="window.owned = 2"> \u202egnp.exe\u202c'
    ' <style>body{display:none}</style><a href="javascript:window.owned=3">click</a>'
)


@dataclass
class Served:
    url: str
    paths: dict[str, str]  # page type -> path


async def _fill(db: Path) -> dict[str, str]:
    ann, ben, cat = people(3)
    root = ann.post(f"Shorter weeks, better work #rally {HOSTILE}", hashtags=("rally",))
    reply = ben.post(f"Agreed @{ann.key}", reply=root, mentions=(ann.key,))
    group = group_of(ann, "Four-day week", description=f"Why we ask. {HOSTILE}", rules="Be kind.")
    joined = joins(ben, group)
    pinned = in_group(ann, group, "Read this first")
    letter = open_letter(ann, "A four-day week", "the leadership team", f"We ask for it.\n\n{HOSTILE}")
    store = await Store.open(db)
    try:
        for batch in (
            [ann.profile("Ann \u202eevil\u202c <b>", f"Organiser. {HOSTILE}"), ben.profile("Ben"), root, reply],
            [group, joined, pinned, in_group(ben, group, "Count me in"), letter],
            [about_post(ann, "group_pin", group, pinned), signature(ben, letter, "Yes"), signature(cat, letter)],
        ):
            results = await store.ingest(batch, now=None)
            assert all(r.status == "stored" for r in results), [r.as_dict() for r in results]
    finally:
        await store.close()
    return {
        "person": f"/@{ann.key}",
        "thread": f"/m/{reply['id']}",
        "tag": "/tags/rally",
        "group": f"/g/{group['id']}",
        "letter": f"/letters/{letter['id']}",
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("web-server")
    data.chmod(0o700)
    # Its own thread: Playwright's synchronous API keeps an event loop marked running in this one.
    with ThreadPoolExecutor(1) as pool:
        paths = pool.submit(asyncio.run, _fill(data / "murmur.db")).result()
    server = ServerProcess(data).start()
    try:
        yield Served(server.url, paths)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for all the browser tests, which live in this module: starting one costs more than every
    page they load. Not wider: while it runs, Playwright's synchronous API keeps an event loop marked running
    in the main thread, and the asynchronous tests of other modules need it free."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 800}, java_script_enabled=True)
    context.add_init_script(WATCH_CSP)
    tab = context.new_page()
    tab.errors = []  # type: ignore[attr-defined]
    tab.on("console", lambda m: m.type == "error" and tab.errors.append(m.text))  # type: ignore[attr-defined]
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))  # type: ignore[attr-defined]
    try:
        yield tab
    finally:
        context.close()


def visit(page: Any, url: str) -> Any:
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, (url, response and response.status)
    return response


def assert_nothing_ran(page: Any) -> None:
    assert page.evaluate("typeof window.owned") == "undefined", "a script from the content ran"
    assert page.evaluate("window.__violations") == [], "content tried to run or load something"
    assert page.errors == [], page.errors


def test_every_page_type_renders_inert_and_is_photographed(served: Served, page: Any, tmp_path: Path) -> None:
    headings = {
        "person": "Ann",
        "thread": "Thread",
        "tag": "#rally",
        "group": "Four-day week",
        "letter": "A four-day week",
    }
    for kind, path in served.paths.items():
        response = visit(page, served.url + path)
        assert "script-src 'none'" in response.headers["content-security-policy"]
        assert headings[kind] in page.locator("h1").inner_text()
        assert page.evaluate("getComputedStyle(document.body).maxWidth") != "none", "the stylesheet did not load"
        text = page.evaluate("document.body.innerText")
        if kind != "tag" or "window.owned" in text:
            assert "\u202e" not in text and "\u202c" not in text
        assert_nothing_ran(page)
        shot = tmp_path / f"{kind}.png"
        png = page.screenshot(path=str(shot), full_page=True)
        width, height = png_size(png)
        assert width == 1000 and 300 <= height <= 20000 and shot.stat().st_size > 5000
        painted = ink(page.context.new_page(), png)
        assert painted["share"] > 0.01 and painted["colours"] > 4, (kind, painted)
    # The hostile text is shown as text, its bidi override as a visible stand-in.
    visit(page, served.url + served.paths["thread"])
    text = page.evaluate("document.body.innerText")
    assert "<script>window.owned = 1</script>" in text and "<U+202E>gnp.exe" in text


def test_links_lead_where_they_say(served: Served, page: Any) -> None:
    visit(page, served.url + served.paths["thread"])
    page.locator("a.tag", has_text="#rally").first.click()
    page.wait_for_url("**/tags/rally")
    assert page.locator("h1").inner_text() == "#rally"
    page.locator("a.fp").first.click()
    page.wait_for_url(f"**{served.paths['person']}")
    assert "Organiser." in page.evaluate("document.body.innerText")
    page.locator("a.time").first.click()
    page.wait_for_url("**/m/*")
    assert page.locator("article.asked").count() == 1
    href = page.locator("a.raw").first.get_attribute("href")
    raw = page.request.get(served.url + href)
    assert raw.status == 200 and raw.headers["content-type"] == "application/json" and raw.json()["sig"]
    visit(page, served.url + served.paths["letter"])
    assert page.locator("ol.signers li").count() == 2
    assert page.locator(".figure").inner_text() == "2"
    feed = page.locator('link[rel="alternate"]')
    visit(page, served.url + served.paths["group"])
    assert feed.count() == 1 and page.request.get(served.url + feed.get_attribute("href")).status == 200
    assert_nothing_ran(page)


def test_a_phone_reads_without_sideways_scrolling(served: Served, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, device_scale_factor=2)
    try:
        phone = context.new_page()
        for kind in ("thread", "letter"):
            visit(phone, served.url + served.paths[kind])
            assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), kind
            png = phone.screenshot(path=str(tmp_path / f"phone-{kind}.png"))
            assert png_size(png) == (720, 1480)
    finally:
        context.close()


def test_the_watch_sees_a_script_the_policy_blocks(served: Served, page: Any) -> None:
    """The check above is only worth something if it can fail: a script put into the page is refused by the
    Content-Security-Policy, and the refusal is seen."""
    visit(page, served.url + served.paths["person"])
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.owned = 9';
                             document.body.append(s); }""")
    page.wait_for_function("window.__violations.length > 0")
    assert page.evaluate("typeof window.owned") == "undefined"
    assert "script-src-elem" in page.evaluate("window.__violations")
