"""Group commit: concurrent batches stored in one transaction give exactly what storing them one by one gives."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite

from murmur.keys import Identity
from murmur.message import sign_draft
from murmur.store import Store
from murmur.store.group import group_of, ingest_grouped
from murmur.store.ingest import validate_all


def batches() -> list[list[dict]]:  # type: ignore[type-arg]
    a, b = Identity.from_seed(bytes(32)), Identity.from_seed(bytes([1]) * 32)
    p1 = sign_draft(a, {"body": {"text": "one #x"}}, created_at=1_000)
    p2 = sign_draft(b, {"body": {"text": "two"}}, created_at=1_001)
    reply = sign_draft(b, {"body": {"text": "re"}, "tags": [["reply", p1["id"]], ["root", p1["id"]]]}, created_at=1_002)
    follow = sign_draft(a, {"kind": "follow", "tags": [["subject", b.public_key]]}, created_at=1_003)
    unfollow = sign_draft(a, {"kind": "unfollow", "tags": [["subject", b.public_key]]}, created_at=1_004)
    delete_p2 = sign_draft(b, {"kind": "delete", "tags": [["target", p2["id"]]]}, created_at=1_005)
    bogus = sign_draft(a, {"kind": "delete", "tags": [["target", p2["id"]]]}, created_at=1_006)
    p3 = sign_draft(b, {"body": {"text": "three"}}, created_at=1_008)
    delete_p3 = sign_draft(b, {"kind": "delete", "tags": [["target", p3["id"]]]}, created_at=1_009)
    forged = {**sign_draft(a, {"body": {"text": "forged"}}, created_at=1_007), "sig": "00" * 64}
    return [
        [p1, p2, follow],
        [p1, reply, forged],  # a duplicate of an earlier batch's message, and a refusal
        [unfollow, bogus],  # a delete of someone else's message: refused
        [delete_p2, p2],  # a delete, then its (held) target again: duplicate, and gone
        [delete_p3],
        [p3],  # a target arriving after its tombstone: deleted
        [follow, reply],
    ]


async def dump(store: Store) -> dict[str, list[tuple[object, ...]]]:
    tables = {}
    for table, order in (("messages", "seq"), ("follows", "follower"), ("tombstones", "target"), ("notices", "seq")):
        async with store.conn.execute(f"SELECT * FROM {table} ORDER BY {order}") as cursor:
            rows = await cursor.fetchall()
        # received_at is a clock reading; everything else must match
        tables[table] = [tuple(r[:11]) + tuple(r[12:]) if table == "messages" else tuple(r) for r in rows]
    return tables


async def test_grouped_equals_one_by_one(tmp_path: Path) -> None:
    alone = await Store.open(tmp_path / "alone.db")
    grouped = await Store.open(tmp_path / "grouped.db")
    try:
        expected = [[r.as_dict() for r in await alone.ingest(batch, origin="local")] for batch in batches()]
        # All at once: they queue behind each other and are stored in as few transactions as the writer allows.
        opened = 0
        real_transaction = grouped.writer.transaction

        def counting_transaction():  # type: ignore[no-untyped-def]
            nonlocal opened
            opened += 1
            return real_transaction()

        grouped.writer.transaction = counting_transaction  # type: ignore[method-assign]
        answers = await asyncio.gather(*(ingest_grouped(grouped.writer, batch, origin="local") for batch in batches()))
        assert opened < len(batches())  # batches did share transactions
        assert [[r.as_dict() for r in answer] for answer in answers] == expected
        assert await dump(grouped) == await dump(alone)
        statuses = [r["status"] for answer in expected for r in answer]
        assert {"stored", "duplicate", "refused", "deleted"} <= set(statuses)
    finally:
        await alone.close()
        await grouped.close()


async def test_each_answer_comes_after_its_commit(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "m.db")
    reader = await Store.open(tmp_path / "m.db")  # another connection sees only what is committed
    try:
        ada = Identity.generate()

        async def publish(i: int) -> None:
            [result] = await ingest_grouped(
                store.writer, [sign_draft(ada, {"body": {"text": f"p{i}"}})], origin="local"
            )
            assert result.status == "stored"
            assert await reader.get_raw(result.id or "") is not None

        await asyncio.gather(*(publish(i) for i in range(40)))
        assert await reader.count() == 40
    finally:
        await reader.close()
        await store.close()


async def test_a_stream_of_batches_equals_one_ingest_per_batch(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "alone.db") as alone, await Store.open(tmp_path / "stream.db") as stream:
        expected = [[r.as_dict() for r in await alone.ingest(batch, origin="local")] for batch in batches()]
        got = [[r.as_dict() for r in answer] async for answer in stream.ingest_stream(batches(), origin="local")]
        assert got == expected
        assert await dump(stream) == await dump(alone)


async def test_a_stream_yields_each_batch_only_once_committed_and_stopping_early_keeps_what_was_yielded(
    tmp_path: Path,
) -> None:
    ada = Identity.generate()
    posts = [[sign_draft(ada, {"body": {"text": f"b{b} p{p}"}}) for p in range(50)] for b in range(6)]
    async with await Store.open(tmp_path / "m.db") as store, await Store.open(tmp_path / "m.db") as reader:
        seen = 0
        stream = store.ingest_stream(posts, origin="local")
        async for answer in stream:
            seen += len(answer)
            assert all(r.status == "stored" for r in answer)
            assert await reader.count() >= seen  # everything yielded is committed, as another connection sees
            if seen == 100:
                break
        await stream.aclose()
        # Batches validated ahead may have been written too, but only whole ones.
        count = await reader.count()
        assert 100 <= count <= 300 and count % 50 == 0
        assert [r.status for r in await store.ingest(posts[0] + posts[1], origin="local")] == ["duplicate"] * 100


async def test_a_write_queued_with_then_rides_the_next_transaction_after_the_batches_queued_before_it(
    tmp_path: Path,
) -> None:
    async with await Store.open(tmp_path / "then.db") as store:
        group = group_of(store.writer)
        results, valid = await validate_all(batches()[0], now=None, policy=None)
        seen: list[int] = []

        async def write(conn: aiosqlite.Connection) -> None:
            async with conn.execute("SELECT count(*) FROM messages") as cursor:
                row = await cursor.fetchone()
            seen.append(int(row[0]) if row else -1)

        stored = group.submit(valid, results, "local")
        written = group.then(write)
        await asyncio.gather(stored, written)
        # The write ran after the batch queued before it was written, and both committed.
        assert seen == [3]
        assert await store.count() == 3
