"""A device counts its public messages: a counter and the previous message's id, on public messages only, so that
gaps never betray a message meant for fewer people (murmur.validate; docs/protocol.md §13.8)."""

from __future__ import annotations

import json

import pytest

from murmur.errors import Refused
from murmur.message import sign_draft
from murmur.validate import check
from tests.identity_logs import PHONE

PREVIOUS = "ab" * 32


def signed(tags: list[list[str]], visibility: str = "public", kind: str = "post") -> bytes:
    body = {"text": "hello", "visibility": visibility} if kind == "post" else {"emoji": "+1"}
    if kind == "reaction":
        tags = [["target", PREVIOUS], *tags]
    return json.dumps(sign_draft(PHONE, {"kind": kind, "body": body, "tags": tags})).encode()


@pytest.mark.parametrize(
    "tags",
    [
        [["counter", "1"]],
        [["counter", "2"], ["previous", PREVIOUS]],
        [["counter", "9007199254740991"], ["previous", PREVIOUS]],
    ],
)
def test_a_public_message_may_carry_its_count(tags: list[list[str]]) -> None:
    assert check(signed(tags)).tag("counter") == tags[0][1]
    assert check(signed(tags, kind="reaction")).tag("counter") == tags[0][1]


@pytest.mark.parametrize(
    ("tags", "visibility"),
    [
        ([["counter", "1"]], "local"),  # a narrower message is never counted
        ([["previous", PREVIOUS]], "local"),
        ([["previous", PREVIOUS]], "public"),  # previous without counter
        ([["counter", "1"], ["previous", PREVIOUS]], "public"),  # the first names none
        ([["counter", "2"]], "public"),  # a later one names the one before
        ([["counter", "0"]], "public"),
        ([["counter", "01"]], "public"),
        ([["counter", "-1"]], "public"),
        ([["counter", "9007199254740992"], ["previous", PREVIOUS]], "public"),
        ([["counter", "x"]], "public"),
        ([["counter", "1"], ["counter", "2"]], "public"),
        ([["counter", "2"], ["previous", "not an id"]], "public"),
    ],
)
def test_a_count_out_of_its_rules_is_refused(tags: list[list[str]], visibility: str) -> None:
    with pytest.raises(Refused) as refused:
        check(signed(tags, visibility))
    assert refused.value.code == "bad_tag"
