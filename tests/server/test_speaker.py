"""What the API says a message speaks for: the identity a device named, or a bare key's own key, with the
fingerprint readers label it by, on timeline items and notifications alike (docs/api.md)."""

from __future__ import annotations

import orjson

from murmur.jcs import canonicalize
from murmur.keys import fingerprint
from murmur.server.routes.render import notification_json
from murmur.store.notifications import NotificationItem
from tests.identity_logs import LAPTOP, PHONE, Log


def test_a_notification_names_the_identity_its_actors_device_spoke_for() -> None:
    made = Log()
    made.add(LAPTOP, PHONE, "phone")
    device = made.post(PHONE, "hello @you")
    bare = made.post(PHONE, "as itself")
    bare = {**bare, "tags": []}  # the same key, speaking for itself (the signature is not looked at here)
    for message, speaks_for in ((device, made.identity), (bare, PHONE.public_key)):
        item = NotificationItem(1, "mention", PHONE.public_key, canonicalize(message), None)
        body = orjson.loads(orjson.dumps(notification_json(item)))
        assert body["actor"] == PHONE.public_key
        assert (body["identity"], body["identity_fingerprint"]) == (speaks_for, fingerprint(speaks_for))
