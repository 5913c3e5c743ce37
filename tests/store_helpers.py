"""What only tests ask of the store and the kinds, kept out of product code (tests/core/test_no_test_only_helpers.py):
every invite listed, a read marker, a meetup's cancelling draft from its first version, the manifest signed as the
tables stand."""

from __future__ import annotations

from murmur.keys import Identity
from murmur.kinds.meetup import Draft, meetup_body, update_draft
from murmur.kinds.meetup_tally import CANCELLED, MeetupSpec
from murmur.manifest import Manifest
from murmur.store import Store
from murmur.store.items import key_bytes, select
from murmur.store.members import Invite
from murmur.store.notifications import MARKER
from murmur.store.trust import refuse_drift, sign_changes


async def list_invites(store: Store) -> list[Invite]:
    """Every invite, newest first."""
    rows = await select(
        store.conn,
        "SELECT code, created_at, expires_at, used_by, used_at, note FROM invites ORDER BY created_at DESC, code",
        (),
    )
    return [Invite(r[0], r[1], r[2], bytes(r[3]).hex() if r[3] is not None else None, r[4], r[5]) for r in rows]


async def read_marker(store: Store, key_hex: str, name: str = MARKER) -> int:
    rows = await select(store.conn, "SELECT seq FROM markers WHERE key = ? AND name = ?", (key_bytes(key_hex), name))
    return int(rows[0][0]) if rows else 0


def cancel_draft(spec: MeetupSpec) -> Draft:
    """The meetup ``spec`` as it is, cancelled."""
    body = meetup_body(
        spec.title, start=spec.start, end=spec.end, tz=spec.tz, place=spec.place, capacity=spec.capacity,
        description=spec.description,
    )  # fmt: skip
    return update_draft(spec, {**body, "status": CANCELLED})


async def sign_now(store: Store, identity: Identity) -> Manifest:
    """Sign the tables as they are as the first version (the newest when they match it)."""
    async with store.writer.transaction() as conn:
        await refuse_drift(store, identity.public_key, conn)
        return await sign_changes(store, identity, conn)
