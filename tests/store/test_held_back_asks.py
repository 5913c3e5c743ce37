"""``held_back`` asks the database only about a message that names another: every post published is judged by it,
and a message naming nothing leans on nothing, so it is never held back (murmur.store.audience.delivery)."""

from __future__ import annotations

from typing import Any

import pytest

from murmur.keys import Identity
from murmur.store import Store
from murmur.store.audience import held_back
from murmur.validate import check
from tests.store.test_narrowing_travels import delete
from tests.sync.test_scopes import post


class _Counting:
    """The store's read connection, counting the queries asked of it."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.asked = 0

    async def execute_fetchall(self, *args: Any, **kwargs: Any) -> Any:
        self.asked += 1
        return await self.conn.execute_fetchall(*args, **kwargs)


@pytest.fixture
def counting(store: Store, monkeypatch: pytest.MonkeyPatch) -> _Counting:
    counter = _Counting(store.conn)
    monkeypatch.setattr(store, "conn", counter)
    return counter


@pytest.mark.parametrize("visibility", ["public", "scope:team"])
async def test_a_message_naming_nothing_is_never_held_back_and_costs_no_query(
    store: Store, counting: _Counting, visibility: str
) -> None:
    message = check(post(Identity.generate(), "top-level", visibility))
    assert await held_back(store, message) is None
    assert counting.asked == 0


async def test_a_reply_is_still_judged_by_the_database(store: Store, counting: _Counting) -> None:
    author = Identity.generate()
    parent = post(author, "the post", "scope:team")
    await store.ingest([parent, delete(author, parent)])
    reply = check(post(author, "a reply", "public", parent=parent))
    assert await held_back(store, reply) is not None  # signed wider than a scoped post no longer held here
    assert counting.asked == 1
