"""An edit from another device of a post's author, as a reader's client shows it: the server shows it as the
post's newest version, and the client counts it only once it has proven, from the identity's signed key events,
that both keys were devices of that identity at their messages' times (``MurmurClient.prove_edits``)."""

from __future__ import annotations

from typing import Any

from murmur.client.api import mark_verified
from murmur.client.versions import applies, version_rows
from murmur.message import sign_draft
from tests.identity_logs import LAPTOP, PHONE, STRANGER, Log
from tests.server.conftest import Harness


def _edit(made: Log, signer: Any, post: dict[str, Any], text: str) -> dict[str, Any]:
    made.at += 1000
    draft = {"kind": "edit", "body": {"text": text}, "tags": [["target", post["id"]], ["identity", made.identity]]}
    return sign_draft(signer, draft, created_at=made.at)


async def test_a_reader_shows_an_edit_from_another_device_once_it_proved_whose_it_is(server: Harness) -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    post = made.post(LAPTOP, "written on the laptop")
    change = _edit(made, PHONE, post, "mended on the phone")
    results = await server.state.store.ingest([*made.events, post, change], origin="peer")
    assert {r.status for r in results} == {"stored"}, results
    reader = await server.member()
    page = await reader.timeline("federated")
    [item] = [i for i in page["items"] if i["message"]["id"] == post["id"]]
    assert item["edit"]["id"] == change["id"] and item["verified"] is True
    rows = version_rows(await reader.history(post["id"]), post["id"], reader.proven_edits)
    assert [r["text"] for r in rows] == ["written on the laptop", "mended on the phone"]


def test_an_edit_by_another_key_naming_the_identity_is_not_taken_on_the_servers_word() -> None:
    made = Log()
    post = made.post(LAPTOP, "written on the laptop")
    claimed = _edit(made, STRANGER, post, "not theirs to say")
    assert not applies(claimed, post)
    assert mark_verified({"message": post, "edit": claimed})["verified"] is False
