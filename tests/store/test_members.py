"""Members and invites: single-use codes, expiry, races, and clear refusals."""

from __future__ import annotations

import asyncio
import base64

import pytest
from store_people import Person

from murmur.errors import Refused
from murmur.keys import Identity
from murmur.store import Store
from murmur.store import members as m
from tests.store_helpers import list_invites


async def test_add_list_role_remove(store: Store, ann: Person, ben: Person) -> None:
    assert await m.count_members(store) == 0
    assert await m.add_member(store, ann.key, role="admin", now=1) is True
    assert await m.add_member(store, ann.key) is False  # already there: role untouched
    await store.ingest([ben.profile("Ben")])
    assert await m.add_member(store, ben.key, invited_by=ann.key, now=2)
    assert await m.list_members(store) == [
        m.Member(ann.key, "admin", 1, "", None),
        m.Member(ben.key, "member", 2, "Ben", ann.key),
    ]
    assert await m.member_role(store, ann.key) == "admin"
    assert await m.member_role(store, ben.key) is not None and await m.member_role(store, "zz") is None
    assert await m.set_role(store, ben.key, "admin")
    assert await m.member_role(store, ben.key) == "admin"
    assert await m.remove_member(store, ben.key) is True
    assert await m.remove_member(store, ben.key) is False
    assert await m.count_members(store) == 1


async def test_bad_key_and_role_are_refused(store: Store, ann: Person) -> None:
    with pytest.raises(Refused) as info:
        await m.add_member(store, "ab" * 31)
    assert info.value.code == "bad_key"
    with pytest.raises(Refused) as info:
        await m.add_member(store, ann.key, role="owner")
    assert info.value.code == "bad_value"


async def test_invite_code_is_random_and_urlsafe(store: Store) -> None:
    invite = await m.create_invite(store, note="for the team", now=1000)
    assert (invite.created_at, invite.expires_at, invite.note) == (1000, 1000 + 7 * 86400 * 1000, "for the team")
    assert len(base64.urlsafe_b64decode(invite.code + "==")) * 8 >= 128
    assert invite.code != (await m.create_invite(store)).code
    listed = await list_invites(store)
    assert invite in listed and len(listed) == 2


async def test_redeem_once(store: Store, ann: Person, ben: Person) -> None:
    invite = await m.create_invite(store, now=1000)
    await m.redeem_invite(store, invite.code, ann.key, now=2000)
    assert await m.member_role(store, ann.key) == "member"
    used = next(i for i in await list_invites(store) if i.code == invite.code)
    assert (used.used_by, used.used_at) == (ann.key, 2000)
    with pytest.raises(Refused) as info:
        await m.redeem_invite(store, invite.code, ben.key, now=3000)
    assert info.value.code == "invite_used"
    assert await m.member_role(store, ben.key) is None


async def test_redeem_refusals(store: Store, ann: Person, ben: Person) -> None:
    with pytest.raises(Refused) as info:
        await m.redeem_invite(store, "no-such-code", ann.key)
    assert info.value.code == "invite_unknown"
    old = await m.create_invite(store, ttl_s=60, now=0)
    with pytest.raises(Refused) as info:
        await m.redeem_invite(store, old.code, ann.key, now=60_000)
    assert info.value.code == "invite_expired"
    await m.add_member(store, ben.key)
    fresh = await m.create_invite(store)
    with pytest.raises(Refused) as info:
        await m.redeem_invite(store, fresh.code, ben.key)
    assert info.value.code == "already_member"
    await m.redeem_invite(store, fresh.code, ann.key)  # not consumed by the refusal
    assert await m.member_role(store, ann.key) is not None
    with pytest.raises(Refused):
        await m.create_invite(store, ttl_s=0)


async def test_concurrent_redeem_admits_exactly_one(store: Store) -> None:
    invite = await m.create_invite(store)
    keys = [Identity.generate().public_key for _ in range(8)]
    outcomes = await asyncio.gather(*(m.redeem_invite(store, invite.code, k) for k in keys), return_exceptions=True)
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, Refused) and o.code == "invite_used" for o in outcomes if o is not None)
    assert await m.count_members(store) == 1


async def test_concurrent_redeem_across_two_connections(tmp_path) -> None:
    path = tmp_path / "m.db"
    first, second = await Store.open(path), await Store.open(path)
    try:
        invite = await m.create_invite(first)
        keys = [Identity.generate().public_key for _ in range(6)]
        outcomes = await asyncio.gather(
            *(m.redeem_invite(first if i % 2 else second, invite.code, k) for i, k in enumerate(keys)),
            return_exceptions=True,
        )
        assert sum(o is None for o in outcomes) == 1, outcomes
        assert await m.count_members(first) == 1
    finally:
        await first.close()
        await second.close()


async def test_a_members_role_is_one_statement(store: Store, ann: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every signed request asks it first: one round trip to the database, whatever identity logs say."""
    await m.add_member(store, ann.key)
    statements: list[str] = []
    execute_fetchall = store.conn.execute_fetchall

    async def counted(sql: str, params: object = None) -> object:
        statements.append(sql)
        return await execute_fetchall(sql, params)

    monkeypatch.setattr(store.conn, "execute_fetchall", counted)
    monkeypatch.setattr(store.conn, "execute", lambda *a: pytest.fail("a look-up in several steps"))
    assert await m.member_role(store, ann.key) == "member"
    assert await m.member_role(store, Identity.generate().public_key) is None
    assert len(statements) == 2
