"""The web view says under a post what a peer withheld of it and why (a thread's page, a person's page), from
the server's signed notices, in the words the terminal uses; what the peer named is escaped, never markup."""

from __future__ import annotations

import html

from murmur.keys import Identity
from murmur.receipts import signed
from murmur.store import receipts
from murmur.store.peers import add_peer
from tests.web.site import Site, people
from tests.web.test_hostile import MARKUP, SHORT, assert_inert_html


async def test_pages_say_what_a_peer_withheld_and_why(site: Site) -> None:
    ann, ben = people(2)
    far = Identity.from_seed(b"\x26" * 32)
    await add_peer(site.store, far.public_key, "http://far.test", name="far", mode="serve-only")
    held, free = ann.post("about lunch"), ann.post("about tea")
    reply = ben.post("a reply they took", reply=held)
    await site.add(held, free, reply)
    answer = {"id": held["id"], "status": "refused", "code": "policy", "reason": "no posts about lunch here"}
    assert await receipts.note(site.store, far.public_key, {held["id"]}, [signed(far, answer)]) == 1
    notice = f"withheld by far ({far.public_key[:16]}): no posts about lunch here"
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
    far = Identity.from_seed(b"\x27" * 32)
    await add_peer(site.store, far.public_key, "http://far.test", name=SHORT[:64], mode="serve-only")
    held = ann.post("about lunch")
    await site.add(held)
    answer = {"id": held["id"], "status": "refused", "code": "policy", "reason": MARKUP}
    assert await receipts.note(site.store, far.public_key, {held["id"]}, [signed(far, answer)]) == 1
    for path in (f"/m/{held['id']}", f"/@{ann.key}"):
        response = await site.get(path)
        assert response.status_code == 200 and "withheld by" in response.text, path
        assert_inert_html(response.text)
