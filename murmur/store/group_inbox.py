"""A device's own store of its private groups: each group's keys (``GroupKeys`` JSON, docs/encryption.md §11),
the messages it read (with an FTS5 index of their texts), the ones it could not read yet or refused (kept with
their reasons, shown inert), and how far into its home server's feeds it has read. Never a server's: it sits
beside the profile's key, file mode 0600, as the direct messages' store does (``murmur.store.inbox``).

A message and the keys that read it are kept in one transaction: a chain never moves without its message kept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from murmur.store.inbox import LocalStore, fts_words

SCHEMA = (
    """
    CREATE TABLE private_groups (grp TEXT PRIMARY KEY, name TEXT NOT NULL, keys TEXT NOT NULL);
    CREATE TABLE read (
        id TEXT PRIMARY KEY, outer_id TEXT NOT NULL UNIQUE, grp TEXT NOT NULL, kind TEXT NOT NULL,
        sender TEXT NOT NULL, device TEXT NOT NULL, text TEXT NOT NULL, created_at INTEGER NOT NULL,
        reply_to TEXT, target TEXT, epoch INTEGER NOT NULL
    );
    CREATE INDEX read_by_group ON read (grp, created_at);
    CREATE VIRTUAL TABLE read_fts USING fts5(text);
    CREATE TABLE unread (
        outer_id TEXT PRIMARY KEY, grp TEXT NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL, raw BLOB NOT NULL,
        seq INTEGER NOT NULL
    );
    CREATE TABLE cursors (feed TEXT PRIMARY KEY, seq INTEGER NOT NULL);
    """,
    # Epoch chunks made here and not yet accepted by the home server: kept with the epoch they carry, sent again
    # at the next sync or command until the server takes them, so no member is left without the key.
    """
    CREATE TABLE outbox (id TEXT PRIMARY KEY, grp TEXT NOT NULL, raw BLOB NOT NULL, made INTEGER NOT NULL);
    """,
    # Messages waiting for a key are tried again at syncs 1, 2, 4, 8... after they came, and after MAX_TRIES no
    # more (still shown with their reason): made-up epochs cannot make every sync's work grow for good.
    """
    ALTER TABLE unread ADD COLUMN tries INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE unread ADD COLUMN due INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE syncs (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL);
    """,
    # A cursor names the message at its position too (a restored server hands positions out again), as the
    # direct messages' store does; one kept without it cannot be checked, so its feed is read again from the
    # start: what is held already is skipped by its outer id.
    """
    ALTER TABLE cursors ADD COLUMN at TEXT;
    UPDATE cursors SET seq = 0;
    """,
    # When a message reached the home server (its clock, ms), if it said: an epoch chunk is judged by the role
    # its sealer still held then, also when it is tried again later. NULL for one kept before this.
    """
    ALTER TABLE unread ADD COLUMN arrived INTEGER;
    """,
    # Whether the person has yet to see a message someone else wrote (the TUI's unread counts); what was read
    # before this was kept counts as seen.
    """
    ALTER TABLE read ADD COLUMN fresh INTEGER NOT NULL DEFAULT 0;
    """,
    # Each group's signed creation, membership and moderation messages this device has verified: the members
    # and roles are folded here from them (the home server may withhold one later, never take it back), and the
    # members with their roles as last shown, each change seen after recorded to be shown (trust on first use);
    # and below which epoch number the group's keys were deleted here (``forgotten``), to say so of what comes.
    """
    CREATE TABLE signed_log (grp TEXT NOT NULL, id TEXT NOT NULL, raw BLOB NOT NULL, PRIMARY KEY (grp, id));
    CREATE TABLE member_pins (grp TEXT NOT NULL, key TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (grp, key));
    CREATE TABLE member_changes (grp TEXT NOT NULL, key TEXT NOT NULL, change TEXT NOT NULL, role TEXT NOT NULL,
        seen_at INTEGER NOT NULL);
    CREATE INDEX member_changes_by_group ON member_changes (grp, seen_at);
    ALTER TABLE private_groups ADD COLUMN forgotten INTEGER NOT NULL DEFAULT 0;
    """,
    # A post or reaction written here waits in the outbox too, with what it says (``GroupPost`` JSON), saved with
    # the chain that wrote it before it is sent: a lost answer or a crash leaves it there, sent again (the same
    # signed message: a ``duplicate``) and kept as read once the server has it, never read back as a replay.
    """
    ALTER TABLE outbox ADD COLUMN post TEXT;
    """,
    # When this device first held each signed message of a group (ms, its clock; NULL for one kept before this):
    # an act first seen after the device held the end of its author's role counts for nothing, as it came after.
    """
    ALTER TABLE signed_log ADD COLUMN seen INTEGER;
    """,
    # When this device last read each feed to its end (``Cursor.through``, as the direct messages' store keeps it).
    """
    ALTER TABLE cursors ADD COLUMN through INTEGER;
    """,
    # How many messages of each group naming an epoch no key proves were dropped, past ``NO_KEY_KEPT``.
    """
    CREATE TABLE no_key_dropped (grp TEXT PRIMARY KEY, count INTEGER NOT NULL);
    """,
    # What an epoch taken here witnessed of a membership act this device cannot bound (first held with the group's
    # whole log, its author's role ended since): whether the epoch's sealer counted it (``group_witness``), by the
    # newest epoch that witnessed it.
    """
    CREATE TABLE act_witness (grp TEXT NOT NULL, id TEXT NOT NULL, counted INTEGER NOT NULL, epoch INTEGER NOT NULL,
        PRIMARY KEY (grp, id));
    """,
    # A message read here that its sender's log, judged again later, no longer lets speak for them (a fork
    # disputes its device from before its time): kept, shown nowhere, with the verdict's code, until the log
    # settles (NULL: shown).
    """
    ALTER TABLE read ADD COLUMN held TEXT;
    """,
)
MAX_TRIES = 12  # a waiting message is last tried about 2^12 syncs after it came
# Messages naming an epoch this device holds no key for (none came, or it was deleted): no key here proves such an
# epoch, and anyone may send a group message naming any epoch (its author is a one-time key). A group keeps at most
# NO_KEY_KEPT of them whole (those waiting for their key, those refused ``too_old``); past that, each is dropped and
# counted (docs/encryption.md §16.5).
NO_KEY = ("wrong_epoch", "unproven_epoch", "too_old")
NO_KEY_KEPT = 100


@dataclass(frozen=True, slots=True)
class GroupPost:
    """One message of a private group as this device read it (or wrote it)."""

    id: str
    group: str
    kind: str  # "post" | "reaction"
    sender: str  # identity
    device: str
    text: str
    created_at: int
    reply_to: str | None
    target: str | None
    epoch: int
    fresh: bool = False  # read here and not yet seen by the person (never one they wrote)


@dataclass(frozen=True, slots=True)
class Unread:
    """A sealed message of a group (or an epoch chunk) not read: waiting (``wrong_epoch``) or refused."""

    outer_id: str
    group: str
    code: str
    reason: str
    raw: bytes
    seq: int
    # the latest time it is known to have reached the home server after (ms): the server's word or this device's
    # own bound, the later (murmur.client.sealed_feed.arrival); None when neither is known
    arrived: int | None = None


@dataclass(frozen=True, slots=True)
class MemberChange:
    """A change this device saw in a private group's members after it first pinned them: signed by the group's
    owner or a moderator (the home server cannot make one), shown so the person knows who reads the group."""

    group: str
    key: str  # the member's key as the group's messages name it (an identity or a device key)
    change: str  # "added", "removed", or "role" (their role is now ``role``)
    role: str  # "owner" | "moderator" | "member"
    seen_at: int  # ms, when this device noticed it


_COLUMNS = "r.id, r.grp, r.kind, r.sender, r.device, r.text, r.created_at, r.reply_to, r.target, r.epoch, r.fresh"


def _post(row: Sequence[Any]) -> GroupPost:
    return GroupPost(row[0], row[1], row[2], row[3], row[4], row[5], int(row[6]), row[7], row[8], int(row[9]),
                     bool(row[10]))  # fmt: skip


def _unread(row: Sequence[Any]) -> Unread:
    arrived = None if row[6] is None else int(row[6])
    return Unread(str(row[0]), str(row[1]), str(row[2]), str(row[3]), bytes(row[4]), int(row[5]), arrived)


class GroupInbox(LocalStore):
    """The device's private groups. ``GroupInbox.open(path)``."""

    SCHEMA = SCHEMA
    READ = ("read", "grp")

    # -- groups and their keys ---------------------------------------------------------------------------------
    def keys(self, group: str) -> dict[str, Any] | None:
        """The group's stored keys (``GroupKeys.to_json``), None for a group this device holds no keys of."""
        rows = self._read("SELECT keys FROM private_groups WHERE grp = ?", (group,))
        return json.loads(str(rows[0][0])) if rows else None

    def save_keys(self, group: str, name: str, keys: dict[str, Any]) -> None:
        with self._write() as db:
            _upsert(db, group, name, keys)

    def forget_epochs(self, group: str, name: str, keys: dict[str, Any], below: int) -> None:
        """Keep ``keys`` (``GroupKeys.forget_before(below)`` done) and that epochs before ``below`` are gone."""
        with self._write() as db:
            _upsert(db, group, name, keys)
            db.execute("UPDATE private_groups SET forgotten = MAX(forgotten, ?) WHERE grp = ?", (below, group))

    def forgotten(self, group: str) -> int:
        """The epoch number below which this device deleted the group's keys (0: none deleted)."""
        rows = self._read("SELECT forgotten FROM private_groups WHERE grp = ?", (group,))
        return int(rows[0][0]) if rows else 0

    def groups(self) -> list[tuple[str, str]]:
        """Every private group this device holds keys of: (id, name)."""
        return [(str(r[0]), str(r[1])) for r in self._read("SELECT grp, name FROM private_groups ORDER BY grp")]

    def known_groups(self, prefix: str) -> list[str]:
        """The private groups whose id starts with ``prefix`` that this device knows: holds keys of, pinned the
        members of, or kept signed messages of. Sorted."""
        sql = " UNION ".join(f"SELECT grp FROM {t} WHERE substr(grp, 1, ?) = ?"
                             for t in ("private_groups", "member_pins", "signed_log"))  # fmt: skip
        return sorted(str(r[0]) for r in self._read(sql, (len(prefix), prefix) * 3))

    def start_epoch(self, group: str, name: str, keys: dict[str, Any], chunks: Sequence[tuple[str, bytes]]) -> None:
        """Keep an epoch made here and the chunks that carry it, in one transaction: saved, it is sent until the
        server takes it (``unsent``, ``sent``)."""
        with self._write() as db:
            _upsert(db, group, name, keys)
            for outer_id, raw in chunks:
                _enqueue(db, outer_id, group, raw, None)

    def write(self, post: GroupPost, outer_id: str, raw: bytes, name: str, keys: dict[str, Any]) -> None:
        """Keep a message written here in the outbox with the keys writing it left, in one transaction, before it
        is sent: the chain never moves without its message kept, and nothing sent is ever only in memory."""
        with self._write() as db:
            _upsert(db, post.group, name, keys)
            _enqueue(db, outer_id, post.group, raw, json.dumps(asdict(post), sort_keys=True))

    def unsent(self) -> list[tuple[str, bytes]]:
        """Epoch chunks and messages written here that the server has not taken yet, oldest first: (id, bytes)."""
        return [(str(r[0]), bytes(r[1])) for r in self._read("SELECT id, raw FROM outbox ORDER BY made", ())]

    def outgoing(self, outer_id: str) -> GroupPost | None:
        """The message written here waiting in the outbox as ``outer_id``, if it is one."""
        rows = self._read("SELECT post FROM outbox WHERE id = ? AND post IS NOT NULL", (outer_id,))
        return GroupPost(**json.loads(str(rows[0][0]))) if rows else None

    def sent(self, outer_id: str) -> GroupPost | None:
        """The server has ``outer_id`` (it said so, or its feed holds it): out of the outbox, and a message written
        here is kept as read, in one transaction. The message, if it was one."""
        post = self.outgoing(outer_id)
        with self._write() as db:
            if post is not None and not db.execute("SELECT 1 FROM read WHERE id = ?", (post.id,)).fetchone():
                _insert_read(db, post, outer_id)
            db.execute("DELETE FROM outbox WHERE id = ?", (outer_id,))
        return post

    def dropped(self, outer_id: str) -> GroupPost | None:
        """The server refused ``outer_id`` for good: out of the outbox, never sent again. The message, if it was."""
        post = self.outgoing(outer_id)
        with self._write() as db:
            db.execute("DELETE FROM outbox WHERE id = ?", (outer_id,))
        return post

    # -- the group's signed log, and its members as last shown ---------------------------------------------------
    def signed_log(self, group: str) -> list[bytes]:
        """The group's signed messages this device verified before, in the order it first held them."""
        return [raw for raw, _ in self.signed_seen(group)]

    def signed_seen(self, group: str) -> list[tuple[bytes, int | None]]:
        """``signed_log``, each message with when this device first held it (None: kept before that was noted)."""
        rows = self._read("SELECT raw, seen FROM signed_log WHERE grp = ? ORDER BY rowid", (group,))
        return [(bytes(r[0]), None if r[1] is None else int(r[1])) for r in rows]

    def keep_signed(self, group: str, messages: Sequence[tuple[str, bytes]], seen: int | None = None) -> None:
        """Keep verified signed messages of the group, (id, bytes) each, once each, first held at ``seen``."""
        with self._write() as db:
            db.executemany("INSERT OR IGNORE INTO signed_log (grp, id, raw, seen) VALUES (?, ?, ?, ?)",
                           [(group, i, raw, seen) for i, raw in messages])  # fmt: skip

    def witnessed(self, group: str) -> dict[str, bool]:
        """What epochs witnessed of the group's unbounded acts: each act's id, and whether it counted."""
        return {str(i): bool(c) for i, c in self._read("SELECT id, counted FROM act_witness WHERE grp = ?", (group,))}

    def witness(self, group: str, epoch: int, decided: dict[str, bool]) -> None:
        """Keep what epoch number ``epoch`` witnessed (act id: counted); a newer epoch's witness of an act stands
        over an older one's, whatever order their chunks came in."""
        with self._write() as db:
            db.executemany(
                "INSERT INTO act_witness (grp, id, counted, epoch) VALUES (?, ?, ?, ?) ON CONFLICT (grp, id) DO UPDATE"
                " SET counted = excluded.counted, epoch = excluded.epoch WHERE excluded.epoch >= act_witness.epoch",
                [(group, i, int(c), epoch) for i, c in decided.items()],
            )

    def pin_members(self, group: str, members: dict[str, str], at: int) -> list[MemberChange]:
        """Pin the group's ``members`` (key -> role) the first time; after, record and return how they changed
        from the pinned set, which they then become."""
        with self._write() as db:
            held = dict(db.execute("SELECT key, role FROM member_pins WHERE grp = ?", (group,)).fetchall())
            changes = [] if not held else [
                *(MemberChange(group, k, "added", r, at) for k, r in members.items() if k not in held),
                *(MemberChange(group, k, "removed", r, at) for k, r in held.items() if k not in members),
                *(MemberChange(group, k, "role", r, at) for k, r in members.items() if k in held and held[k] != r),
            ]  # fmt: skip
            if held == members:
                return []
            db.execute("DELETE FROM member_pins WHERE grp = ?", (group,))
            db.executemany("INSERT INTO member_pins (grp, key, role) VALUES (?, ?, ?)",
                           [(group, k, r) for k, r in members.items()])  # fmt: skip
            db.executemany("INSERT INTO member_changes (grp, key, change, role, seen_at) VALUES (?, ?, ?, ?, ?)",
                           [(c.group, c.key, c.change, c.role, c.seen_at) for c in changes])  # fmt: skip
        return changes

    def member_changes(self, group: str) -> list[MemberChange]:
        """The changes seen in the group's members since they were first pinned, oldest first."""
        sql = "SELECT grp, key, change, role, seen_at FROM member_changes WHERE grp = ? ORDER BY seen_at, rowid"
        return [MemberChange(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4])) for r in self._read(sql, (group,))]

    # -- messages ------------------------------------------------------------------------------------------------
    def seen(self, outer_id: str) -> bool:
        """Whether the sealed message was read already, or kept unread with its reason."""
        sql = "SELECT 1 FROM read WHERE outer_id = ? UNION ALL SELECT 1 FROM unread WHERE outer_id = ?"
        return bool(self._read(sql, (outer_id, outer_id)))

    def holds(self, inner_id: str) -> bool:
        return bool(self._read("SELECT 1 FROM read WHERE id = ?", (inner_id,)))

    def add(self, post: GroupPost, outer_id: str, name: str, keys: dict[str, Any]) -> None:
        """Keep a message read (or written) here, with the group's keys as reading (or writing) it left them."""
        with self._write() as db:
            _upsert(db, post.group, name, keys)
            _insert_read(db, post, outer_id)

    def tick(self) -> int:
        """Count one more sync, and return its number: waiting messages fall due by it."""
        with self._write() as db:
            db.execute("INSERT INTO syncs (id, count) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET count = count + 1")
            return int(db.execute("SELECT count FROM syncs WHERE id = 1").fetchone()[0])

    def _syncs(self) -> int:
        rows = self._read("SELECT count FROM syncs WHERE id = 1")
        return int(rows[0][0]) if rows else 0

    def keep_unread(self, item: Unread, *, counted: bool = True) -> bool:
        """Keep a message unread with its reason; kept again (tried and still unread), it is next due twice as
        many syncs later. Not ``counted`` (nothing was learnt of it: its server did not answer for it), it is due
        at the next sync and its tries stay as they were, so a server failing for a while never retires it. One
        more naming an epoch this device holds no key for (``NO_KEY``), when its group keeps ``NO_KEY_KEPT`` of
        them already, is dropped and counted instead (``no_key``): False."""
        now = self._syncs()
        later = "tries = tries + 1, due = ? + (1 << MIN(tries + 1, 30))" if counted else "due = ? + 1"
        with self._write() as db:
            if item.code in NO_KEY and not db.execute(
                "SELECT 1 FROM unread WHERE outer_id = ?", (item.outer_id,)
            ).fetchone():
                marks = ",".join("?" * len(NO_KEY))
                (held,) = db.execute(f"SELECT count(*) FROM unread WHERE grp = ? AND code IN ({marks})",
                                     (item.group, *NO_KEY)).fetchone()  # fmt: skip
                if held >= NO_KEY_KEPT:
                    db.execute("INSERT INTO no_key_dropped (grp, count) VALUES (?, 1)"
                               " ON CONFLICT (grp) DO UPDATE SET count = count + 1", (item.group,))  # fmt: skip
                    return False
            db.execute(
                "INSERT INTO unread (outer_id, grp, code, reason, raw, seq, tries, due, arrived)"
                " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)"
                f" ON CONFLICT (outer_id) DO UPDATE SET code = excluded.code, reason = excluded.reason, {later}",
                (item.outer_id, item.group, item.code, item.reason, item.raw, item.seq, now + 1, item.arrived, now),
            )
        return True

    def no_key(self, group: str) -> tuple[int, int]:
        """How many messages of ``group`` naming an epoch this device holds no key for are kept, and how many were
        dropped past ``NO_KEY_KEPT``."""
        marks = ",".join("?" * len(NO_KEY))
        (kept,) = self._read(f"SELECT count(*) FROM unread WHERE grp = ? AND code IN ({marks})",
                             (group, *NO_KEY))[0]  # fmt: skip
        dropped = self._read("SELECT count FROM no_key_dropped WHERE grp = ?", (group,))
        return int(kept), int(dropped[0][0]) if dropped else 0

    def wake(self, group: str) -> None:
        """A key came for ``group``: what waits in it (and epoch keys waiting for any group) is due at once."""
        with self._write() as db:
            db.execute("UPDATE unread SET tries = 0, due = 0 WHERE grp IN (?, '')", (group,))

    def forget_unread(self, outer_id: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM unread WHERE outer_id = ?", (outer_id,))

    def unread(
        self, group: str | None = None, codes: Sequence[str] | None = None, *, due: bool = False
    ) -> list[Unread]:
        """Messages kept unread, oldest first: of one group (``""``: epoch chunks), with one of ``codes``; with
        ``due``, only those to try again at this sync (``tick``)."""
        sql, params = "SELECT outer_id, grp, code, reason, raw, seq, arrived FROM unread WHERE 1 = 1", []
        if due:
            sql, params = sql + " AND due <= ? AND tries < ?", [self._syncs(), MAX_TRIES]
        if group is not None:
            sql, params = sql + " AND grp = ?", [*params, group]
        if codes is not None:
            sql += f" AND code IN ({','.join('?' * len(codes))})"
            params += list(codes)
        return [_unread(r) for r in self._read(sql + " ORDER BY seq", params)]

    def posts(self, group: str, limit: int = 50) -> list[GroupPost]:
        """A group's messages shown, newest first."""
        sql = (
            f"SELECT {_COLUMNS} FROM read r WHERE r.grp = ? AND r.held IS NULL ORDER BY r.created_at DESC, r.id LIMIT ?"
        )
        return [_post(r) for r in self._read(sql, (group, limit))]

    def fresh(self) -> dict[str, int]:
        """How many messages of each private group the person has yet to see (groups with none left out)."""
        sql = "SELECT grp, count(*) FROM read WHERE fresh = 1 AND held IS NULL GROUP BY grp"
        return {str(r[0]): int(r[1]) for r in self._read(sql, ())}

    def seen_all(self, group: str) -> None:
        """The person saw the group's messages (its screen showed them)."""
        with self._write() as db:
            db.execute("UPDATE read SET fresh = 0 WHERE grp = ? AND fresh = 1", (group,))

    def search(self, text: str, limit: int = 50) -> list[GroupPost]:
        """Messages whose text holds every word of ``text``, best match first; words are matched as typed."""
        query = fts_words(text)
        if query is None:
            return []
        sql = (
            f"SELECT {_COLUMNS} FROM read_fts f CROSS JOIN read r ON r.rowid = f.rowid"
            " WHERE read_fts MATCH ? AND r.held IS NULL ORDER BY rank, r.created_at DESC LIMIT ?"
        )
        return [_post(r) for r in self._read(sql, (query, limit))]


def _upsert(db: Any, group: str, name: str, keys: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO private_groups (grp, name, keys) VALUES (?, ?, ?)"
        " ON CONFLICT (grp) DO UPDATE SET keys = excluded.keys, name = excluded.name",
        (group, name, json.dumps(keys, sort_keys=True)),
    )


def _enqueue(db: Any, outer_id: str, group: str, raw: bytes, post: str | None) -> None:
    """Put a message at the end of the outbox (``made`` orders it: an epoch's chunks before what is written in it)."""
    made = int(db.execute("SELECT COALESCE(MAX(made), 0) FROM outbox").fetchone()[0]) + 1
    db.execute("INSERT OR IGNORE INTO outbox (id, grp, raw, made, post) VALUES (?, ?, ?, ?, ?)",
               (outer_id, group, raw, made, post))  # fmt: skip


def _insert_read(db: Any, post: GroupPost, outer_id: str) -> None:
    p = post
    cursor = db.execute(
        "INSERT INTO read (id, outer_id, grp, kind, sender, device, text, created_at, reply_to, target, epoch,"
        " fresh) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (p.id, outer_id, p.group, p.kind, p.sender, p.device, p.text, p.created_at, p.reply_to, p.target,
         p.epoch, int(p.fresh)),
    )  # fmt: skip
    db.execute("INSERT INTO read_fts (rowid, text) VALUES (?, ?)", (cursor.lastrowid, p.text))
    db.execute("DELETE FROM unread WHERE outer_id = ?", (outer_id,))
