"""Every read the server makes is index-driven and LIMIT-bounded, so it stays fast at millions of messages.

The statements are captured as SQLite runs them (trace callback, parameters expanded), then explained. A
plan that SCANs a big table, or sorts outside the bounded author-set queries, fails the test. The plan
does not depend on how many rows there are, so a small database shows what a large one would do.
"""

from __future__ import annotations

import re

import pytest
from store_people import Person

from murmur.kinds import derive_rules, edit, meetup, notice_rules
from murmur.kinds.meetup import meetup_body
from murmur.store import Store, lookup, public, search, timelines
from murmur.store import members as members_mod
from murmur.store.audience.narrowing import BATCH_RULES
from murmur.store.ingest import PLACE_NOTICES
from murmur.store.items import shown_version

BIG_TABLES = ("messages", "mentions", "hashtags", "notices", "follows", "tombstones", "profiles", "tallies")
# Aliases the store's queries give those tables. (members and invites are small and listed whole.)
ALIASES = ("m", "s", "p", "q", "r", "t", "n", "x", "f", "d", "a", "u", "e", "v", "vn", "w")
# Statements that write what is derived from a batch, with a SELECT inside (notices, search text, tag indexes).
DERIVED = tuple(
    f"INSERT {how}INTO {table}"
    for how in ("", "OR IGNORE ")
    for table in ("NOTICES", "POSTS_FTS", "HASHTAGS", "MENTIONS")
)
FULL_SCAN = re.compile(rf"^SCAN ({'|'.join(BIG_TABLES + ALIASES)})\b(?! VIRTUAL TABLE)")
# Every message of a kind, wherever in the log: a batch's rule must bound it by the batch's seq range.
WHOLE_KIND = re.compile(r"^SEARCH \w+ USING (COVERING )?INDEX messages_by_kind \(kind=\?\)$")


def _coroutines(sql: str, plan: list[str]) -> set[str]:
    """The names under which a plan reads a co-routine (a CTE, or a subquery such as a batch's messages, made
    row by row) or a CTE it materialized: a SCAN of one reads what it made, not a table."""
    made = {line.split()[1] for line in plan if line.startswith(("CO-ROUTINE ", "MATERIALIZE "))}
    aliases = {m[1] for n in made for m in re.finditer(rf"\b{re.escape(n)}\s+(?:AS\s+)?(\w+)", sql)}
    return made | aliases


async def _plans(store: Store, statements: list[str]) -> dict[str, list[str]]:
    plans: dict[str, list[str]] = {}
    for sql in statements:
        head = sql.lstrip().upper()
        if not head.startswith(("SELECT", "WITH", "DELETE FROM", *DERIVED)):
            continue
        async with store.conn.execute("EXPLAIN QUERY PLAN " + sql) as cursor:
            plans[sql] = [str(row[3]) for row in await cursor.fetchall()]
    return plans


@pytest.mark.sqlite_only("reads SQLite's query plans")
async def test_reads_are_index_driven(store: Store, ann: Person, ben: Person) -> None:
    await members_mod.add_member(store, ann.key)
    post = ann.post("hello #tag", mentions=(ben.key,), hashtags=("tag",))
    statements: list[str] = []
    # Both connections: ingest's rules (DERIVED) run on the writer's.
    await store.conn.set_trace_callback(statements.append)
    await store.writer.conn.set_trace_callback(statements.append)
    await store.ingest([ann.follow(ben), post, ben.post("re", reply=post), ben.react(post), ben.boost(post)])
    await store.ingest([ben.follow(ann), ann.delete(ann.post("x"))])
    waiting = ann.post("edited later")
    await store.ingest([ann.edit(post, "hello again #tag"), ann.edit(waiting, "it came first")])
    await store.ingest([waiting, ann.delete(waiting)])
    # Organising: a letter signed (its author is told), a meetup answered (its reminders are read).
    letter = ann.sign("letter", {"title": "Rooms", "to": "the board", "text": "Rooms."}, [], None)
    picnic = ann.sign("meetup", meetup_body("Picnic", start=10**13, end=10**13 + 1, tz="UTC"), [], None)
    answers = [["target", picnic["id"]], ["subject", ann.key]]
    await store.ingest([
        ben.sign("signature", {}, [["target", letter["id"]], ["subject", ann.key]], None), letter, picnic,
        ben.sign("rsvp", {"answer": "going"}, answers, None),
    ])  # fmt: skip
    for view in (
        timelines.home(store, ann.key),
        timelines.local(store),
        timelines.federated(store),
        timelines.mentions(store, ben.key),
        timelines.hashtag(store, "tag"),
        timelines.author(store, ann.key),
        timelines.thread(store, post["id"]),
        timelines.notifications(store, ann.key),
        timelines.unread_count(store, ann.key),
        search.search_posts(store, "hello"),
        search.search_profiles(store, ann.key[:8]),
        lookup.message_ids(store, post["id"][:8]),
        lookup.known_keys(store, ann.key[:8]),
        lookup.people_named(store, "ann"),
        lookup.people_starting(store, "an"),
        members_mod.list_members(store),
        store.display_names([ann.key, ben.key]),
        store.shared_names([ann.key, ben.key]),
        edit.history(store, bytes.fromhex(post["id"])),
        shown_version(store, bytes.fromhex(post["id"])),
        public.posts_by(store, ann.key),
        public.tagged(store, "tag"),
        public.public_thread(store, post["id"]),
        public.profile(store, ann.key),
        public.held(store, post["id"]),
        meetup.reminders(store, ben.key, 10**13),
    ):
        await view
    await store.conn.set_trace_callback(None)
    await store.writer.conn.set_trace_callback(None)

    plans = await _plans(store, statements)
    assert len(plans) >= 15
    for sql, plan in plans.items():
        made = _coroutines(sql, plan)
        for line in plan:
            scan = FULL_SCAN.match(line)
            assert not scan or scan[1] in made, f"full scan in {sql!r}: {plan}"
            if "TEMP B-TREE FOR ORDER BY" in line:
                # A sort must be marked bounded, e.g. the author-set timelines (rows above a per-author floor).
                assert "/* bounded sort" in sql, f"unbounded sort in {sql!r}: {plan}"
        if sql.lstrip().startswith("WITH authors"):
            index = "USING INDEX messages_timeline_by_time (author=? AND sort_at>? AND sort_at<?)"
            assert any(index in ln for ln in plan), plan
            # The per-author floors are read from the index alone.
            assert any("USING COVERING INDEX messages_timeline_by_time (author=? AND sort_at<?)" in ln for ln in plan)
        if "kind = 'rsvp'" in sql and sql.lstrip().startswith("SELECT DISTINCT"):
            assert any("messages_rsvps_by_author (author=?)" in ln for ln in plan), plan
        if "recent window" in sql:
            # The walk and its floor are read from the index alone.
            for line in ("SEARCH w USING COVERING INDEX messages_posts_by_time (sort_at>? AND sort_at<?)",
                         "SEARCH f USING COVERING INDEX messages_posts_by_time (sort_at<?)"):  # fmt: skip
                assert line in plan, plan


@pytest.mark.sqlite_only("reads SQLite's query plans")
async def test_batch_rules_read_the_batch_not_the_log(store: Store) -> None:
    """What ingest runs over each batch reads the batch's messages and what they lead to by index, never every
    message of a kind: a rule's CROSS JOIN order starting from a side the range does not bound (a meetup
    update for an RSVP's batch), or an OR of kinds beside the range (approvals, removals, appointments), read
    that kind's whole log at every batch."""
    rules = (*derive_rules(), *notice_rules(), PLACE_NOTICES, *BATCH_RULES)
    for sql in rules:
        async with store.writer.conn.execute("EXPLAIN QUERY PLAN " + sql, {"lo": 1, "hi": 500}) as cursor:
            plan = [str(row[3]) for row in await cursor.fetchall()]
        assert not [line for line in plan if WHOLE_KIND.match(line)], f"reads a kind's whole log: {sql!r}: {plan}"
        assert not [line for line in plan if FULL_SCAN.match(line) and line.split()[1] not in _coroutines(sql, plan)]
