"""The poll routes in-process: the server's figures, the poll with its ballots as signed, and a recount from
them that agrees, or shows the difference when the server's copy was tampered with."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from murmur.client.api import ApiError, MurmurClient
from murmur.client.recount import recount
from murmur.kinds.group_drafts import create_draft, membership_draft
from murmur.kinds.poll import ballot_draft, poll_draft
from murmur.message import sign_draft
from murmur.validate import check
from tests.server.conftest import Harness


async def publish(api: MurmurClient, draft: dict[str, Any]) -> dict[str, Any]:
    message = sign_draft(api.identity, draft)
    result = await api.publish(message)
    assert result["status"] == "stored", result
    return message


def a_poll(group: str | None = None, *, closes_in: int = 3_600_000) -> dict[str, Any]:
    closes = int(time.time() * 1000) + closes_in
    return poll_draft("Lunch?", ["noon", "one", "two"], closes_at=closes, multiple=False, group=group)


async def test_figures_and_who_chose_what(server: Harness) -> None:
    ann, ben, cat = await server.member(), await server.member(), await server.member()
    poll = check(await publish(ann, a_poll()))
    await publish(ben, ballot_draft(poll, ["1"]))
    await publish(ben, ballot_draft(poll, ["two"]))  # a change of mind
    await publish(cat, ballot_draft(poll, ["2"]))
    figures = await cat.poll(poll.id[:12])
    assert [(o["text"], o["votes"]) for o in figures["options"]] == [("noon", 0), ("one", 1), ("two", 1)]
    assert (figures["voters"], figures["closed"], figures["question"]) == (2, False, "Lunch?")
    assert sorted((b["key"], b["choices"]) for b in figures["ballots"]) == sorted(
        [(ben.identity.public_key, [3]), (cat.identity.public_key, [2])]
    )
    found = recount(await cat.poll_signed(poll.id), poll.id)
    assert found.tally.as_dict(False) == {k: figures[k] for k in ("options", "voters", "closed")}
    assert found.invalid == 0


async def test_a_ballot_that_cannot_count_is_refused_with_its_reason(server: Harness) -> None:
    ann, ben = await server.member(), await server.member()
    poll = check(await publish(ann, a_poll()))
    draft = {"kind": "ballot", "body": {"choices": "7"}, "tags": [["target", poll.id], ["subject", poll.author]]}
    with pytest.raises(ApiError) as refused:
        await ben.publish(sign_draft(ben.identity, draft))
    assert refused.value.code == "bad_option" and "3 options" in str(refused.value)


async def test_a_tampered_server_figure_differs_from_the_recount(server: Harness, tmp_path: Path) -> None:
    ann, ben, cat = await server.member(), await server.member(), await server.member()
    group = await publish(ann, create_draft("Lunch club"))
    await publish(ben, membership_draft("group_join", group["id"]))
    poll = check(await publish(ann, a_poll(group["id"])))
    await publish(ben, ballot_draft(poll, ["1"]))
    await publish(cat, ballot_draft(poll, ["2"]))  # Cat is no member: it does not count
    # The server's kept state is changed behind the signed messages: Cat made a member. Its figure follows; the
    # recount, which folds the group from its signed messages, does not.
    with sqlite3.connect(tmp_path / "server.db") as db:
        row = (bytes.fromhex(group["id"]), bytes.fromhex(cat.identity.public_key), 0)
        db.execute("INSERT INTO groups_spans (grp, key, start_at, end_at) VALUES (?, ?, ?, NULL)", row)
    figures = await cat.poll(poll.id)
    assert [o["votes"] for o in figures["options"]] == [1, 1, 0]
    found = recount(await cat.poll_signed(poll.id), poll.id)
    assert [v for _, v in found.tally.options] == [1, 0, 0] and found.invalid == 0


async def test_a_group_poll_counts_only_members(server: Harness) -> None:
    ann, ben, cat = await server.member(), await server.member(), await server.member()
    group = await publish(ann, create_draft("Lunch club"))
    await publish(ben, membership_draft("group_join", group["id"]))
    poll = check(await publish(ann, a_poll(group["id"])))
    await publish(ben, ballot_draft(poll, ["1"]))
    await publish(cat, ballot_draft(poll, ["1"]))  # not a member: stored, not counted
    figures = await cat.poll(poll.id)
    assert (figures["voters"], figures["group"]) == (1, group["id"])
    found = recount(await cat.poll_signed(poll.id), poll.id)
    assert found.tally.voters == 1 and [v for _, v in found.tally.options] == [1, 0, 0]


@pytest.mark.parametrize("path", ["/api/v1/polls/{}", "/api/v1/polls/{}/signed"])
async def test_what_is_not_a_poll_is_not_found(server: Harness, path: str) -> None:
    ann = await server.member()
    post = await publish(ann, {"kind": "post", "body": {"text": "hello"}})
    for asked in (post["id"], "ab" * 32):
        with pytest.raises(ApiError) as error:
            await ann.request("GET", path.format(asked))
        assert error.value.code == "not_found"
