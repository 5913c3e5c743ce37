"""Key events: the signed messages that make an identity outlive one key (docs/protocol.md §13).

An identity is named by the id of its ``key_inception``, signed by its first device. Every later event names
the identity (``identity`` tag) and the event it follows (``prior`` tag): ``key_device_add`` and
``key_device_remove`` (signed by a current device), ``key_move`` (a new home server, signed by a current
device), and ``key_rotation`` and ``key_recovery``, signed by the rotation key the log committed to beforehand
(each event that can carry ``next`` names the SHA-256 of the next rotation key, which nobody has seen yet).
A recovery revokes every device and adds the one recovering, in one event.

Validation here is of each event alone (the forms of its members); what the log makes of the events
(who may sign which, forks, the state) is ``murmur.kinds.key_log``; the tables and the store's checks are
``murmur.kinds.key_store``. All key events are public: a log that did not travel could not be checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from murmur.errors import Refused
from murmur.keys import KEY_HEX, SIG_HEX, SMALL_ORDER_KEYS
from murmur.kinds.base import Field, Kind, Tags
from murmur.kinds.key_log import DEVICE_ADD, DEVICE_REMOVE, INCEPTION, MOVE, RECOVERY, ROTATION
from murmur.kinds.key_store import MIGRATIONS, PLACE_SHOWN, SHOWN_LATE, admit, record, shown_from, upgrade, waiting

HOME = re.compile(r"https?://[^\s/?#]+[^\s]*")
_KEY = Field(True, 64)
_NAME = Field(True, 64)
_PROOF = Field(True, 128)
_DEVICE = {"key": _KEY, "name": _NAME, "x25519": _KEY, "proof": _PROOF}
_IN_LOG = {"identity": (1, 1), "prior": (1, 1)}


def _hex_members(**forms: re.Pattern[str]) -> Any:
    def rule(body: Mapping[str, Any], tags: Tags) -> None:
        for name, form in forms.items():
            value = body.get(name)
            if value is not None and not form.fullmatch(value):
                digits = 128 if form is SIG_HEX else 64
                raise Refused("bad_value", f"{name} must be {digits} lowercase hex digits.")
        key = body.get("key")
        if key is not None and key in SMALL_ORDER_KEYS:
            raise Refused("bad_value", "key is a small-order point, which can never be a device's key.")

    return rule


def _home_is_a_url(body: Mapping[str, Any], tags: Tags) -> None:
    if not HOME.fullmatch(body["home"]):
        raise Refused("bad_value", "home must be an http:// or https:// URL naming a host.")


_SHAPES = _hex_members(key=KEY_HEX, x25519=KEY_HEX, next=KEY_HEX, proof=SIG_HEX)

KINDS = (
    Kind(
        name=INCEPTION,
        body={"name": _NAME, "x25519": _KEY, "next": _KEY},
        tags={"identity": (0, 0)},  # it names the identity: its own id
        rules=(_SHAPES,),
        apply=record,
        watches=("identity",),
        admit=admit,
        withheld=waiting,
        shown_late=SHOWN_LATE,
        shown_from=shown_from,
        derive=(PLACE_SHOWN,),
        migrations=MIGRATIONS,
        indexed=False,
        upgrade=upgrade,
    ),
    Kind(name=DEVICE_ADD, body=_DEVICE, tags=_IN_LOG, rules=(_SHAPES,), indexed=False),
    Kind(name=DEVICE_REMOVE, body={"key": _KEY}, tags=_IN_LOG, rules=(_SHAPES,), indexed=False),
    Kind(name=ROTATION, body={"next": _KEY}, tags=_IN_LOG, rules=(_SHAPES,), indexed=False),
    Kind(name=RECOVERY, body={"next": _KEY, **_DEVICE}, tags=_IN_LOG, rules=(_SHAPES,), indexed=False),
    Kind(name=MOVE, body={"home": Field(True, 2000)}, tags=_IN_LOG, rules=(_home_is_a_url,), indexed=False),
)
