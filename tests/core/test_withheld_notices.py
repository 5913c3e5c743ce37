"""The one check every reader makes of a withheld notice before it says "withheld by X" (``notice_verifies``), and
the one wording (``withheld_notes``): every signed field changed, every byte of the signature flipped, the notice
moved to another message or turned from a receipt into a refusal, fails; what fails is said to be unverified,
with nothing of its reason."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.keys import Identity
from murmur.receipts import notice_verifies, signed, withheld_notes

PEER = Identity.from_seed(b"\x41" * 32)
MSG = "ab" * 32


def notice(**changes: Any) -> dict[str, Any]:
    line = signed(PEER, {"id": MSG, "status": "refused", "code": "policy", "reason": "no lunch"})
    served = {"key": PEER.public_key, "name": "far", "status": "refused", "code": "policy", "reason": "no lunch",
              "sig": line["sig"], "at": 5}  # fmt: skip
    return {**served, **changes}


def test_an_honest_notice_verifies_and_is_worded_as_the_peers() -> None:
    assert notice_verifies(MSG, notice())
    assert withheld_notes(MSG, [notice()]) == [f"withheld by far ({PEER.public_key[:16]}): no lunch"]


@pytest.mark.parametrize(
    "changes",
    [
        {"key": Identity.from_seed(b"\x42" * 32).public_key},
        {"code": "spam"},
        {"reason": "no lunch!"},
        {"reason": ""},
        {"key": "zz" * 32},
        {"key": None},
        {"sig": None},
        {"sig": ""},
        {"reason": 7},
    ],
)
def test_a_notice_with_any_signed_field_changed_does_not_verify(changes: dict[str, Any]) -> None:
    assert not notice_verifies(MSG, notice(**changes))
    [line] = withheld_notes(MSG, [notice(**changes)])
    assert line.startswith("unverified withheld notice (") and "lunch" not in line and "far" not in line


def test_every_byte_of_the_signature_flipped_fails() -> None:
    sig = bytes.fromhex(notice()["sig"])
    for at in range(len(sig)):
        flipped = sig[:at] + bytes([sig[at] ^ 0x01]) + sig[at + 1 :]
        assert not notice_verifies(MSG, notice(sig=flipped.hex()))


def test_a_notice_moved_to_another_message_or_made_of_a_receipt_fails() -> None:
    assert not notice_verifies("cd" * 32, notice())
    stored = signed(PEER, {"id": MSG, "status": "stored", "code": "", "reason": ""})
    assert not notice_verifies(MSG, notice(status="stored", code="", reason="", sig=stored["sig"]))


def test_what_the_serving_server_adds_unsigned_is_a_label_only() -> None:
    """The name and the time are the serving server's: they change no verdict (the key shown beside the name is
    what the signature binds), and the name is drawn inert."""
    assert notice_verifies(MSG, notice(name="f\x1b[2Jar", at=9))
    [line] = withheld_notes(MSG, [notice(name="f\x1b[2Jar")])
    assert "\x1b" not in line and PEER.public_key[:16] in line


@pytest.mark.parametrize("junk", [None, "text", 7, [None, "x", 3], {"key": "a"}])
def test_junk_is_never_a_traceback(junk: Any) -> None:
    assert not notice_verifies(MSG, junk)
    notes = withheld_notes(MSG, junk if isinstance(junk, list) else [junk])
    assert all(n.startswith("unverified withheld notice") for n in notes)
