"""Hostile content in every string a page or feed shows: markup stays text, controls and bidi stay visible
stand-ins, and every Atom document still parses."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import feedparser

from tests.hostile import HOSTILE, acting_characters
from tests.web.site import Site, group_of, in_group, joins, open_letter, people, signature

MARKUP = (
    '<script>window.owned=1</script><img src=x onerror="window.owned=1">'
    '"><svg onload=alert(1)> </textarea><style>*{display:none}</style> &amp; &#x3c;b&#x3e; ]]> <!-- x -->'
    '<a href="javascript:alert(1)">j</a><meta http-equiv="refresh" content="0;url=http://evil.test/">'
)
EVERYTHING = MARKUP + "".join(HOSTILE.values())
# For the short fields (names, titles): the controls first, so a cut keeps them.
SHORT = "".join(HOSTILE.values()) + MARKUP
# What escaping must never let through as markup, whatever came in.
TAGS = re.compile(
    r"<(script|img|svg|style|meta http-equiv|textarea|iframe|object|embed|a href=\"javascript)", re.IGNORECASE
)


def assert_inert_html(html: str) -> None:
    assert not TAGS.search(html), TAGS.search(html)
    assert "onerror=" not in html.replace("onerror=&#34;", "").replace("onerror=&quot;", "")
    assert acting_characters(html.replace("\r", "")) == [], acting_characters(html)
    assert "&lt;script&gt;" in html


async def test_hostile_strings_are_inert_on_every_page(site: Site) -> None:
    ann, ben = people(2)
    text = EVERYTHING[:4900]
    post = ann.sign("post", {"text": text, "cw": EVERYTHING[:500], "visibility": "public"}, [["hashtag", "x"]], None)
    reply = ben.post(text, reply=post)
    group = group_of(ann, SHORT[:100], description=EVERYTHING[:2000], rules=EVERYTHING[:2000])
    letter = open_letter(ann, SHORT[:200], SHORT[:300], EVERYTHING)
    await site.add(ann.profile(SHORT[:64], EVERYTHING[:2000]), ben.profile(MARKUP[:64]), post, reply)
    await site.add(group, joins(ben, group), in_group(ben, group, text), letter, signature(ben, letter, SHORT[:500]))
    for path in (
        f"/@{ann.key}",
        f"/@{ben.key}",
        f"/m/{post['id']}",
        f"/m/{reply['id']}",
        "/tags/x",
        f"/g/{group['id']}",
        f"/letters/{letter['id']}",
    ):
        response = await site.get(path)
        assert response.status_code == 200, path
        assert_inert_html(response.text)


async def test_hostile_strings_leave_every_feed_well_formed(site: Site) -> None:
    ann, ben = people(2)
    text = ("tab\there\nnew line " + EVERYTHING + "\uffff\ufffe")[:4900]
    post = ann.sign("post", {"text": text, "cw": EVERYTHING[:500], "visibility": "public"}, [["hashtag", "x"]], None)
    group = group_of(ann, SHORT[:100], description=EVERYTHING[:2000])
    await site.add(ann.profile(SHORT[:64], EVERYTHING[:2000]), post, group, joins(ben, group))
    await site.add(in_group(ben, group, text))
    for path in (f"/@{ann.key}/feed.atom", "/tags/x/feed.atom", f"/g/{group['id']}/feed.atom"):
        response = await site.get(path)
        ET.fromstring(response.content)  # well-formed XML, or this raises
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        entry = parsed.entries[0]
        assert "<script>window.owned=1</script>" in entry.content[0].value  # the text, as text
        assert entry.content[0].type == "text/plain"
        assert acting_characters(response.content.decode("utf-8")) == []
    twtxt = (await site.get(f"/@{ann.key}/twtxt.txt")).text
    lines = twtxt.split("\n")
    posts = [line for line in lines if line and not line.startswith("#")]
    assert len(posts) == 1 and posts[0].count("\t") == 1 and "tab    here new line" in posts[0]
    assert acting_characters(twtxt.replace("\t", " ")) == []
