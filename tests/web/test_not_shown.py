"""What the web view never shows: local posts and everything that names one, unknown ids, prefixes. Each answers
the very same 404 page, so a reader cannot tell a local id from one never held, nor probe ids by prefix."""

from __future__ import annotations

import pytest

from tests.web.site import Site, group_of, in_group, joins, open_letter, people, signature


async def not_found_body(site: Site, path: str) -> bytes:
    response = await site.get(path)
    assert response.status_code == 404, (path, response.status_code)
    assert response.headers["content-type"] == "text/html; charset=utf-8", path
    assert "default-src 'none'" in response.headers["content-security-policy"]
    return response.content


async def test_local_posts_and_what_names_them_answer_as_unknown_ids_do(site: Site) -> None:
    ann, ben = people(2)
    public = ann.post("public #open")
    local = ann.post("only here #open", visibility="local")
    reply_to_local = ben.post("answering the local one", reply=local)
    local_reply = ben.post("a local reply to a public post", visibility="local", reply=public)
    under_local_reply = ann.post("under the local reply", reply=local_reply)
    boost_of_local = ben.boost(local)
    await site.add(public, local, reply_to_local, local_reply, under_local_reply, boost_of_local)

    unknown = "ab" * 32
    bodies = set()
    for path in (
        f"/m/{unknown}",
        f"/m/{local['id']}",
        f"/m/{reply_to_local['id']}",
        f"/m/{local_reply['id']}",
        f"/m/{under_local_reply['id']}",
        f"/m/{boost_of_local['id']}",
        f"/m/{local['id']}/signed.json",
        f"/m/{reply_to_local['id']}/signed.json",
        f"/m/{boost_of_local['id']}/signed.json",
        f"/m/{unknown}/signed.json",
        f"/g/{local['id']}",
        f"/letters/{local['id']}",
        f"/letters/{unknown}/signed.json",
    ):
        bodies.add(await not_found_body(site, path))
    assert len(bodies) == 1, "every hidden or unknown id must answer the same page"

    # Their words reach no page or feed, while the public post and its public thread do.
    thread = (await site.get(f"/m/{public['id']}")).text
    assert "public" in thread and "a local reply" not in thread and "under the local reply" not in thread
    assert "0 replies held here" in thread
    for path in (
        f"/@{ann.key}",
        f"/@{ben.key}",
        "/tags/open",
        f"/@{ann.key}/feed.atom",
        "/tags/open/feed.atom",
        f"/@{ann.key}/twtxt.txt",
    ):
        response = await site.get(path)
        assert "only here" not in response.text and "answering the local" not in response.text, path
        assert "a local reply" not in response.text and "under the local reply" not in response.text, path


async def test_a_person_with_nothing_public_is_not_found(site: Site) -> None:
    ann, ben = people(2)
    await site.add(ann.post("quiet", visibility="local"))
    first = await not_found_body(site, f"/@{ann.key}")
    assert await not_found_body(site, f"/@{ben.key}") == first
    for suffix in ("/feed.atom", "/twtxt.txt"):
        assert await not_found_body(site, f"/@{ann.key}{suffix}") == await not_found_body(site, f"/@{ben.key}{suffix}")


@pytest.mark.parametrize("cut", [8, 12, 63])
async def test_a_prefix_or_another_spelling_of_a_key_or_id_reaches_nothing(site: Site, cut: int) -> None:
    ann = people(1)[0]
    post = ann.post("findable only by its whole id #t")
    group = group_of(ann, "Group")
    letter = open_letter(ann, "Letter", "them", "text")
    await site.add(ann.profile("Ann"), post, group, letter)
    unknown = await not_found_body(site, f"/m/{'cd' * 32}")
    for value, paths in (
        (ann.key, ("/@{}", "/@{}/feed.atom", "/@{}/twtxt.txt")),
        (post["id"], ("/m/{}", "/m/{}/signed.json")),
        (group["id"], ("/g/{}", "/g/{}/feed.atom")),
        (letter["id"], ("/letters/{}", "/letters/{}/signed.json")),
    ):
        for path in paths:
            assert (await site.get(path.format(value))).status_code == 200
            for spelling in (value[:cut], value.upper(), f" {value}", f"{value}0", f"%20{value}"):
                assert await not_found_body(site, path.format(spelling)) == unknown, path.format(spelling)


async def test_ids_of_the_wrong_kind_are_not_found(site: Site) -> None:
    ann, ben = people(2)
    post = ann.post("a post")
    group = group_of(ann, "Group")
    letter = open_letter(ann, "Letter", "them", "text")
    await site.add(post, group, letter, joins(ben, group), in_group(ben, group, "in the group"))
    unknown = await not_found_body(site, f"/m/{'ef' * 32}")
    for path in (
        f"/g/{post['id']}",
        f"/g/{letter['id']}",
        f"/letters/{post['id']}",
        f"/letters/{group['id']}",
        f"/m/{group['id']}",
        f"/m/{letter['id']}",
        f"/g/{post['id']}/feed.atom",
    ):
        assert await not_found_body(site, path) == unknown, path
    # The messages themselves are public: their signed JSON is served whatever their kind.
    for message in (group, letter):
        assert (await site.get(f"/m/{message['id']}/signed.json")).status_code == 200


async def test_a_deleted_letter_is_gone(site: Site) -> None:
    ann, ben = people(2)
    letter = open_letter(ann, "Letter", "them", "text")
    await site.add(letter, signature(ben, letter, "with you"))
    assert (await site.get(f"/letters/{letter['id']}")).status_code == 200
    await site.add(ann.delete(letter))
    for path in (f"/letters/{letter['id']}", f"/letters/{letter['id']}/signed.json", f"/m/{letter['id']}/signed.json"):
        await not_found_body(site, path)


async def test_bad_hashtags_are_not_found(site: Site) -> None:
    for name in ("a-b", "x" * 65, "caf%C3%A9", "%3Cscript%3E", "a%00b"):
        await not_found_body(site, f"/tags/{name}")


async def test_signatures_on_a_letter_follow_the_letter(site: Site) -> None:
    ann, ben = people(2)
    letter = open_letter(ann, "Letter", "them", "text")
    await site.add(letter, signature(ben, letter, "with you"))
    html = (await site.get(f"/letters/{letter['id']}")).text
    assert "with you" in html and '<span class="figure">1</span>' in html


async def test_polls_and_meetups_are_not_drawn_as_empty_posts(site: Site) -> None:
    # Timeline entries for members; the pages and feeds draw posts only, so neither they nor a boost of one show.
    ann, ben = people(2)
    poll = ann.sign("poll", {"question": "Lunch where?", "options": "here\nthere", "multiple": "no",
                             "closes": "9999999999999"}, [["hashtag", "lunch"]], None)  # fmt: skip
    meetup = ann.sign("meetup", {"title": "Picnic", "start": "1800000000000", "end": "1800000360000", "tz": "UTC"},
                      [["hashtag", "lunch"]], None)  # fmt: skip
    await site.add(ann.post("lunch at noon #lunch", hashtags=("lunch",)), poll, meetup, ben.boost(poll))
    for path in (f"/@{ann.key}", f"/@{ben.key}", "/tags/lunch"):
        page = (await site.get(path)).text
        assert page.count('<article class="post') == (0 if ben.key in path else 1), path
    for path in (f"/@{ann.key}/feed.atom", "/tags/lunch/feed.atom", f"/@{ann.key}/twtxt.txt"):
        shown = (await site.get(path)).text
        assert "lunch at noon" in shown and shown.count("<entry>") <= 1, path


async def test_scoped_posts_and_what_names_them_reach_no_page_or_feed(site: Site) -> None:
    # A post to a scope (docs/protocol.md §11.1) is for trusted peers carrying its label: never for anyone at all.
    ann, ben = people(2)
    public = ann.post("for everyone #open")
    scoped = ann.post("inside only #open", visibility="scope:inside")
    reply = ben.post("answering the inside one", reply=scoped)  # signed public: narrowed by what it names
    boost = ben.boost(scoped)
    await site.add(public, scoped, reply, boost)
    unknown = await not_found_body(site, f"/m/{'ab' * 32}")
    for message in (scoped, reply, boost):
        assert await not_found_body(site, f"/m/{message['id']}") == unknown
        assert await not_found_body(site, f"/m/{message['id']}/signed.json") == unknown
    for path in (f"/@{ann.key}", f"/@{ben.key}", "/tags/open", f"/@{ann.key}/feed.atom", "/tags/open/feed.atom",
                 f"/@{ann.key}/twtxt.txt", f"/m/{public['id']}"):  # fmt: skip
        response = await site.get(path)
        assert "inside only" not in response.text and "answering the inside" not in response.text, path
