"""The one check every reader makes of a withheld notice before it says "withheld by X" (``notice_verifies``), and
the one wording (``withheld_notes``): every signed field changed, every byte of the signature flipped, the notice
moved to another message or turned from a receipt into a refusal, fails; what fails is said to be unverified,
with nothing of its reason. A notice that verifies is shown under a name only when its key is the reader's home
server or a peer that server's signed manifest lists (``Signers``, ``mark_signer``); any other key is unknown."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.keys import Identity
from murmur.manifest import Manifest, PeerEntry
from murmur.receipts import Signers, mark_signer, notice_verifies, signed, withheld_notes

PEER = Identity.from_seed(b"\x41" * 32)
HOME = Identity.from_seed(b"\x43" * 32)
MSG = "ab" * 32
KNOWN = Signers(HOME.public_key, {PEER.public_key: "far"})


def served(by: Identity = PEER, **changes: Any) -> dict[str, Any]:
    """A notice as a server serves it: its name for the signer, unsigned, beside what ``by`` signed."""
    line = signed(by, {"id": MSG, "status": "refused", "code": "policy", "reason": "no lunch"})
    answer = {"key": by.public_key, "name": "far", "status": "refused", "code": "policy", "reason": "no lunch",
              "sig": line["sig"], "at": 5}  # fmt: skip
    return {**answer, **changes}


def notice(by: Identity = PEER, signers: Signers = KNOWN, **changes: Any) -> dict[str, Any]:
    """A served notice as the reader marks it once it knows its server's peers."""
    answer = served(by, **changes)
    mark_signer(answer, signers)
    return answer


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


def test_what_the_serving_server_adds_unsigned_changes_no_verdict_and_its_name_is_not_shown() -> None:
    """The name and the time are the serving server's: they change no verdict, and the name shown is the one the
    reader's own list gives the key, drawn inert."""
    assert notice_verifies(MSG, notice(name="f\x1b[2Jar", at=9))
    [line] = withheld_notes(MSG, [notice(name="near")])
    assert line == f"withheld by far ({PEER.public_key[:16]}): no lunch"
    [line] = withheld_notes(MSG, [notice(signers=Signers(HOME.public_key, {PEER.public_key: "f\x1b[2Jar"}))])
    assert "\x1b" not in line and PEER.public_key[:16] in line


@pytest.mark.parametrize("signers", [Signers(HOME.public_key), Signers(), Signers(PEER.public_key[::-1])])
def test_a_notice_signed_by_a_key_the_reader_does_not_know_is_unknown_never_the_peer_it_is_served_as(
    signers: Signers,
) -> None:
    """A home server can sign with a key of its own and serve it under a peer's name: the signature holds, but
    the key is not a peer the reader's server lists, so neither that name nor the words are shown."""
    forger = Identity.from_seed(b"\x44" * 32)
    for by, known in ((forger, KNOWN), (PEER, signers)):
        answer = notice(by, known)
        assert notice_verifies(MSG, answer) and (answer["signer"], answer["name"]) == ("unknown", "")
        [line] = withheld_notes(MSG, [answer])
        assert line.startswith(f"withheld notice signed by an unknown key ({by.public_key[:16]})")
        assert "far" not in line and "lunch" not in line


def test_a_notice_the_home_server_signed_is_its_own() -> None:
    [line] = withheld_notes(MSG, [notice(HOME)])
    assert line == f"withheld by this server ({HOME.public_key[:16]}): no lunch"


def test_an_unmarked_notice_is_unknown_and_the_readers_mark_replaces_the_servers() -> None:
    """Only the reader's mark names a signer: what a server serves as ``signer`` and ``name`` is replaced."""
    [line] = withheld_notes(MSG, [served()])
    assert line.startswith("withheld notice signed by an unknown key")
    for said in ("peer", "home"):
        answer = served(signer=said)
        mark_signer(answer, Signers(HOME.public_key))
        assert (answer["signer"], answer["name"]) == ("unknown", "")


def test_the_peers_a_reader_knows_are_those_of_a_manifest_its_server_signed() -> None:
    listed = Manifest(HOME.public_key, 3, peers={PEER.public_key: PeerEntry(PEER.public_key, "far")})
    text = listed.signed_by(HOME).to_toml()
    assert Signers.of_manifest(HOME.public_key, text) == KNOWN
    other = Identity.from_seed(b"\x45" * 32)
    for untrusted in (listed.to_toml(), listed.signed_by(other).to_toml(), "not toml [", None):
        assert Signers.of_manifest(HOME.public_key, untrusted) == Signers(HOME.public_key)  # nobody's word
    assert Signers.of_manifest(other.public_key, text) == Signers(other.public_key)  # another server's


@pytest.mark.parametrize("junk", [None, "text", 7, [None, "x", 3], {"key": "a"}])
def test_junk_is_never_a_traceback(junk: Any) -> None:
    assert not notice_verifies(MSG, junk)
    notes = withheld_notes(MSG, junk if isinstance(junk, list) else [junk])
    assert all(n.startswith("unverified withheld notice") for n in notes)
