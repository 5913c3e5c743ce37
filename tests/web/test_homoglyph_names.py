"""A page flags a display name another key also uses, look-alike letters of another script included."""

from __future__ import annotations

from tests.web.site import Site, people


async def test_a_look_alike_name_in_another_script_is_flagged_as_shared(site: Site) -> None:
    ada, twin = people(2)
    await site.add(ada.profile("Ada"), ada.post("the real one"))
    await site.add(twin.profile("\u0410d\u0430"), twin.post("send me your key"))  # Cyrillic А and а
    for who in (twin, ada):  # each page flags it, and each still shows its own name: flagged, not merged
        page = (await site.get(f"/@{who.key}")).text
        assert "name shared" in page
    assert "\u0410d\u0430" in (await site.get(f"/@{twin.key}")).text
