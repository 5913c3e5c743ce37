"""People with identities and devices for the direct-message tests: real keys, real key events, each device with
its X25519 key (its signing key's X25519 form, the only one its log may list) and, given a client, its own
conversations store."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from murmur import key_events as ke
from murmur.client.api import MurmurClient
from murmur.client.conversations import Conversations
from murmur.keys import Identity
from murmur.sealing import public_hex
from murmur.store.inbox import Inbox


@dataclass(frozen=True)
class Device:
    key: Identity
    x25519: X25519PrivateKey

    @classmethod
    def new(cls) -> Device:
        return cls.of(Identity.generate())

    @classmethod
    def of(cls, key: Identity) -> Device:
        return cls(key, key.sealing_key())

    @property
    def public(self) -> str:
        return public_hex(self.x25519)

    def conversations(self, api: MurmurClient | None, identity: str | None, folder: Path) -> Conversations:
        folder.mkdir(parents=True, exist_ok=True)
        return Conversations(api, self.x25519, identity, Inbox.open(folder / f"{self.key.public_key[:12]}.db"))


@dataclass
class Speaker:
    """An identity: its devices (the first made it) and its key events, newest last."""

    devices: list[Device]
    events: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def new(cls, *, first: Device | None = None, at: int | None = None) -> Speaker:
        first = first or Device.new()
        speaker = cls([first])
        speaker.events.append(ke.inception(first.key, "first", first.public, Identity.generate().public_key, at=at))
        return speaker

    @property
    def identity(self) -> str:
        return str(self.events[0]["id"])

    def add(self, device: Device | None = None, *, at: int | None = None) -> Device:
        device = device or Device.new()
        body = ke.device_body(device.key.public_key, f"d{len(self.devices)}", device.public,
                              ke.device_proof(device.key, self.identity))  # fmt: skip
        self.events.append(ke.add_device(self.devices[0].key, self.identity, self.events[-1]["id"], body, at=at))
        self.devices.append(device)
        return device

    def remove(self, device: Device, *, at: int | None = None) -> dict[str, Any]:
        event = ke.remove_device(self.devices[0].key, self.identity, self.events[-1]["id"], device.key.public_key,
                                 at=at)  # fmt: skip
        self.events.append(event)
        return event
