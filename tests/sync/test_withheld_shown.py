"""A peer's signed notice that it withheld a message travels with every listing that shows the message: the
timelines (named, an author's), search and the thread carry ``withheld``, and the CLI says it under the
post."""

from __future__ import annotations

from murmur.client.render import Context, render_page
from tests.federation.conftest import Network
from tests.sync.test_receipts import withheld_by_b


async def test_every_listing_carries_what_a_peer_withheld(net: Network) -> None:
    b_key, ada_api, scoped, [plain] = await withheld_by_b(net, "for everyone")
    ada = ada_api.identity.public_key
    for which in ("home", "local", f"@{ada}"):
        page = await ada_api.timeline(which)
        assert {i["message"]["id"] for i in page["items"]} >= {scoped["id"], plain["id"]}, which
        [notice] = page["withheld"][scoped["id"]]
        assert notice["key"] == b_key and notice["code"] == "out_of_audience", which
        assert plain["id"] not in page["withheld"], which  # nothing refused: nothing said
        shown = render_page(page, Context.of(page))
        assert shown.count("withheld by b (") == 1 and "'inside'" in shown, which
    found = await ada_api.search("inside")
    assert [i["message"]["id"] for i in found["posts"]] == [scoped["id"]]
    assert [n["key"] for n in found["withheld"][scoped["id"]]] == [b_key]
    thread = await ada_api.thread(scoped["id"])
    assert [n["key"] for n in thread["withheld"][scoped["id"]]] == [b_key]
