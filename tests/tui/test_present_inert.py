"""Every drawing function of the TUI, fed every hostile string in every field another person controls."""

from __future__ import annotations

import pytest

from murmur.client.kinds import UNKNOWN
from murmur.client.tui import present
from murmur.keys import fingerprint
from murmur.message import sign_draft
from tests.hostile import HOSTILE, acting_characters
from tests.tui.conftest import ALICE, NOW


@pytest.mark.parametrize("hostile", list(HOSTILE.values()), ids=list(HOSTILE))
def test_what_the_tui_draws_is_inert(hostile: str) -> None:
    body = {"text": f"t{hostile}\n{hostile}", "cw": f"c{hostile}"}
    post = sign_draft(ALICE, {"kind": "post", "body": body}, created_at=NOW)
    item = {"seq": 1, "message": post, "verified": True, "counts": {}, "boosted_by": ALICE.public_key}
    names = {ALICE.public_key: f"n{hostile}"}
    reaction = sign_draft(
        ALICE, {"kind": "reaction", "body": {"emoji": hostile[:8] or "+"}, "tags": [["target", post["id"]]]}
    )
    drawn = [
        present.post_content(item, names, NOW),
        present.post_content(item, names, NOW, cw_open=True),
        present.post_content(item, names, NOW, cw_open=True, expanded=True, shared={ALICE.public_key}),
        present.notification_content(
            {"kind": hostile, "actor": ALICE.public_key, "message": post, "verified": True}, names, NOW, cw_open=True
        ),
        present.notification_content(
            {"kind": "reaction", "actor": ALICE.public_key, "message": reaction, "verified": True}, names, NOW
        ),
        present.person_content({"key": ALICE.public_key, "name": hostile, "bio": hostile}),
        present.profile_content({"key": ALICE.public_key, "name": hostile, "bio": hostile, "member": True}, hostile),
    ]
    for content in drawn:
        assert acting_characters(str(content)) == [], str(content)


def test_a_person_whose_name_another_key_uses_is_flagged() -> None:
    person = {"key": ALICE.public_key, "name": "Ali\u200bce", "bio": "", "checked_identity": ALICE.public_key}
    assert str(present.person_content(person)) == f"Ali<U+200B>ce {fingerprint(ALICE.public_key)}"
    flagged = str(present.person_content(person, {ALICE.public_key}))
    assert flagged == f"Ali<U+200B>ce {fingerprint(ALICE.public_key)}{present.SHARED_NAME}"


def test_a_person_found_shows_the_identity_checked_here_never_the_servers_claim() -> None:
    claimed = {"key": ALICE.public_key, "name": "Alice", "bio": "", "identity": "ab" * 32,
               "identity_fingerprint": fingerprint("ab" * 32)}  # fmt: skip
    assert str(present.person_content({**claimed, "checked_identity": "cd" * 32})) == f"Alice {fingerprint('cd' * 32)}"
    assert str(present.person_content({**claimed, "checked_identity": None})) == "Alice identity unverified"


def test_a_kind_the_tui_does_not_know_is_one_sentence() -> None:
    survey = sign_draft(ALICE, {"kind": "survey", "body": {"question": "lunch?"}}, created_at=NOW)
    drawn = str(present.post_content({"seq": 1, "message": survey, "verified": True, "counts": {}}, {}, NOW))
    assert f"({UNKNOWN}: survey)" in drawn and "lunch" not in drawn and "↩" not in drawn
