"""The web view's pages, in-process: what each shows, its headers, edits and deletes honoured, paging."""

from __future__ import annotations

import re

import orjson

from murmur.keys import fingerprint
from murmur.message import sign_draft
from tests.identity_logs import LAPTOP, PHONE, Log
from tests.web.site import Site, about_post, group_of, in_group, joins, open_letter, people, signature


def assert_web_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'none'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "form-action 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"].startswith("public, max-age=")
    assert re.fullmatch(r'"[0-9a-f]{32}"', headers["etag"])
    assert "set-cookie" not in headers


async def test_person_page_shows_profile_posts_fingerprint_and_feed_links(site: Site) -> None:
    ann, ben = people(2)
    post = ann.post("hello #town")
    await site.add(ann.profile("Ann", "Organiser."), post, ben.post("not ann's"), ben.boost(post))
    response = await site.get(f"/@{ann.key}")
    assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    assert_web_headers(response)
    html = response.text
    assert "Ann" in html and "Organiser." in html and fingerprint(ann.key) in html and ann.key in html
    assert "hello" in html and "not ann's" not in html
    assert '<a class="tag" href="/tags/town">#town</a>' in html
    assert f'<link rel="alternate" type="application/atom+xml" title="Atom feed" href="/@{ann.key}/feed.atom">' in html
    assert f'href="/@{ann.key}/twtxt.txt"' in html
    assert f'href="/m/{post["id"]}/signed.json"' in html and ">signed<" in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "<script" not in html and "<form" not in html
    boosted = await site.get(f"/@{ben.key}")
    assert "boosted by" in boosted.text and "hello" in boosted.text


async def test_a_person_with_only_a_profile_or_only_posts_has_a_page(site: Site) -> None:
    ann, ben = people(2)
    await site.add(ann.profile("Ann"), *(ben.post(f"hi {n}") for n in range(21)))
    assert (await site.get(f"/@{ann.key}")).status_code == 200
    first = await site.get(f"/@{ben.key}")
    assert first.status_code == 200 and first.text.count('<article class="post') == 20
    older = re.search(r'<a rel="next" href="([^"]+)">', first.text)
    assert older is not None
    second = await site.get(older.group(1))
    assert second.status_code == 200 and "hi 0" in second.text and second.text.count('<article class="post') == 1


async def test_thread_page_shows_the_whole_thread_marks_the_post_asked_and_links_each_post(site: Site) -> None:
    ann, ben, cat = people(3)
    root = ann.post("the root")
    reply = ben.post("a reply", reply=root)
    deeper = cat.post("deeper", reply=reply)
    await site.add(root, reply, deeper, ben.profile("Ben"))
    for asked in (root, reply, deeper):
        html = (await site.get(f"/m/{asked['id']}")).text
        assert html.index("the root") < html.index("a reply") < html.index("deeper")
        assert f'class="post depth-0{" asked" if asked is root else ""}" id="m-{root["id"]}"' in html
        assert re.search(rf'class="post depth-\d asked" id="m-{asked["id"]}"', html)
        assert "2 replies held here" in html
    html = (await site.get(f"/m/{deeper['id']}")).text
    assert 'class="post depth-2 asked"' in html
    assert f'title="Atom feed of the author" href="/@{cat.key}/feed.atom">' in html
    for message in (root, reply, deeper):
        assert f'href="/m/{message["id"]}"' in html and f'href="/m/{message["id"]}/signed.json"' in html


async def test_signed_json_is_the_message_byte_for_byte(site: Site) -> None:
    ann = people(1)[0]
    post = ann.post("as signed")
    await site.add(post)
    response = await site.get(f"/m/{post['id']}/signed.json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert_web_headers(response)
    assert orjson.loads(response.content) == post


async def test_edits_show_the_newest_version_and_link_the_signed_edit(site: Site) -> None:
    ann = people(1)[0]
    post = ann.post("first words #old")
    newest = ann.edit(post, "better words #new", hashtags=("new",))
    older = ann.edit(post, "middle words", at=newest["created_at"] - 1)
    await site.add(post, newest, older)
    for path in (f"/m/{post['id']}", f"/@{ann.key}"):
        html = (await site.get(path)).text
        assert "better words" in html and "first words" not in html and "middle words" not in html
        assert "edited" in html and f'href="/m/{newest["id"]}/signed.json"' in html
    assert "better words" in (await site.get("/tags/new")).text
    assert "better words" not in (await site.get("/tags/old")).text


async def test_deletes_take_the_post_from_every_page(site: Site) -> None:
    ann, ben = people(2)
    gone = ann.post("regret this #oops")
    reply = ben.post("the reply stays", reply=gone)
    await site.add(gone, reply, ann.post("still here"))
    await site.add(ann.delete(gone))
    assert (await site.get(f"/m/{gone['id']}")).status_code == 404
    assert (await site.get(f"/m/{gone['id']}/signed.json")).status_code == 404
    for path in (f"/@{ann.key}", "/tags/oops", f"/@{ann.key}/feed.atom", f"/@{ann.key}/twtxt.txt"):
        assert "regret this" not in (await site.get(path)).text
    thread = (await site.get(f"/m/{reply['id']}")).text
    assert "the reply stays" in thread and "does not hold" in thread and "regret this" not in thread


async def test_hashtag_page_any_case_and_paging(site: Site) -> None:
    ann = people(1)[0]
    posts = [ann.post(f"number {n} #Rally", hashtags=("rally",)) for n in range(25)]
    await site.add(*posts)
    first = await site.get("/tags/RALLY")
    assert first.status_code == 200
    assert first.text.count('<article class="post') == 20 and "number 24" in first.text
    assert '<link rel="alternate" type="application/atom+xml" title="Atom feed" href="/tags/rally/feed.atom">' in (
        first.text
    )
    older = re.search(r'<a rel="next" href="([^"]+)">', first.text)
    assert older is not None
    second = await site.get(older.group(1).replace("&amp;", "&"))
    assert second.text.count('<article class="post') == 5 and "number 0" in second.text
    assert 'rel="next"' not in second.text
    bad = await site.get("/tags/rally?before=nonsense")
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/html")
    assert_web_headers_without_etag(bad)


def assert_web_headers_without_etag(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert "default-src 'none'" in headers["content-security-policy"] and "set-cookie" not in headers


async def test_group_page_shows_pins_posts_and_leaves_hidden_ones_out(site: Site) -> None:
    owner, ben = people(2)
    group = group_of(owner, "Four-day week", description="We ask for it.", rules="Be kind.")
    joined = joins(ben, group)
    pinned = in_group(owner, group, "Read this first")
    hidden = in_group(ben, group, "spam spam")
    await site.add(owner.profile("Olive"), group, joined, pinned, in_group(ben, group, "count me in"), hidden)
    assert "spam spam" in (await site.get(f"/g/{group['id']}")).text
    pin, hide = about_post(owner, "group_pin", group, pinned), about_post(owner, "group_hide", group, hidden, "spam")
    await site.add(pin, hide)
    response = await site.get(f"/g/{group['id']}")
    assert response.status_code == 200
    assert_web_headers(response)
    html = response.text
    assert "Four-day week" in html and "We ask for it." in html and "Be kind." in html and "Olive" in html
    assert html.index("Pinned") < html.index("Read this first") < html.index("Posts")
    assert "count me in" in html and "spam spam" not in html
    assert f'href="/g/{group["id"]}/feed.atom"' in html
    assert "2 members" in html


async def test_letter_page_shows_text_addressees_count_and_signers(site: Site) -> None:
    ann, ben, cat, dan = people(4)
    letter = open_letter(ann, "Four-day week", "the board", "We ask for a four-day week.")
    cats = signature(cat, letter, "yes")
    await site.add(letter, ben.profile("Ben"), signature(ben, letter, "first"), signature(ben, letter, "changed"))
    await site.add(cats, signature(dan, letter))
    await site.add(cat.delete(cats))  # withdrawn: no deadline, so it counts as withdrawn
    response = await site.get(f"/letters/{letter['id']}")
    assert response.status_code == 200
    assert_web_headers(response)
    html = response.text
    assert "Four-day week" in html and "the board" in html and "We ask for a four-day week." in html
    assert '<span class="figure">2</span> verified signatures' in html
    assert html.count("<li>") == 2 and "changed" in html and "first" not in html.split("signers")[-1]
    assert fingerprint(ben.key) in html and fingerprint(dan.key) in html and fingerprint(cat.key) not in html
    assert f'href="/letters/{letter["id"]}/signed.json"' in html
    assert f'title="Atom feed of the author" href="/@{ann.key}/feed.atom">' in html
    signed = orjson.loads((await site.get(f"/letters/{letter['id']}/signed.json")).content)
    assert signed["letter"] == letter and len(signed["signatures"]) == 4 and len(signed["withdrawals"]) == 1


async def test_stylesheet_is_served_with_the_same_headers(site: Site) -> None:
    response = await site.get("/static/web.css")
    assert response.status_code == 200 and response.headers["content-type"] == "text/css; charset=utf-8"
    assert_web_headers(response)
    assert "max-width" in response.text


async def test_if_none_match_answers_304_until_the_page_changes(site: Site) -> None:
    ann = people(1)[0]
    await site.add(ann.post("one"))
    for path in (f"/@{ann.key}", f"/@{ann.key}/feed.atom", f"/@{ann.key}/twtxt.txt", "/static/web.css"):
        first = await site.get(path)
        etag = first.headers["etag"]
        again = await site.get(path, **{"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        assert (await site.get(path, **{"If-None-Match": f'"other", W/{etag}'})).status_code == 304
        assert (await site.get(path, **{"If-None-Match": '"other"'})).status_code == 200
    page = await site.get(f"/@{ann.key}")
    await site.add(ann.post("two"))
    changed = await site.get(f"/@{ann.key}", **{"If-None-Match": page.headers["etag"]})
    assert changed.status_code == 200 and "two" in changed.text and changed.headers["etag"] != page.headers["etag"]


async def test_nothing_comes_back_in_through_the_web_paths(site: Site) -> None:
    ann = people(1)[0]
    post = ann.post("read only")
    await site.add(post)
    for path in (f"/@{ann.key}", f"/m/{post['id']}", "/tags/x", f"/@{ann.key}/feed.atom"):
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            assert (await site.http.request(method, path, content=b"x")).status_code == 405


async def test_an_identity_has_one_page_for_all_its_devices(site: Site) -> None:
    """``/@IDENTITY`` takes the digest that names an identity: every device's posts, the newest profile any device
    set, the identity's fingerprint; its feed follows the same path."""
    log = Log()
    log.add(LAPTOP, PHONE, "phone")
    on_laptop, on_phone = log.post(LAPTOP, "written on the laptop"), log.post(PHONE, "written on the phone")
    named = sign_draft(
        PHONE,
        {"kind": "profile", "body": {"name": "Ada", "bio": "One person."}, "tags": [["identity", log.identity]]},
        created_at=log._tick(),
    )
    await site.add(*log.events, on_laptop, on_phone, named)
    page = await site.get(f"/@{log.identity}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "written on the laptop" in html and "written on the phone" in html
    assert "Ada" in html and "One person." in html and fingerprint(log.identity) in html
    feed = await site.get(f"/@{log.identity}/feed.atom")
    assert feed.status_code == 200 and "written on the phone" in feed.text
    assert (await site.get(f"/@{log.identity[:16]}")).status_code == 404  # a prefix names nothing here either
