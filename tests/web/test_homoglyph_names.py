"""A page flags a display name another key also uses, look-alike letters of another script included."""

from __future__ import annotations

import pytest

from tests.web.site import Site, people


@pytest.mark.xfail(strict=True, reason="review6: a name of look-alike letters from another script is not flagged")
async def test_a_look_alike_name_in_another_script_is_flagged_as_shared(site: Site) -> None:
    ada, twin = people(2)
    await site.add(ada.profile("Ada"), ada.post("the real one"))
    await site.add(twin.profile("\u0410d\u0430"), twin.post("send me your key"))  # Cyrillic А and а
    page = (await site.get(f"/@{twin.key}")).text
    assert "name shared" in page
