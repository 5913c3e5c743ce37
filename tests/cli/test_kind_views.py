"""Clients draw each kind from one table (murmur.client.kinds); a kind it lacks is a sentence, never a failure."""

from __future__ import annotations

from typing import Any

from murmur.client import kinds
from murmur.client.render import Context, render_item, render_notification, render_page
from murmur.keys import Identity
from murmur.kinds import REGISTRY
from murmur.message import sign_draft

ADA = Identity.from_seed(bytes([21]) * 32)
NOW = 1_700_000_000_000


def item(message: dict[str, Any]) -> dict[str, Any]:
    return {"seq": 1, "message": message, "verified": True, "counts": {"replies": 0, "reactions": 0, "boosts": 0}}


def survey() -> dict[str, Any]:
    # A kind a newer server may show as an entry of its own; this client has no view for it.
    return sign_draft(ADA, {"kind": "survey", "body": {"question": "lunch?"}, "tags": []}, created_at=NOW)


def test_a_kind_this_client_does_not_know_is_one_sentence() -> None:
    lines = render_item(item(survey()), Context())
    assert lines[1] == f"  ({kinds.UNKNOWN}: survey)"
    assert len(lines) == 2  # no text, no counts: nothing of it is guessed at
    assert kinds.UNKNOWN in render_page({"items": [item(survey())]}, Context())


def test_known_kinds_keep_their_line() -> None:
    post = sign_draft(ADA, {"body": {"text": "hello"}}, created_at=NOW)
    reaction = sign_draft(
        ADA, {"kind": "reaction", "body": {"emoji": "👍"}, "tags": [["target", post["id"]]]}, created_at=NOW
    )
    follow = sign_draft(ADA, {"kind": "follow", "body": {}, "tags": [["subject", ADA.public_key]]}, created_at=NOW)
    assert render_item(item(reaction), Context())[1] == f"  [reaction 👍] {post['id'][:12]}"
    assert render_item(item(follow), Context())[1] == f"  [follow] {ADA.public_key[:12]}"
    assert render_item(item(post), Context())[-1].startswith("  ↩ 0  ★ 0  ⟳ 0")


def test_every_kind_this_version_knows_has_a_view() -> None:
    missing = set(REGISTRY) - set(kinds.VIEWS)
    assert not missing, f"add a View to client/kinds.py for {sorted(missing)}"
    # A timeline entry of its own is drawn whole (a post) or as a card (a poll, a meetup), never as one line.
    assert {name for name in kinds.VIEWS if kinds.is_entry(name)} == {
        k.name for k in REGISTRY.values() if k.shown_as == "itself"
    }


def test_a_notification_of_a_kind_this_client_does_not_know_names_it() -> None:
    note = {"kind": "vote", "actor": ADA.public_key, "message": survey(), "verified": True}
    assert " vote · " in render_notification(note, Context())


def test_polls_and_meetups_are_cards_with_their_own_facts() -> None:
    later = NOW + 7_200_000
    body = {"question": "Lunch?\x1b[2J", "options": "noon\none", "multiple": "no", "closes": str(later)}
    poll = sign_draft(ADA, {"kind": "poll", "body": body, "tags": []}, created_at=NOW)
    lines = kinds.card(poll, NOW)
    assert lines is not None and lines[0] == "Poll: Lunch?␛[2J" and lines[1:3] == ["  1) noon", "  2) one"]
    assert lines[-1].startswith("one choice · closes in 2h · ballots are open")
    assert (kinds.card(poll, later) or [""])[-1].startswith("one choice · closed just now ·")
    assert (kinds.card(poll, later + 40 * 86_400_000) or [""])[-1].startswith("one choice · closed on 2023-11-15 ·")
    meetup_body = {"title": "Picnic", "start": str(NOW), "end": str(later), "tz": "Europe/Paris", "capacity": "1"}
    meetup = sign_draft(ADA, {"kind": "meetup", "body": meetup_body, "tags": []}, created_at=NOW)
    rendered = render_item(item(meetup), Context())
    assert rendered[1] == "  Meetup: Picnic"
    assert rendered[2] == "  2023-11-14 23:13 Europe/Paris to 2023-11-15 01:13 Europe/Paris · no place given · 1 place"
    assert kinds.card({"kind": "post", "body": {}}, NOW) is None and not kinds.is_entry("ballot")
