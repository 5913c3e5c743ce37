"""The feeds, read by a feed parser: Atom entries, RFC 5005 paging and archives, edits, and twtxt."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import feedparser

from murmur.server.web.view import rfc3339
from tests.web.site import Site, about_post, group_of, in_group, joins, people


def links(feed: Any) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in feed.feed.links}


async def parsed(site: Site, path: str) -> Any:
    response = await site.get(path)
    assert response.status_code == 200, path
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


async def test_person_feed_entries_are_the_posts_with_their_own_ids(site: Site) -> None:
    ann, ben = people(2)
    post = ann.post(f"hello @{ben.key} #news", mentions=(ben.key,), hashtags=("news",))
    await site.add(ann.profile("Ann", "Organiser."), ben.profile("Ben"), post)
    feed = await parsed(site, f"/@{ann.key}/feed.atom")
    assert feed.feed.title == "Ann" and feed.feed.subtitle == "Organiser."
    assert feed.feed.id == f"urn:murmur:person:{ann.key}"
    assert links(feed)["self"] == f"http://murmur.test/@{ann.key}/feed.atom"
    assert links(feed)["alternate"] == f"http://murmur.test/@{ann.key}"
    [entry] = feed.entries
    assert entry.id == f"urn:murmur:message:{post['id']}"
    assert entry.link == f"http://murmur.test/m/{post['id']}"
    assert entry.content[0].value == "hello @Ben #news"
    assert entry.author == "Ann"
    assert entry.published == rfc3339(post["created_at"]) == entry.updated


async def test_a_post_and_its_authors_boost_of_it_are_one_entry(site: Site) -> None:
    ann = people(1)[0]
    post, later = ann.post("mine"), ann.post("later")
    await site.add(post, later, ann.boost(post))
    feed = await parsed(site, f"/@{ann.key}/feed.atom")
    assert [e.content[0].value for e in feed.entries] == ["mine", "later"]


async def test_an_edit_keeps_the_entry_id_and_moves_updated(site: Site) -> None:
    ann = people(1)[0]
    post = ann.post("first words")
    edit = ann.edit(post, "second words")
    await site.add(post)
    before = (await parsed(site, f"/@{ann.key}/feed.atom")).entries[0]
    await site.add(edit)
    after = await parsed(site, f"/@{ann.key}/feed.atom")
    [entry] = after.entries
    assert entry.id == before.id == f"urn:murmur:message:{post['id']}"
    assert entry.content[0].value == "second words" and entry.title == "second words"
    assert entry.published == rfc3339(post["created_at"]) and entry.updated == rfc3339(edit["created_at"])
    assert after.feed.updated == rfc3339(edit["created_at"])


async def test_paging_and_archives_reach_every_post_once(site: Site) -> None:
    ann = people(1)[0]
    posts = [ann.post(f"post {n} #many", hashtags=("many",)) for n in range(45)]
    await site.add(*posts)
    for path in (f"/@{ann.key}/feed.atom", "/tags/many/feed.atom"):
        seen: list[str] = []
        feed = await parsed(site, path)
        current = f"http://murmur.test{path}"
        assert links(feed)["first"] == current and "current" not in links(feed)
        assert not _archived(feed)  # the subscription document is not an archive
        pages = 1
        while True:
            seen += [e.id for e in feed.entries]
            older = links(feed).get("next")
            if older is None:
                assert "prev-archive" not in links(feed)
                break
            assert links(feed)["prev-archive"] == older
            feed = await parsed(site, older.removeprefix("http://murmur.test"))
            pages += 1
            assert _archived(feed) and links(feed)["current"] == current
            assert links(feed)["self"] == older
        assert pages == 3
        assert seen == [f"urn:murmur:message:{p['id']}" for p in reversed(posts)]


def _archived(feed: Any) -> bool:
    return "fh_archive" in feed.feed or "archive" in feed.feed


async def test_group_feed_leaves_hidden_posts_out(site: Site) -> None:
    owner, ben = people(2)
    group = group_of(owner, "Cause", description="Why we are here.")
    joined = joins(ben, group)
    shown, hidden = in_group(ben, group, "shown"), in_group(ben, group, "hidden one")
    await site.add(group, joined, shown, hidden)
    await site.add(about_post(owner, "group_hide", group, hidden, "off topic"))
    feed = await parsed(site, f"/g/{group['id']}/feed.atom")
    assert feed.feed.title == "Cause" and feed.feed.subtitle == "Why we are here."
    assert [e.content[0].value for e in feed.entries] == ["shown"]


async def test_an_empty_tag_feed_is_valid(site: Site) -> None:
    feed = await parsed(site, "/tags/nothing/feed.atom")
    assert feed.entries == [] and feed.feed.updated == "1970-01-01T00:00:00.000Z"


async def test_twtxt_lines_are_rfc3339_a_tab_and_one_line_of_text(site: Site) -> None:
    ann, ben = people(2)
    first = ann.post("first\nsecond line")
    mention = ann.post(f"hi @{ben.key}", mentions=(ben.key,))
    boosts = (ben.boost(first), ann.boost(ben.post("b")))
    await site.add(ann.profile("Ann Lee", "Writes\nthings."), first, mention, *boosts)
    response = await site.get(f"/@{ann.key}/twtxt.txt")
    assert response.status_code == 200 and response.headers["content-type"] == "text/plain; charset=utf-8"
    head, _, body = response.text.partition("\n\n")
    meta = dict(line[2:].split(" = ", 1) for line in head.split("\n"))
    assert meta["nick"] == "Ann Lee" and meta["description"] == "Writes things."
    assert meta["url"] == f"http://murmur.test/@{ann.key}/twtxt.txt" and meta["key"] == ann.key
    lines = body.rstrip("\n").split("\n")
    assert len(lines) == 2  # her posts, oldest first; boosts are not hers to list
    for line, post in zip(lines, (first, mention), strict=True):
        stamp, _ = line.split("\t")
        assert datetime.fromisoformat(stamp).timestamp() * 1000 == post["created_at"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    assert lines[0].endswith("\tfirst second line")
    assert lines[1].endswith(f"\thi @<{ben.key[:12]} http://murmur.test/@{ben.key}/twtxt.txt>")
