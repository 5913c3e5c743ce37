"""The edit kind's shape, through the one validation path: what an edit carries, and what it may not."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.errors import Refused
from murmur.keys import Identity
from murmur.message import sign_envelope
from murmur.validate import check

ALICE = Identity.from_seed(bytes(range(32)))
BOB = Identity.from_seed(bytes(range(1, 33)))
NOW = 1_750_000_000_000
POST = "7a" * 32


def edit(**changes: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "v": 1,
        "kind": "edit",
        "author": ALICE.public_key,
        "created_at": NOW - 60_000,
        "body": {"text": f"fixed @{BOB.public_key} #murmur", "cw": "shop talk"},
        "tags": [["target", POST], ["mention", BOB.public_key], ["hashtag", "murmur"]],
    }
    env.update(changes)
    return sign_envelope(ALICE, env)


def test_an_edit_carries_a_posts_text_and_tags_and_names_its_post() -> None:
    message = check(edit(), now=NOW)
    assert message.kind == "edit" and message.tag("target") == POST
    assert message.visibility == "public"  # its audience is its post's (murmur.store.audience follows target)
    assert check(edit(body={"text": "no warning"}, tags=[["target", POST]]), now=NOW).body == {"text": "no warning"}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"body": {"cw": "only a warning"}}, "missing_field"),
        ({"body": {"text": ""}}, "bad_value"),
        ({"body": {"text": "x" * 5001}}, "too_long"),
        ({"body": {"text": "ok", "cw": "c" * 501}}, "too_long"),
        ({"body": {"text": "ok", "visibility": "local"}}, "extra_field"),  # an edit keeps its post's visibility
        ({"body": {"text": 5}}, "wrong_type"),
        ({"tags": []}, "bad_tag"),  # it must name its post
        ({"tags": [["target", POST], ["target", "7b" * 32]]}, "bad_tag"),
        ({"tags": [["target", POST], ["reply", POST], ["root", POST]]}, "bad_tag"),  # the thread is the post's
        ({"tags": [["target", "not an id"]]}, "bad_tag"),
        ({"tags": [["target", POST], *(["hashtag", f"t{i}"] for i in range(21))]}, "bad_tag"),
    ],
)
def test_an_edit_of_the_wrong_shape_is_refused_with_its_reason(changes: dict[str, Any], code: str) -> None:
    with pytest.raises(Refused) as refused:
        check(edit(**changes), now=NOW)
    assert refused.value.code == code, refused.value.message
