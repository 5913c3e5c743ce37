"""A private group from the command line is named and written to as this device knows it (docs/cli.md): a typed
prefix of a group this device holds is asked of the home server by its whole id (the server never picks among
groups sharing the prefix), and nothing plain (a poll, a meetup) is published into a private group, whatever the
server says of it."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.client.api import MurmurClient
from tests.cli.test_dm_cli import Person, box, people  # noqa: F401  (the same server and people, made here again)

CANARY = "canary-7e2a the vote is on friday"


def groups_asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every group id the CLI asks the home server for, in order."""
    real = MurmurClient.group
    asked: list[str] = []

    async def recording(self: MurmurClient, group_id: str) -> dict[str, Any]:
        asked.append(group_id)
        return await real(self, group_id)

    monkeypatch.setattr(MurmurClient, "group", recording)
    return asked


def test_a_typed_prefix_of_a_group_held_here_is_asked_for_by_its_whole_id(
    people: dict[str, Person], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    ada = people["ada"]
    group = ada.json("group", "create", "organisers", "--private")["id"]
    asked = groups_asked(monkeypatch)
    ada.ok("post", "--group", group[:8], "hello")
    ada.ok("timeline", f"group:{group[:8]}")
    assert asked and set(asked) == {group}


def test_no_poll_or_meetup_goes_plain_into_a_private_group(
    people: dict[str, Person], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    ada = people["ada"]
    group = ada.json("group", "create", "auditors", "--private")["id"]
    real = MurmurClient.group

    async def says_open(self: MurmurClient, group_id: str) -> dict[str, Any]:
        return {**await real(self, group_id), "join": "open"}

    sent: list[dict[str, Any]] = []
    real_publish = MurmurClient.publish

    async def recording(self: MurmurClient, message: dict[str, Any]) -> dict[str, Any]:
        sent.append(message)
        return await real_publish(self, message)

    monkeypatch.setattr(MurmurClient, "group", says_open)
    monkeypatch.setattr(MurmurClient, "publish", recording)
    poll = ada.run("poll", "create", CANARY, "--option", "yes", "--option", "no", "--group", group)
    meetup = ada.run("meetup", "create", CANARY, "--start", "2030-01-01T10:00", "--end", "2030-01-01T12:00",
                     "--group", group)  # fmt: skip
    assert poll.exit_code != 0 and "private" in poll.output
    assert meetup.exit_code != 0 and "private" in meetup.output
    # the server refusing it comes too late: it has read the request
    assert not [m for m in sent if "canary-7e2a" in str(m)], "sent to the home server in the clear"


def test_a_poll_or_meetup_given_a_prefix_of_a_group_held_here_asks_for_it_by_its_whole_id(
    people: dict[str, Person], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    ada = people["ada"]
    group = ada.json("group", "create", "stewards", "--private")["id"]
    asked = groups_asked(monkeypatch)
    poll = ada.run("poll", "create", CANARY, "--option", "yes", "--option", "no", "--group", group[:8])
    meetup = ada.run("meetup", "create", CANARY, "--start", "2030-01-01T10:00", "--end", "2030-01-01T12:00",
                     "--group", group[:8])  # fmt: skip
    # the server never picks among groups sharing the prefix: the one held here is meant, and it is private
    assert asked and set(asked) == {group}
    assert poll.exit_code != 0 and "private" in poll.output
    assert meetup.exit_code != 0 and "private" in meetup.output
