"""``murmur search`` shows, for each person found, the fingerprint of the identity this device checked their key
speaks for against the identity's signed key events, never the one the home server claims; "identity unverified"
when the log cannot be checked here. ``--json`` adds ``checked_identity`` and ``checked_fingerprint`` beside the
server's ``identity`` and ``identity_fingerprint`` (murmur.client.identity_check.with_checked_identity)."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.client.api import MurmurClient
from murmur.keys import fingerprint
from tests.cli.test_dm_cli import Person, box, people  # noqa: F401  (the same server and people, made here again)


def found(person: Person, query: str) -> dict[str, Any]:
    [hit] = person.json("search", query, "--type", "people")["people"]
    return dict(hit)


def test_the_fingerprint_shown_is_the_identity_the_device_checked(people: dict[str, Person]) -> None:  # noqa: F811
    ada, bo, dee = people["ada"], people["bo"], people["dee"]
    hit = found(ada, "bo")
    assert (hit["checked_identity"], hit["checked_fingerprint"]) == (bo.identity, fingerprint(str(bo.identity)))
    assert hit["identity"] == bo.identity  # the server's fields are kept as they were
    assert fingerprint(str(bo.identity)) in ada.ok("search", "bo", "--type", "people").stdout
    bare = found(ada, "dee")  # a bare key is its own identity
    assert bare["checked_identity"] == dee.json("whoami")["key"]


def test_a_server_claiming_another_identity_is_not_believed(
    people: dict[str, Person], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    ada, bo, cy = people["ada"], people["bo"], people["cy"]
    real = MurmurClient.search

    async def lying(self: MurmurClient, *args: Any, **kwargs: Any) -> dict[str, Any]:
        answer = await real(self, *args, **kwargs)
        claimed = {"identity": cy.identity, "identity_fingerprint": fingerprint(str(cy.identity))}
        return {**answer, "people": [{**p, **claimed} for p in answer.get("people", [])]}

    monkeypatch.setattr(MurmurClient, "search", lying)
    hit = found(ada, "bo")
    assert hit["identity"] == cy.identity  # what the server said, as it said it
    assert hit["checked_fingerprint"] == fingerprint(str(bo.identity))
    shown = ada.ok("search", "bo", "--type", "people").stdout
    assert fingerprint(str(bo.identity)) in shown and fingerprint(str(cy.identity)) not in shown


def test_a_log_that_cannot_be_checked_is_said_unverified(
    people: dict[str, Person], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    ada, bo, cy = people["ada"], people["bo"], people["cy"]

    async def no_inception(self: MurmurClient, name: str) -> dict[str, Any]:
        return {"identity": cy.identity, "bare": False, "events": []}  # the server's word alone: nothing signed

    monkeypatch.setattr(MurmurClient, "identity_events", no_inception)
    hit = found(ada, "bo")
    assert (hit["checked_identity"], hit["checked_fingerprint"]) == (None, None)
    shown = ada.ok("search", "bo", "--type", "people").stdout
    assert "identity unverified" in shown
    assert fingerprint(str(bo.identity)) not in shown and fingerprint(str(cy.identity)) not in shown
