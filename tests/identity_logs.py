"""Identity logs for tests and the protocol's vectors: deterministic keys, events signed at given times."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from murmur import key_events as ke
from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def key(seed: int) -> Identity:
    return Identity.from_seed(bytes([seed]) * 32)


def x25519(seed: int) -> str:
    """The X25519 key the device ``key(seed)`` holds: the only one a log may list for it."""
    return ke.x25519_public(key(seed).sealing_key())


LAPTOP, PHONE, TABLET, SPARE = key(41), key(42), key(43), key(44)
ROTATION_0, ROTATION_1, ROTATION_2 = key(51), key(52), key(53)
STRANGER = key(61)


def device(d: Identity, identity: str, name: str, claiming: Identity | None = None) -> dict[str, str]:
    """What an add or a recovery carries for device ``d``, its proof made by ``d`` itself; with ``claiming``, the
    X25519 key of that other device instead of its own (a claim the log refuses)."""
    sealing = ke.x25519_public((claiming or d).sealing_key())
    return ke.device_body(d.public_key, name, sealing, ke.device_proof(d, identity))


@dataclass
class Log:
    """An identity's events as they are made, each after the last unless told otherwise."""

    first: Identity = LAPTOP
    events: list[dict[str, Any]] = field(default_factory=list)
    at: int = T0
    claiming: Identity | None = None  # the first device lists this device's X25519 key, not its own

    def __post_init__(self) -> None:
        sealing = ke.x25519_public((self.claiming or self.first).sealing_key())
        self.events.append(ke.inception(self.first, "laptop", sealing, ROTATION_0.public_key, at=self.at))

    @property
    def identity(self) -> str:
        return str(self.events[0]["id"])

    @property
    def head(self) -> str:
        return str(self.events[-1]["id"])

    def _tick(self) -> int:
        self.at += 1000
        return self.at

    def add(
        self, signer: Identity, new: Identity, name: str, *, prior: str | None = None, claiming: Identity | None = None
    ) -> dict[str, Any]:
        body = device(new, self.identity, name, claiming)
        e = ke.add_device(signer, self.identity, prior or self.head, body, at=self._tick())
        self.events.append(e)
        return e

    def remove(self, signer: Identity, gone: Identity, *, prior: str | None = None) -> dict[str, Any]:
        e = ke.remove_device(signer, self.identity, prior or self.head, gone.public_key, at=self._tick())
        self.events.append(e)
        return e

    def rotate(self, by: Identity, next_key: Identity, *, prior: str | None = None) -> dict[str, Any]:
        e = ke.rotation(by, self.identity, prior or self.head, next_key.public_key, at=self._tick())
        self.events.append(e)
        return e

    def recover(self, by: Identity, next_key: Identity, new: Identity, *, prior: str | None = None) -> dict[str, Any]:
        body = device(new, self.identity, "recovered")
        e = ke.recovery(by, self.identity, prior or self.head, next_key.public_key, body, at=self._tick())
        self.events.append(e)
        return e

    def move(self, signer: Identity, home: str, *, prior: str | None = None) -> dict[str, Any]:
        e = ke.move(signer, self.identity, prior or self.head, home, at=self._tick())
        self.events.append(e)
        return e

    def post(self, signer: Identity, text: str, *, at: int | None = None) -> dict[str, Any]:
        """A post ``signer`` makes for the identity, at ``at`` (default: just after the last event)."""
        when = self._tick() if at is None else at
        draft = {"kind": "post", "body": {"text": text}, "tags": [["identity", self.identity]]}
        return sign_draft(signer, draft, created_at=when)


def full_life() -> Log:
    """Every key event kind in order: a phone added, a move, the laptop removed, a rotation, a tablet added, a
    recovery to a spare device."""
    log = Log()
    log.add(LAPTOP, PHONE, "phone")
    log.move(PHONE, "https://new.example")
    log.remove(PHONE, LAPTOP)
    log.rotate(ROTATION_0, ROTATION_1)
    log.add(PHONE, TABLET, "tablet")
    log.recover(ROTATION_1, ROTATION_2, SPARE)
    return log


HOLDINGS = (
    "SELECT device, added_at, removed_at, disputed_at FROM identity_devices ORDER BY device",
    "SELECT m.id, c.status FROM identity_claims c JOIN messages m USING (seq) ORDER BY m.id",
    "SELECT id FROM messages ORDER BY id",
    "SELECT id FROM identity_refused ORDER BY id",
)


async def holdings(store: Store) -> tuple[Any, ...]:
    """What a store holds of identities: their devices, the device-signed messages' standing, every message held,
    and what the logs set aside; two stores that agree on these agree on the identities."""
    out = []
    for sql in HOLDINGS:
        async with store.conn.execute(sql) as cursor:
            out.append([tuple(r) for r in await cursor.fetchall()])
    return tuple(out)
