"""The test vectors of docs/protocol.md §13 (identities), generated, never typed: one signed message of each key
event kind (in §12's format) and whole logs with the state they resolve to, the fork and the refusals included.

``python -m tests.identity_vectors --write`` rewrites the two generated regions of docs/protocol.md;
tests/core/test_identity_vectors.py fails when the document and this generator disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from murmur import key_events as ke
from murmur.jcs import canonicalize
from murmur.keys import Identity
from murmur.kinds.key_log import Event, resolve, verdict
from murmur.message import envelope_of
from murmur.validate import check
from tests.identity_logs import (
    LAPTOP,
    PHONE,
    ROTATION_0,
    ROTATION_1,
    ROTATION_2,
    SPARE,
    STRANGER,
    TABLET,
    Log,
    full_life,
)

PROTOCOL = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"
MESSAGES = ("<!-- identity message vectors: generated -->", "<!-- end of identity message vectors -->")
LOGS = ("<!-- identity log vectors: generated -->", "<!-- end of identity log vectors -->")
SEEDS = {"laptop": LAPTOP, "phone": PHONE, "tablet": TABLET, "spare": SPARE, "stranger": STRANGER,
         "rotation_0": ROTATION_0, "rotation_1": ROTATION_1, "rotation_2": ROTATION_2}  # fmt: skip


def _seed(who: Identity) -> str:
    return next(
        bytes([int(n)]) * 32 for n in range(256) if Identity.from_seed(bytes([n]) * 32).public_key == who.public_key
    ).hex()


def _block(value: dict[str, Any]) -> str:
    return "```json\n" + json.dumps(value, indent=2, ensure_ascii=False) + "\n```"


def message_vector(name: str, note: str, signer: Identity, message: dict[str, Any]) -> dict[str, Any]:
    canonical = canonicalize(envelope_of(message))
    return {
        "name": name, "expect": "valid", "note": note, "seed": _seed(signer), "public_key": signer.public_key,
        "message": message, "canonical_text": canonical.decode("utf-8"), "canonical_hex": canonical.hex(),
        "id": message["id"], "sig": message["sig"],
    }  # fmt: skip


def message_vectors() -> list[dict[str, Any]]:
    life = full_life()
    signers = [LAPTOP, LAPTOP, PHONE, PHONE, ROTATION_0, PHONE, ROTATION_1]
    notes = {
        "key_inception": "An identity begins: the author is its first device; next is SHA-256 of rotation_0's key.",
        "key_device_add": "A current device adds the phone; proof is the phone's own signature (§13.3).",
        "key_move": "The identity's home server is now new.example.",
        "key_device_remove": "The phone removes the laptop.",
        "key_rotation": "rotation_0, committed to by the inception, signs; it commits to rotation_1.",
        "key_recovery": "rotation_1 revokes every device and adds spare; it commits to rotation_2.",
    }
    out, seen = [], set()
    for signer, message in zip(signers, life.events, strict=True):
        kind = message["kind"]
        if kind not in seen:
            seen.add(kind)
            out.append(message_vector(kind.replace("_", "-"), notes[kind], signer, message))
    post = life.post(SPARE, "hello from the recovered device")
    out.append(message_vector("post-for-identity", "A post signed by a device, for its identity.", SPARE, post))
    return out


def log_vector(
    name: str, note: str, log: Log, probes: list[tuple[Identity, int]], backdated: tuple[str, ...] = ()
) -> dict[str, Any]:
    events = [Event.of(check(m, now=2**53 - 1)) for m in log.events]
    resolved = resolve(log.identity, events, backdated)
    assert resolved is not None
    s = resolved.state
    return {
        "name": name,
        "note": note,
        "identity": log.identity,
        "events": log.events,
        **({"backdated": list(backdated)} if backdated else {}),
        "expect": {
            "chain": list(resolved.chain),
            "next": s.next,
            "home": s.home,
            "devices": [
                {"key": d.key, "name": d.name, "x25519": d.x25519, "added_at": d.added_at, "removed_at": d.removed_at,
                 "disputed_at": d.disputed_at}
                for d in s.devices.values()
            ],
            "fork": None if resolved.fork is None else {"place": resolved.fork.place,
                                                         "branches": list(resolved.fork.branches)},
            "superseded": list(resolved.superseded),
            "refused": {i: r.code for i, r in sorted(resolved.refused.items())},
        },
        "verdicts": [
            {"device": who.public_key, "created_at": at, "expect": v.code or v.status}
            for who, at in probes
            for v in [verdict(resolved, who.public_key, at)]
        ],
    }  # fmt: skip


def log_vectors() -> list[dict[str, Any]]:
    life = full_life()
    removal, recovered = life.events[3]["created_at"], life.events[-1]["created_at"]
    life.rotate(PHONE, STRANGER)  # a device key cannot rotate
    stolen = Log()
    stolen.add(LAPTOP, PHONE, "phone")
    place = stolen.head
    stolen.add(PHONE, STRANGER, "thief")
    stolen.recover(ROTATION_0, ROTATION_1, SPARE, prior=place)
    forked = Log()
    forked.add(LAPTOP, PHONE, "phone")
    place = forked.head
    forked.add(LAPTOP, TABLET, "tablet")
    forked.add(PHONE, SPARE, "spare", prior=place)
    contested = Log()
    place = contested.add(LAPTOP, PHONE, "phone")["id"]
    contested.add(LAPTOP, TABLET, "tablet")
    removal = contested.remove(LAPTOP, PHONE)["created_at"]
    contested.remove(PHONE, LAPTOP, prior=place)
    thief = Log()
    place = thief.add(LAPTOP, PHONE, "phone")["id"]
    thief.add(LAPTOP, TABLET, "tablet")
    theft = thief.remove(PHONE, LAPTOP, prior=place)["created_at"]
    backdated = Log()
    backdated.add(LAPTOP, PHONE, "phone")
    owners = backdated.post(LAPTOP, "acknowledged here")["created_at"]
    backdating = ke.remove_device(PHONE, backdated.identity, backdated.head, LAPTOP.public_key, at=owners - 1)
    backdated.events.append(backdating)
    spent = Log()
    spent.add(LAPTOP, PHONE, "phone")
    spent.rotate(ROTATION_0, ROTATION_1)
    spent.recover(ROTATION_0, ROTATION_2, STRANGER, prior=spent.identity)
    claimed = Log()
    claimed.add(LAPTOP, PHONE, "phone")
    claimed.add(LAPTOP, STRANGER, "thief", claiming=PHONE)
    claimed.add(LAPTOP, TABLET, "tablet")
    stranger = Log(first=STRANGER, claiming=LAPTOP)
    stranger.add(STRANGER, PHONE, "phone")
    return [
        log_vector(
            "log-full-life",
            "Every kind in order, then a rotation a device signed (refused not_rotation_key).",
            life,
            [(LAPTOP, removal - 1), (LAPTOP, removal), (PHONE, recovered), (SPARE, recovered), (STRANGER, removal)],
        ),
        log_vector(
            "log-recovery-supersedes-a-thief",
            "A thief holding the phone's key adds a device; the owner recovers at the same place and wins.",
            stolen,
            [(STRANGER, stolen.at), (PHONE, stolen.at), (SPARE, stolen.at)],
        ),
        log_vector(
            "log-fork",
            "Two devices each add one at the same place: a fork; the log stops before it and neither is a device.",
            forked,
            [(TABLET, forked.at), (SPARE, forked.at), (PHONE, forked.at)],
        ),
        log_vector(
            "log-fork-keeps-removals",
            "The removed phone signs at the place after its add, removing the laptop that removed it: a fork (each"
            " branch removes the other's signer); both are disputed, the phone from its removal, the laptop from the"
            " tablet's add, its first event on the way to the contested removal (what they sign after waits), and"
            " the tablet added on a branch is no device.",
            contested,
            [(PHONE, removal - 1), (PHONE, contested.at), (LAPTOP, contested.at), (TABLET, contested.at)],
        ),
        log_vector(
            "log-current-device-fork-is-disputed",
            "The phone, current and never removed, signs a removal of the laptop at the place after its add, where"
            " the laptop went on to add a tablet: device events of equal authority, a fork; the laptop is disputed"
            " from the removal, and so is the phone that signed it; neither is removed.",
            thief,
            [(LAPTOP, theft - 1), (LAPTOP, theft), (PHONE, theft), (TABLET, thief.at)],
        ),
        log_vector(
            "log-backdated-removal-is-contested",
            "The phone, current, appends a removal of the laptop at the end of the log, dated just before a post of"
            " the laptop's that the server had acknowledged to its member, so the server holds the removal as"
            " backdated (`backdated`): a fork against the log as acknowledged; the laptop is disputed from the"
            " removal, and so is the phone that signed it; neither is removed.",
            backdated,
            [(LAPTOP, backdating["created_at"] - 1), (LAPTOP, owners), (PHONE, backdating["created_at"])],
            (backdating["id"],),
        ),
        log_vector(
            "log-spent-rotation-key-is-a-fork",
            "The rotation key spent by a rotation recovers at the inception: both branches carry the key, a fork,"
            " never a takeover; its new device is no device.",
            spent,
            [(STRANGER, spent.at), (PHONE, spent.at), (LAPTOP, spent.at)],
        ),
        log_vector(
            "log-x25519-not-held",
            "The laptop adds the stranger listing the phone's X25519 key, which the stranger's key does not map to:"
            " refused x25519_not_derived (the log may list only the X25519 form of the device's own key), and the"
            " add after it prior_refused.",
            claimed,
            [(PHONE, claimed.at), (STRANGER, claimed.at)],
        ),
        log_vector(
            "log-inception-x25519-not-held",
            "An inception by the stranger listing the laptop's X25519 key: refused x25519_not_derived, and every"
            " event naming the identity with it; no device speaks for it.",
            stranger,
            [(STRANGER, stranger.at)],
        ),
    ]


def seeds_line() -> str:
    return (
        "Seeds (32 bytes each, RFC 8032 private keys): "
        + ", ".join(f"`{name}` = `{_seed(who)[:2]}`×32" for name, who in SEEDS.items())
        + "."
    )


def regions() -> dict[tuple[str, str], str]:
    return {
        MESSAGES: "\n\n".join(_block(v) for v in message_vectors()),
        LOGS: seeds_line() + "\n\n" + "\n\n".join(_block(v) for v in log_vectors()),
    }


def region_of(text: str, markers: tuple[str, str]) -> str:
    start, end = text.index(markers[0]) + len(markers[0]), text.index(markers[1])
    return text[start:end].strip("\n")


def write() -> None:
    text = PROTOCOL.read_text(encoding="utf-8")
    for markers, body in regions().items():
        start, end = text.index(markers[0]) + len(markers[0]), text.index(markers[1])
        text = text[:start] + "\n" + body + "\n" + text[end:]
    PROTOCOL.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.identity_vectors --write")
    write()
