"""Drafts: what a client fills in for a person (docs/protocol.md, appendix), and what it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.errors import Refused
from murmur.keys import SMALL_ORDER_KEYS, Identity
from murmur.message import VERSION, complete_draft, sign_draft, tags_from_text, text_tags
from murmur.validate import check

ALICE = Identity.from_seed(bytes(range(32)))
BOB = Identity.from_seed(bytes(range(1, 33)))
NOW = 1_750_000_000_000


def test_a_bare_post_gets_every_default() -> None:
    env = complete_draft({"body": {"text": "hello"}}, ALICE.public_key, created_at=NOW)
    assert env == {
        "v": VERSION,
        "kind": "post",
        "author": ALICE.public_key,
        "created_at": NOW,
        "body": {"text": "hello", "visibility": "public"},
        "tags": [],
    }


def test_the_clock_is_read_when_the_draft_is_completed() -> None:
    first = complete_draft({"body": {"text": "a"}}, ALICE.public_key)["created_at"]
    assert isinstance(first, int) and first > 1_700_000_000_000  # milliseconds, not seconds


def test_tags_come_from_the_text_hashtags_first_each_once() -> None:
    text = f"@{BOB.public_key} #Release_Notes and #release_notes, #ok! not#this @{BOB.public_key} ##x #{'a' * 65}"
    assert tags_from_text(text) == [["hashtag", "release_notes"], ["hashtag", "ok"], ["mention", BOB.public_key]]


def test_a_mention_is_exactly_64_lowercase_hex_digits() -> None:
    assert tags_from_text(f"@{BOB.public_key}0 @{BOB.public_key.upper()} x@{BOB.public_key}") == []


def test_given_tags_are_kept_as_they_are() -> None:
    env = complete_draft({"body": {"text": "#topic"}, "tags": []}, ALICE.public_key, created_at=NOW)
    assert env["tags"] == []


def test_given_visibility_is_kept() -> None:
    env = complete_draft({"body": {"text": "x", "visibility": "local"}}, ALICE.public_key, created_at=NOW)
    assert env["body"]["visibility"] == "local"


def test_other_kinds_get_no_visibility_and_no_derived_tags() -> None:
    env = complete_draft({"kind": "profile", "body": {"bio": "#not_a_tag"}}, ALICE.public_key, created_at=NOW)
    assert env["body"] == {"bio": "#not_a_tag"} and env["tags"] == []


def test_a_signed_draft_validates() -> None:
    message = sign_draft(ALICE, {"body": {"text": f"hi @{BOB.public_key} #murmur"}}, created_at=NOW)
    accepted = check(message, now=NOW)
    assert accepted.tag_values("mention") == [BOB.public_key] and accepted.tag("hashtag") == "murmur"


@pytest.mark.parametrize(
    ("draft", "code"),
    [
        ("hello", "not_object"),
        (["kind", "post"], "not_object"),
        ({"body": "hello"}, "wrong_type"),
        ({"body": ["ab"]}, "wrong_type"),  # dict(["ab"]) would quietly make {"a": "b"}
        ({"body": 5}, "wrong_type"),
        ({"body": {"text": "x"}, "id": "00" * 32}, "extra_field"),
        ({"body": {"text": "x"}, "sig": "00" * 64}, "extra_field"),
    ],
)
def test_malformed_drafts_are_refused(draft: Any, code: str) -> None:
    with pytest.raises(Refused) as info:
        complete_draft(draft, ALICE.public_key, created_at=NOW)
    assert info.value.code == code


def test_a_draft_cannot_sign_for_someone_else() -> None:
    with pytest.raises(Refused) as info:
        sign_draft(ALICE, {"author": BOB.public_key, "body": {"text": "x"}}, created_at=NOW)
    assert info.value.code == "wrong_author"


def test_text_tags_are_capped_and_skip_impossible_keys() -> None:
    weak = sorted(SMALL_ORDER_KEYS)[0]
    real = Identity.generate().public_key
    text = " ".join(f"#tag{i}" for i in range(30)) + f" @{weak} @{real}"
    tags = tags_from_text(text)
    assert [t for t in tags if t[0] == "hashtag"] == [["hashtag", f"tag{i}"] for i in range(20)]
    assert [t for t in tags if t[0] == "mention"] == [["mention", real]]
    check(sign_draft(Identity.generate(), {"body": {"text": text}}))  # the post is accepted, not refused
    assert text_tags(text + " #tag0 #tag29 #TAG29").left_out == {"hashtag": 10}  # distinct ones, counted once
    assert text_tags("#a @" + real).left_out == {}


def test_more_hashtags_than_a_post_may_carry_are_refused_when_given() -> None:
    tags = [["hashtag", f"tag{i}"] for i in range(21)]
    with pytest.raises(Refused) as info:
        check(sign_draft(Identity.generate(), {"body": {"text": "x"}, "tags": tags}))
    assert "hashtag" in info.value.message
