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
from murmur.client.lookups import Lookups
from murmur.errors import Refused
from murmur.jcs import canonicalize
from murmur.keys import KEY_HEX, fingerprint
from murmur.kinds.key_log import EVENT_KINDS, Event, device_verdict, resolve
from murmur.kinds.key_store import log_view
from murmur.message import now_ms
from murmur.store.inbox import DeviceChange, Judged
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


def rejudged(held: Iterable[Judged], views: Mapping[str, Mapping[str, Any] | None]) -> list[tuple[str, str | None]]:
    """``(id, code)`` for each message read here (``held``) whose standing its sender's log, as resolved here now
    (``views``, by sender), changes: judged as the shown rule judges a public message (``device_verdict``), a code
    (``device_disputed``: a fork disputes its device from before its time) holds it back, None shows it again. A
    sender missing from ``views``, bare, or whose log does not list the device leaves its messages as they were:
    only signed key events move them, never a look-up that failed."""
    changed: list[tuple[str, str | None]] = []
    for h in held:
        view = views.get(h.sender)
        if view is None or view.get("bare") or view.get("identity") != h.sender:
            continue
        devices = view.get("devices")
        found = next((d for d in devices if isinstance(d, dict) and d.get("key") == h.device), None) if isinstance(
            devices, list) else None  # fmt: skip
        if found is None or type(found.get("added_at")) is not int:
            continue
        span = (int(found["added_at"]), found.get("removed_at"), found.get("disputed_at"))
        verdict = device_verdict(span, h.device, h.created_at)
        code = None if verdict.status == "valid" else verdict.code
        if code != h.held:
            changed.append((h.id, code))
    return changed


def held_back_note(code: str, count: int) -> str:
    """How messages read here and held back since (``rejudged``) are told, CLI and TUI, groups and DMs alike."""
    return (f"held back: {count} message{'' if count == 1 else 's'} read here ({code}): their sender's key-event log"
            " no longer lets the device that wrote them speak for them; shown again if the log settles.")  # fmt: skip


UNCHECKED: dict[str, None] = {"checked_identity": None, "checked_fingerprint": None}


async def with_checked_identity(api: MurmurClient, person: Mapping[str, Any], lookups: Lookups) -> dict[str, Any]:
    """``person`` (a people search's hit: its ``key``) with the identity that key speaks for as this device checks
    it against the identity's signed key events (``checked_identity``, ``checked_fingerprint``), never the server's
    ``identity`` claim; both None when the log cannot be checked here (no signed inception, a device no event
    adds, the server failing or the look-up budget spent). A bare key is its own identity."""
    key = person.get("key")
    if not isinstance(key, str) or not KEY_HEX.fullmatch(key):
        return {**person, **UNCHECKED}
    try:
        view = await lookups.budgeted(("identity", key), lambda: checked_identity(api, key, at=now_ms()))
    except (Refused, ApiError):
        return {**person, **UNCHECKED}
    if view is None:
        return {**person, **UNCHECKED}
    identity = str(view["identity"])
    return {**person, "checked_identity": identity, "checked_fingerprint": fingerprint(identity)}


async def checked_people(api: MurmurClient, people: object) -> list[dict[str, Any]]:
    """A people search's hits (``people``, as the server answered: anything not a list of objects is no one), each
    ``with_checked_identity``, the look-ups of one search counted together (``Lookups``): what the CLI and the TUI
    show a person found with."""
    lookups = Lookups()
    listed = people if isinstance(people, list) else []
    return [await with_checked_identity(api, p, lookups) for p in listed if isinstance(p, dict)]
