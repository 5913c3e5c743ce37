"""An identity as this device reads it from its signed key events, not as the home server says it is
(docs/encryption.md §9.3). The home server could add a device of its own to anyone's identity view and so read
what is sealed to them, or speak as them; what it cannot do is sign a key event. So the device fetches the signed
events (``GET /api/v1/identities/{id}/events``), checks each, and resolves them with the log rules every server
uses (``murmur.kinds.key_log.resolve``): the identity is the digest of its inception, and a device is one only if
a signed event adds it.

Each contact's devices are pinned on first sight (``DevicePins``, the device's own store) and every change after
is recorded, to be shown (``murmur dm show``); ``safety_number`` gives the number two people compare to know
they each hold the same devices. Direct messages and private groups both ask here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from murmur.client.api import ApiError, MurmurClient
from murmur.errors import Refused
from murmur.jcs import canonicalize
from murmur.keys import fingerprint
from murmur.kinds.key_log import EVENT_KINDS, Event, resolve
from murmur.kinds.key_store import log_view
from murmur.store.inbox import DeviceChange
from murmur.validate import check

BARE = {"bare": True, "devices": []}


class DevicePins(Protocol):
    def pin(self, identity: str, devices: Mapping[str, str], at: int) -> list[DeviceChange]: ...

    def pinned_name(self, name: str) -> bool: ...


def _events_of(identity: str, raws: Iterable[object]) -> list[Event]:
    """The key events among ``raws`` whose signatures and form hold; the rest count for nothing."""
    events = []
    for raw in raws:
        try:
            message = check(canonicalize(raw))
        except Refused:
            continue
        if message.kind in EVENT_KINDS:
            events.append(Event.of(message))
    return [e for e in events if e.identity == identity]


def resolved_view(name: str, answer: Mapping[str, Any]) -> dict[str, Any]:
    """The identity view (the shape of ``GET /api/v1/identities/{id}``) that the signed events in ``answer``
    resolve to here; ``identity_unverified`` when they do not make the identity, or not with ``name`` in it."""
    identity = str(answer.get("identity"))
    if answer.get("bare"):
        if identity != name:
            raise Refused("identity_unverified", f"Your server calls {name[:16]} a bare key of another name.")
        return {"identity": identity, **BARE}
    # The removals the server found backdated (protocol §13.4) are its word, not signed: taken, since they can only
    # dispute devices (freeze the identity until the rotation key settles it), never give a key authority.
    backdated = [b for b in answer.get("backdated") or [] if isinstance(b, str)]
    log = resolve(identity, _events_of(identity, answer.get("events") or []), backdated)
    if log is None:
        raise Refused(
            "identity_unverified",
            f"Your server gave no signed inception for the identity {fingerprint(identity)}: its devices cannot be"
            " checked here, so nothing is sealed to them or taken from them. Try again later.",
        )
    if identity in log.refused:
        raise Refused(
            "identity_unverified",
            f"The identity {fingerprint(identity)}'s inception is refused here: {log.refused[identity].reason}",
        )
    if name != identity and log.state.device(name) is None:
        raise Refused(
            "identity_unverified",
            f"Your server says {name[:16]} is a device of {fingerprint(identity)}, but no signed event of that"
            " identity adds it.",
        )
    return log_view(identity, log)


async def checked_identity(
    api: MurmurClient, name: str, pins: DevicePins | None = None, *, at: int
) -> dict[str, Any] | None:
    """The identity ``name`` names (an identity, a device's key, a bare key) as its signed key events resolve on
    this device; None when the home server holds nothing by that name. With ``pins``, its current devices are
    pinned (first sight) or compared with the pinned ones, a change recorded there at ``at``."""
    try:
        answer = await api.identity_events(name)
    except ApiError as exc:
        if exc.code != "not_found":
            raise
        answer = None
    if (answer is None or answer.get("bare")) and pins is not None and pins.pinned_name(name):
        # Pinned from signed key events: only its server's word says it is gone, which drops no device of it.
        said = "a bare key" if answer else "not known"
        raise Refused("identity_unverified", f"Your server says {fingerprint(name)} is {said}, but this device"
                      " pinned the devices of that identity from its signed key events: nothing is sealed to it or"
                      " taken from it on the server's word. Try again later.")  # fmt: skip
    if answer is None:
        return None
    view = resolved_view(name, answer)
    if pins is not None and not view["bare"] and view["fork"] is None:
        pins.pin(view["identity"], current_devices(view), at)
    return view


def current_devices(view: Mapping[str, Any]) -> dict[str, str]:
    """The devices of an identity view that are current (neither removed nor disputed): key -> name."""
    return {
        d["key"]: str(d.get("name") or "")
        for d in view.get("devices") or []
        if d.get("removed_at") is None and d.get("disputed_at") is None
    }


def safety_number(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> str:
    """A number two people compare (read aloud, side by side): the same on both sides exactly when each holds the
    same identities with the same current devices and encryption keys. 60 digits in groups of five."""
    def side(view: Mapping[str, Any]) -> list[Any]:
        devices = sorted((d["key"], d.get("x25519")) for d in view.get("devices") or []
                         if d.get("removed_at") is None and d.get("disputed_at") is None)  # fmt: skip
        return [view["identity"], devices]

    digest = hashlib.sha256(b"murmur safety number v1\n" + canonicalize(sorted([side(mine), side(theirs)])))
    digits = str(int.from_bytes(digest.digest(), "big")).zfill(78)[-60:]
    return " ".join(digits[i : i + 5] for i in range(0, 60, 5))
