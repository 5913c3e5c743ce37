"""Every line of a bundle is accounted for: stored, or refused by its number with a reason code, and the header's
count checked against the lines that follow it. A blank line used to be skipped unseen, so that a bundle with one
reported only a count that did not add up, with no line to look at."""

from __future__ import annotations

import gzip
import io
import json
from typing import Any

import pytest

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store
from murmur.sync.bundle import MAX_LISTED, header_line
from murmur.sync.transfer import import_bundle, import_own
from murmur.validate import MAX_MESSAGE_BYTES

T0 = 1_700_000_000_000


def signed(author: Identity, count: int) -> list[bytes]:
    drafts = [{"created_at": T0 + i, "body": {"text": f"line {i} hostile"}} for i in range(count)]
    return [json.dumps(sign_draft(author, d), separators=(",", ":")).encode() for d in drafts]


def bundle(lines: list[bytes], count: int | None = None, *, packed: bool = True) -> bytes:
    text = header_line(len(lines) if count is None else count, {}, created_at=0) + b"".join(x + b"\n" for x in lines)
    return gzip.compress(text) if packed else text


# Each kind of line that is not a message, and the code it is refused with (docs/protocol.md, section 10).
BAD_LINES = {
    "empty": (b"", "invalid_json"),
    "spaces": (b"   ", "invalid_json"),
    "whitespace": (b" \t\r\x0b\x0c", "invalid_json"),
    "carriage return": (b"\r", "invalid_json"),
    "not JSON": (b"{not json", "invalid_json"),
    "NUL": (b"\x00", "invalid_json"),
    "array": (b"[1]", "not_object"),
    "null": (b"null", "not_object"),
    "string": (b'"text"', "not_object"),
    "invalid UTF-8": (b'{"v":\xff}', "invalid_utf8"),
    "over any message": (b'{"pad":"' + b"x" * MAX_MESSAGE_BYTES + b'"}', "too_large"),
}


@pytest.mark.parametrize("packed", [True, False], ids=["gzip", "plain"])
@pytest.mark.parametrize("name", list(BAD_LINES))
async def test_each_kind_of_bad_line_is_refused_by_number_and_the_rest_kept(
    store: Store, name: str, packed: bool
) -> None:
    line, code = BAD_LINES[name]
    good = signed(Identity.generate(), 2)
    report = await import_bundle(store, io.BytesIO(bundle([good[0], line, good[1]], packed=packed)))
    assert (report.stored, report.refused, dict(report.reasons)) == (2, 1, {code: 1})
    [refusal] = report.refusals
    assert (refusal["line"], refusal["code"]) == (3, code) and len(refusal["reason"]) > 10, refusal
    assert report.problems == [], report.problems  # one line each: the header's count holds


async def test_a_blank_line_is_named_as_blank(store: Store) -> None:
    report = await import_bundle(store, io.BytesIO(bundle([b" \t"])))
    assert "blank" in report.refusals[0]["reason"]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085", "\x1e"], ids=["LS", "PS", "NEL", "RS"])
async def test_other_line_separators_do_not_split_a_line(store: Store, separator: str) -> None:
    """JSON Lines ends a line at \\n only: a message holding another separator is one line, refused whole."""
    [message] = signed(Identity.generate(), 1)
    altered = message.replace(b"hostile", f"host{separator}ile".encode())
    report = await import_bundle(store, io.BytesIO(bundle([altered])))
    assert report.refused == 1 and report.refusals[0]["line"] == 2
    assert report.problems == []


async def test_a_line_split_by_a_newline_is_two_refusals_and_the_count_says_lines_were_added(store: Store) -> None:
    good = signed(Identity.generate(), 3)
    split = good[1].replace(b"hostile", b"host\nile")
    report = await import_bundle(store, io.BytesIO(bundle([good[0], split, good[2]])))
    assert (report.stored, report.refused) == (2, 2)
    assert [r["line"] for r in report.refusals] == [3, 4]
    [problem] = report.problems
    assert problem["code"] == "count_mismatch"
    assert (
        problem["reason"]
        == "The header promises 3 messages, but 4 lines follow it: lines were added since it was made."
    )


async def test_a_lost_line_is_reported_as_lost(store: Store) -> None:
    good = signed(Identity.generate(), 2)
    report = await import_bundle(store, io.BytesIO(bundle(good[:1], count=2)))
    assert (report.stored, report.refused) == (1, 0)
    assert [p["reason"] for p in report.problems] == [
        "The header promises 2 messages, but 1 line follows it: lines were lost since it was made."
    ]


@pytest.mark.parametrize("count", [b"true", b"-1", b"1.0", b'"2"', b"null"])
async def test_a_count_that_is_no_number_of_messages_is_reported_as_such(store: Store, count: bytes) -> None:
    good = signed(Identity.generate(), 2)
    text = b'{"murmur_bundle":1,"count":' + count + b"}\n" + b"".join(x + b"\n" for x in good)
    report = await import_bundle(store, io.BytesIO(text))
    assert report.stored == 2
    assert [p["reason"] for p in report.problems] == [
        f"The header's count ({json.dumps(json.loads(count))}) is not a number of messages, so lost lines go"
        " unnoticed; 2 lines follow it."
    ]


async def test_refusals_are_listed_in_line_order_whoever_refused_them(store: Store) -> None:
    """Lines the reader refuses (blank, too long) and lines the store refuses are one list, the file's first."""
    good = signed(Identity.generate(), 1)
    long_line = b"x" * (MAX_MESSAGE_BYTES + 1)
    report = await import_bundle(store, io.BytesIO(bundle([b"{}", b"", long_line, b"[]", *good, b" "])))
    assert [(r["line"], r["code"]) for r in report.refusals] == [
        (2, "missing_field"),
        (3, "invalid_json"),
        (4, "too_large"),
        (5, "not_object"),
        (7, "invalid_json"),
    ]
    many = [b"{}"] * (MAX_LISTED + 20)
    report = await import_bundle(store, io.BytesIO(bundle([b"", *many, b""])))
    assert report.refused == MAX_LISTED + 22 and report.reasons["invalid_json"] == 2
    listed = [r["line"] for r in report.refusals]
    assert listed == list(range(2, 2 + MAX_LISTED))  # the first blank line among them, the last one counted only


async def test_import_own_never_sends_a_blank_line_and_refuses_it_by_number() -> None:
    """A server's door skips blank lines (JSON Lines), so one sent would leave a result missing: the reader
    refuses it before anything is sent."""
    good = signed(Identity.generate(), 2)
    sent: list[bytes] = []

    async def send(batch: list[bytes]) -> list[dict[str, Any]]:
        sent.extend(batch)
        return [{"status": "stored", "id": json.loads(raw)["id"]} for raw in batch]

    report = await import_own(io.BytesIO(bundle([good[0], b"", b"\t", good[1]])), send)
    assert sent == good
    assert (report.stored, report.refused) == (2, 2)
    assert [(r["line"], r["code"]) for r in report.refusals] == [(3, "invalid_json"), (4, "invalid_json")]
    assert report.problems == []


async def test_a_bundle_saved_with_crlf_line_ends_imports_whole(store: Store) -> None:
    """A ``\\r`` before the newline is JSON whitespace after the message, not a line of its own."""
    good = signed(Identity.generate(), 3)
    text = bundle(good, packed=False).replace(b"\n", b"\r\n")
    report = await import_bundle(store, io.BytesIO(text))
    assert (report.stored, report.refused, report.problems) == (3, 0, [])
