"""The web view and its Atom feeds say what a peer withheld of a post and why (a thread's page, a person's page, a
feed entry), from the server's signed notices, in the words the terminal uses; what the peer named is escaped,
never markup."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET

from murmur.keys import Identity
from murmur.receipts import signed
from murmur.server.web.view import rfc3339
from murmur.store import receipts
from murmur.store.peers import add_peer
from tests.hostile import acting_characters
from tests.web.site import Site, people
from tests.web.test_feeds import parsed
from tests.web.test_hostile import EVERYTHING, MARKUP, SHORT, assert_inert_html

FAR = Identity.from_seed(b"\x26" * 32)


async def withheld_by(site: Site, name: str, msg_id: str, reason: str) -> None:
    """The peer FAR, named ``name`` here, refused the message ``msg_id`` for ``reason``, signed, and it was kept."""
    await add_peer(site.store, FAR.public_key, "http://far.test", name=name, mode="serve-only")
    answer = {"id": msg_id, "status": "refused", "code": "policy", "reason": reason}
    assert await receipts.note(site.store, FAR.public_key, {msg_id}, [signed(FAR, answer)]) == 1


async def test_pages_say_what_a_peer_withheld_and_why(site: Site) -> None:
    ann, ben = people(2)
    held, free = ann.post("about lunch"), ann.post("about tea")
    reply = ben.post("a reply they took", reply=held)
    await site.add(held, free, reply)
    await withheld_by(site, "far", held["id"], "no posts about lunch here")
    notice = f"withheld by far ({FAR.public_key[:16]}): no posts about lunch here"
    for path in (f"/m/{held['id']}", f"/m/{reply['id']}", f"/@{ann.key}"):
        response = await site.get(path)
        assert response.status_code == 200, path
        page = html.unescape(response.text)
        assert page.count(notice) == 1, path  # under the post withheld, once; never under the others
        article = page[page.index(f'id="m-{held["id"]}"') :]
        assert notice in article[: article.index("</article>")], path
    assert "withheld by" not in (await site.get(f"/@{ben.key}")).text


async def test_what_the_peer_says_is_escaped(site: Site) -> None:
    (ann,) = people(1)
    held = ann.post("about lunch")
    await site.add(held)
    await withheld_by(site, SHORT[:64], held["id"], MARKUP)
    for path in (f"/m/{held['id']}", f"/@{ann.key}"):
        response = await site.get(path)
        assert response.status_code == 200 and "withheld by" in response.text, path
        assert_inert_html(response.text)


async def test_feed_entries_say_what_a_peer_withheld_and_move_updated(site: Site) -> None:
    """The Atom entry carries the notice after its text, in the same words, and its ``updated`` moves to when
    the notice came, so a feed reader that already showed the entry shows it again. twtxt lines are the author's
    own words, with no place for a third party's: it carries none."""
    (ann,) = people(1)
    held = ann.post("about lunch #food", hashtags=("food",))
    free = ann.post("about tea #food", hashtags=("food",))
    await site.add(held, free)
    await withheld_by(site, "far", held["id"], "no posts about lunch here")
    [kept] = await receipts.withheld(site.store, held["id"])
    notice = f"withheld by far ({FAR.public_key[:16]}): no posts about lunch here"
    for path in (f"/@{ann.key}/feed.atom", "/tags/food/feed.atom"):
        feed = await parsed(site, path)
        entries = {e.id.removeprefix("urn:murmur:message:"): e for e in feed.entries}
        assert entries[held["id"]].content[0].value == f"about lunch #food\n\n{notice}", path
        assert entries[free["id"]].content[0].value == "about tea #food", path
        assert entries[held["id"]].title == "about lunch #food", path  # the title stays the author's words
        assert entries[held["id"]].updated == rfc3339(kept.at) == feed.feed.updated, path
        assert entries[free["id"]].updated == rfc3339(free["created_at"]), path
    assert "withheld" not in (await site.get(f"/@{ann.key}/twtxt.txt")).text


async def test_what_the_peer_says_leaves_the_feed_well_formed_and_inert(site: Site) -> None:
    (ann,) = people(1)
    held = ann.post("about lunch")
    await site.add(held)
    await withheld_by(site, SHORT[:64], held["id"], "\uffff\ufffe" + EVERYTHING)
    response = await site.get(f"/@{ann.key}/feed.atom")
    ET.fromstring(response.content)  # well-formed XML, or this raises
    [entry] = (await parsed(site, f"/@{ann.key}/feed.atom")).entries
    content = entry.content[0].value
    assert content.startswith("about lunch\n\nwithheld by ") and content.count("\n") == 2  # one line, still
    assert "<script>" in content and entry.content[0].type == "text/plain"  # the reason, as text
    assert acting_characters(response.content.decode("utf-8")) == []


async def test_a_notice_whose_signature_no_longer_holds_is_shown_as_unverified(site: Site) -> None:
    """The web view shows its store's notices through the check every reader makes: one altered in the database
    after it was kept is said to be unverified, with nothing of what it now claims."""
    (ann,) = people(1)
    held = ann.post("about lunch")
    await site.add(held)
    await withheld_by(site, "far", held["id"], "no posts about lunch here")
    async with site.store.writer.transaction() as conn:
        await conn.execute("UPDATE receipts SET reason = 'it was spam'")
    page = html.unescape((await site.get(f"/m/{held['id']}")).text)
    assert f"unverified withheld notice ({FAR.public_key[:16]})" in page
    assert "spam" not in page and "withheld by far" not in page


async def test_the_open_web_does_not_name_a_peer_trusted_with_a_scope(site: Site) -> None:
    """A peer labelled `inside` (a server under the radar) refuses a public post for its policy: pages and feeds
    anyone may read say a peer withheld it, never its name, key or words, which would map the inside of the
    federation; one labelled only `outside` is named as before."""
    from murmur.receipts import UNNAMED
    from murmur.store import trust

    (ann,) = people(1)
    held = ann.post("about the strike")
    await site.add(held)
    await withheld_by(site, "secret-lab", held["id"], "no strike talk on secret-lab")
    for labels, named in ((["outside"], True), (["inside"], False), (["outside", "team"], False)):
        await trust.set_labels(site.store, Identity.generate(), FAR.public_key, labels)
        for path in (f"/m/{held['id']}", f"/@{ann.key}", f"/@{ann.key}/feed.atom"):
            response = await site.get(path)
            assert response.status_code == 200, path
            text = html.unescape(response.text)
            assert ("secret-lab" in text and FAR.public_key[:16] in text) is named, (labels, path)
            assert (UNNAMED in text) is not named, (labels, path)
