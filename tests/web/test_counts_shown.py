"""The counts a page shows are of what that page may show: a public post's page never tells of local or scoped
replies, reactions or boosts by counting them."""

from __future__ import annotations

import re

from murmur.store.items import Counts, post_counts
from tests.web.site import Site, people


def counts_of_first_post(html: str) -> list[str]:
    foot = re.search(r'class="foot">([^<]*)', html)
    assert foot is not None
    return re.findall(r"\d+ (?:repl\w+|reactions?|boosts?)", foot.group(1))


async def test_pages_count_only_the_replies_reactions_and_boosts_anyone_may_see(site: Site) -> None:
    ann, ben, cat = people(3)
    public = ann.post("public #open", hashtags=("open",))
    hidden = [
        ben.post("a local reply", visibility="local", reply=public),
        ben.post("an inside reply", visibility="scope:inside", reply=public),
        ben.sign("reaction", {"emoji": "+1", "visibility": "local"}, [["target", public["id"]]], None),
        cat.sign("reaction", {"emoji": "+1", "visibility": "scope:inside"}, [["target", public["id"]]], None),
        ben.sign("boost", {"visibility": "scope:inside"}, [["target", public["id"]]], None),
    ]
    seen = [cat.post("a public reply", reply=public), cat.react(public, "!")]
    await site.add(public, *hidden, *seen)
    expected = ["1 reply", "1 reaction", "0 boosts"]
    for path in (f"/@{ann.key}", f"/m/{public['id']}", "/tags/open"):
        assert counts_of_first_post((await site.get(path)).text) == expected, path
    assert "1 reply held here" in (await site.get(f"/m/{public['id']}")).text
    # A member reads everything held, and counts it.
    assert await post_counts(site.store, [public["id"]]) == {public["id"]: Counts(replies=3, reactions=3, boosts=1)}
