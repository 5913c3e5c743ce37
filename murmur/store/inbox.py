"""A device's own store of the direct messages it opened: the one place their text lives, and where they are
searched (docs/encryption.md §9). Never a server's: it sits beside the profile's key, file mode 0600.

SQLite with an FTS5 index of the texts. ``PRAGMA user_version`` holds the migrations applied; they only add.
Rows come out as frozen dataclasses. A sealed message is looked at once (``seen``): opened, it is kept here by its
inner id (the same inner id again under another outer message is ``replayed``); refused, its reason is kept so
that it is shown, inert, and not opened again, except the refusals ``retried`` names, which may turn out
well once the sender's log reaches the server.

With a passphrase (``murmur.store.vault``) the file is sealed: the database lives in memory while open
(``deserialize``), temporary tables and sorts included, and each committed change, or each ``batch`` of them, is
saved whole, sealed, by an atomic rename; nothing readable (text, index, journal) ever touches the disk.
``relock`` sets, changes or removes the passphrase of a closed store.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from murmur.errors import StoreError, StoreLocked
from murmur.store import vault as sealed
from murmur.store.vault import Vault

SCHEMA = (
    """
    CREATE TABLE conversations (id TEXT PRIMARY KEY, participants TEXT NOT NULL);
    CREATE TABLE opened (
        id TEXT PRIMARY KEY, outer_id TEXT NOT NULL UNIQUE, conversation TEXT NOT NULL, sender TEXT NOT NULL,
        device TEXT NOT NULL, text TEXT NOT NULL, created_at INTEGER NOT NULL, reply_to TEXT,
        unread INTEGER NOT NULL
    );
    CREATE INDEX opened_by_conversation ON opened (conversation, created_at);
    CREATE VIRTUAL TABLE opened_fts USING fts5(text);
    CREATE TABLE refused (
        outer_id TEXT PRIMARY KEY, code TEXT NOT NULL, reason TEXT NOT NULL, raw BLOB NOT NULL, seq INTEGER NOT NULL
    );
    CREATE TABLE cursors (server TEXT PRIMARY KEY, seq INTEGER NOT NULL);
    """,
    # Each contact's devices as first seen (trust on first use), and every change seen after.
    """
    CREATE TABLE pinned (identity TEXT NOT NULL, device TEXT NOT NULL, name TEXT NOT NULL,
        PRIMARY KEY (identity, device));
    CREATE TABLE device_changes (identity TEXT NOT NULL, device TEXT NOT NULL, name TEXT NOT NULL,
        change TEXT NOT NULL, seen_at INTEGER NOT NULL);
    CREATE INDEX device_changes_by_identity ON device_changes (identity, seen_at);
    """,
    # A refusal worth retrying backs off: how often it was tried, when next (NULL: given up on).
    """
    ALTER TABLE refused ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE refused ADD COLUMN first_at INTEGER;
    ALTER TABLE refused ADD COLUMN retry_at INTEGER DEFAULT 0;
    ALTER TABLE refused ADD COLUMN arrived INTEGER;
    CREATE INDEX refused_by_retry ON refused (retry_at, seq);
    """,
    # A cursor names the message at its position too (a restored server hands positions out again). One kept
    # without it cannot be checked, so it starts over: what is held already is skipped by its outer id.
    """
    ALTER TABLE cursors ADD COLUMN at TEXT;
    UPDATE cursors SET seq = 0;
    """,
    # The identity each handle or key prefix named the first time it was written to (trust on first use).
    """
    CREATE TABLE IF NOT EXISTS named (name TEXT PRIMARY KEY, identity TEXT NOT NULL, at INTEGER NOT NULL);
    """,
    # When this device last read each feed to its end (its clock, ms): what it first sees after reached the home
    # server after that, whatever the server says (``Cursor.through``). A refusal's ``arrived`` is that bound or the
    # server's word, the later, from now on.
    """
    ALTER TABLE cursors ADD COLUMN through INTEGER;
    """,
    # A message opened here that its sender's log, judged again later, no longer lets speak for them (a fork
    # disputes its device from before its time): kept, shown nowhere, with the verdict's code, until the log
    # settles (NULL: shown).
    """
    ALTER TABLE opened ADD COLUMN held TEXT;
    """,
)


# A refusal that may turn out well is tried again at the next sync, then after 1 min, 2, 4, ... at most a day
# apart, and given up on after GIVE_UP_AFTER tries or GIVE_UP_AGE: whichever comes first.
RETRY_FIRST_MS = 60_000
RETRY_MOST_MS = 86_400_000
GIVE_UP_AFTER = 16
GIVE_UP_AGE = 14 * 86_400_000
RETRY_PAGE = 200


@dataclass(frozen=True, slots=True)
class Stored:
    """One opened direct message as kept here."""

    id: str
    conversation: str
    sender: str
    device: str
    text: str
    created_at: int
    reply_to: str | None
    unread: bool


@dataclass(frozen=True, slots=True)
class Judged:
    """A message read here (a direct or a private group message), as its sender's log judges it: who signed it, with
    which device, when, and whether it is held back (the code of the verdict that holds it; None: shown)."""

    id: str
    sender: str
    device: str
    created_at: int
    held: str | None


@dataclass(frozen=True, slots=True)
class Cursor:
    """How far this device read a server's log: a position, and the outer id of the message there (None at the
    start), which the server checks (``GET /api/v1/sealed?after=SEQ&at=ID``, docs/encryption.md §9.8)."""

    seq: int = 0
    at: str | None = None
    # When this device last read the feed to its end (its clock, ms; None: never yet): every message the server
    # held then was in what it read, so one first seen later reached the server after (murmur.client.sealed_feed).
    through: int | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    participants: tuple[str, ...]
    unread: int
    last: Stored | None


@dataclass(frozen=True, slots=True)
class DeviceChange:
    """A change this device saw in a contact's devices after it first pinned them (murmur.client.identity_check)."""

    identity: str
    device: str  # the device's Ed25519 key
    name: str
    change: str  # "added" or "removed"
    seen_at: int  # ms, when this device noticed it


@dataclass(frozen=True, slots=True)
class Refusal:
    outer_id: str
    code: str
    reason: str
    raw: bytes
    # the latest time it is known to have reached the home server after (ms): the server's word or this device's
    # own bound, the later (murmur.client.sealed_feed.arrival); None when neither is known
    arrived: int | None = None


_COLUMNS = "o.id, o.conversation, o.sender, o.device, o.text, o.created_at, o.reply_to, o.unread"


def _row(row: Sequence[Any]) -> Stored:
    return Stored(row[0], row[1], row[2], row[3], row[4], int(row[5]), row[6], bool(row[7]))


# The files SQLite keeps beside a store while it writes: they hold its pages, so they are as private as it.
SIDECARS = ("-journal", "-wal", "-shm")


def store_files(path: Path) -> list[Path]:
    """The store at ``path`` and the files SQLite keeps beside it, those that are there."""
    return [p for p in (path, *(path.with_name(path.name + s) for s in SIDECARS)) if p.exists()]


def _create_private(path: Path) -> None:
    """Create the store 0600 (its folder 0700) when it is not there, and make it 0600 when it is found open to
    other users (a profile copied with ``cp -r``, or restored, under umask 022): what is read next would
    otherwise rest in a file anyone on the machine can read (docs/encryption.md §9.8)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        for found in store_files(path):
            if stat.S_IMODE(found.stat().st_mode) & 0o077:
                found.chmod(0o600)
    except OSError as exc:
        raise StoreError(f"Cannot make the private message store {path} private (mode 0600): {exc.strerror or exc}."
                         " Check who owns it, or move it aside to start a new one.") from exc  # fmt: skip


def fts_words(text: str) -> str | None:
    """An FTS5 query for every word of ``text`` as typed (FTS5's own syntax is not exposed: ``"``, ``*`` or ``OR``
    are only words); None when there is no word."""
    words = [w for w in text.split() if w]
    return " ".join('"' + w.replace('"', '""') + '"' for w in words) if words else None


class LocalStore:
    """A store of this device's own (its opened messages, its keys for groups): one SQLite file, 0600, migrated by
    the subclass's ``SCHEMA``. ``open(path)``; every call is one short transaction."""

    SCHEMA: tuple[str, ...] = ()
    FEED = "feed"  # the column naming a feed in its ``cursors`` table
    READ: tuple[str, str] = ("", "")  # the messages read here (their table, the column naming their conversation)

    def __init__(self, db: sqlite3.Connection, path: Path, vault: Vault | None = None, holder: int | None = None
                 ) -> None:  # fmt: skip
        self.db = db
        self.path = path
        self.vault = vault  # set when the file is sealed: the database is in memory, saved whole
        self._holder = holder  # the lock that keeps a second program from saving over this one's copy
        self._batches = 0
        self._unsaved = False

    @classmethod
    def open(cls, path: Path, passphrase: str | None = None) -> Self:
        """The store at ``path``; ``StoreLocked`` when it is sealed and no ``passphrase`` came (one given for a
        store that is not sealed is not needed, and not used)."""
        vault, holder = None, None
        try:
            _create_private(path)
            # One program at a time, sealed or plain: a second one at once would save over the first's copy
            # (sealed), or move a group's chain from the same saved point and write twice with one message key.
            holder = sealed.hold(path)
            if sealed.is_sealed(path):
                if passphrase is None:
                    raise StoreLocked(f"The message store at {path} is locked by a passphrase.")
                plain, vault = sealed.unseal(path.read_bytes(), passphrase, path)
                # Opened where the key is derived (a TUI worker thread), then used by one thread at a time.
                db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
                db.deserialize(plain)
                db.execute("PRAGMA temp_store = MEMORY")
            else:
                db = sqlite3.connect(path, isolation_level=None)
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            for number in range(version, len(cls.SCHEMA)):
                step = cls.SCHEMA[number]
                db.executescript(f"BEGIN IMMEDIATE;\n{step}\nPRAGMA user_version = {number + 1};\nCOMMIT;")
        except BaseException as exc:
            if holder is not None:
                os.close(holder)
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"Cannot open the private message store {path}: {exc}. Move it aside to start a"
                                 " new one (the messages are fetched again from the server).") from exc  # fmt: skip
            raise
        inbox = cls(db, path, vault, holder)
        if vault is not None and version < len(cls.SCHEMA):
            inbox._save()
        return inbox

    def close(self) -> None:
        self.db.close()
        if self._holder is not None:
            os.close(self._holder)
            self._holder = None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Changes saved once, at the end (a sealed store is saved whole: one save per fetch, not per message).
        A crash inside loses the whole batch and nothing else; the fetch cursor is in it, so it is fetched again."""
        self._batches += 1
        try:
            yield
        finally:
            self._batches -= 1
            if self._batches == 0 and self._unsaved:
                self._save()

    def _save(self) -> None:
        if self.vault is None:
            return
        self._unsaved = True
        if self._batches:
            return
        sealed.save(self.path, self.db.serialize(), self.vault)
        self._unsaved = False

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"The private message store {self.path} could not be written: {exc}.") from exc
        self._save()

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        try:
            return list(self.db.execute(sql, params).fetchall())
        except sqlite3.Error as exc:
            raise StoreError(f"The private message store {self.path} could not be read: {exc}.") from exc

    # -- the server's feeds, as far as this device read them ---------------------------------------------------------
    def cursor(self, feed: str) -> Cursor:
        rows = self._read(f"SELECT seq, at, through FROM cursors WHERE {self.FEED} = ?", (feed,))
        if not rows:
            return Cursor()
        seq, at, through = rows[0]
        return Cursor(int(seq), at, None if through is None else int(through))

    def set_cursor(self, feed: str, cursor: Cursor) -> None:
        with self._write() as db:
            db.execute(
                f"INSERT INTO cursors ({self.FEED}, seq, at, through) VALUES (?, ?, ?, ?) ON CONFLICT ({self.FEED})"
                " DO UPDATE SET seq = excluded.seq, at = excluded.at, through = excluded.through",
                (feed, cursor.seq, cursor.at, cursor.through),
            )

    # -- messages judged again by their senders' logs (murmur.client.identity_check.rejudged) -----------------------
    def judged(self, scope: str | None = None) -> list[Judged]:
        """Every message read here (of one conversation or group: ``scope``), with whether it is held back."""
        table, column = self.READ  # names of ours, never input
        where, params = (f"WHERE {column} = ?", (scope,)) if scope is not None else ("", ())
        sql = f"SELECT id, sender, device, created_at, held FROM {table} {where} ORDER BY created_at, id"
        return [Judged(str(r[0]), str(r[1]), str(r[2]), int(r[3]), r[4]) for r in self._read(sql, params)]

    def hold(self, verdicts: Sequence[tuple[str, str | None]]) -> None:
        """Hold back (a code) or show again (None) messages read here, by inner id."""
        if verdicts:
            with self._write() as db:
                db.executemany(f"UPDATE {self.READ[0]} SET held = ? WHERE id = ?", [(c, i) for i, c in verdicts])

    def held_back(self, scope: str) -> dict[str, int]:
        """How many of a conversation's (or group's) messages read here are held back, by the code that holds them."""
        table, column = self.READ
        sql = f"SELECT held, count(*) FROM {table} WHERE {column} = ? AND held IS NOT NULL GROUP BY held ORDER BY held"
        return {str(r[0]): int(r[1]) for r in self._read(sql, (scope,))}


class Inbox(LocalStore):
    """The device's store of opened direct messages. ``Inbox.open(path)``; every call is one short transaction."""

    SCHEMA = SCHEMA
    FEED = "server"
    READ = ("opened", "conversation")

    def seen(self, outer_id: str) -> bool:
        """Whether the sealed message was looked at already (opened, or refused for good)."""
        sql = "SELECT 1 FROM opened WHERE outer_id = ? UNION ALL SELECT 1 FROM refused WHERE outer_id = ?"
        return bool(self._read(sql, (outer_id, outer_id)))

    # -- writing -------------------------------------------------------------------------------------------------
    def add(self, message: Stored, outer_id: str, participants: Sequence[str]) -> bool:
        """Keep an opened message; False when its inner id is held already (a replay under another outer message)."""
        with self._write() as db:
            if db.execute("SELECT 1 FROM opened WHERE id = ?", (message.id,)).fetchone():
                return False
            db.execute(
                "INSERT INTO conversations (id, participants) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (message.conversation, json.dumps(sorted(participants))),
            )
            m = message
            cursor = db.execute(
                "INSERT INTO opened (id, outer_id, conversation, sender, device, text, created_at, reply_to, unread)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (m.id, outer_id, m.conversation, m.sender, m.device, m.text, m.created_at, m.reply_to, int(m.unread)),
            )
            db.execute("INSERT INTO opened_fts (rowid, text) VALUES (?, ?)", (cursor.lastrowid, m.text))
            db.execute("DELETE FROM refused WHERE outer_id = ?", (outer_id,))
        return True

    def refuse(
        self, outer_id: str, code: str, reason: str, raw: bytes, seq: int, *, at: int, arrived: int | None = None
    ) -> None:
        """Keep a refusal, seen at ``at`` (ms), of a message that reached the server at ``arrived`` (if known).
        Refused again, it is tried again later each time (``retried``), until it has failed ``GIVE_UP_AFTER``
        times or for ``GIVE_UP_AGE`` ms: then it is refused for good."""
        with self._write() as db:
            row = db.execute("SELECT attempts, first_at FROM refused WHERE outer_id = ?", (outer_id,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO refused (outer_id, code, reason, raw, seq, attempts, first_at, retry_at, arrived)"
                    " VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)",
                    (outer_id, code, reason, raw, seq, at, at, arrived),
                )
                return
            attempts, first = int(row[0]) + 1, at if row[1] is None else int(row[1])
            retry_at: int | None = at + min(RETRY_FIRST_MS << (attempts - 1), RETRY_MOST_MS)
            if attempts >= GIVE_UP_AFTER or at - first >= GIVE_UP_AGE:
                retry_at, reason = None, f"{reason} murmur stopped trying it again after {attempts} attempts."
            db.execute(
                "UPDATE refused SET code = ?, reason = ?, attempts = ?, first_at = ?, retry_at = ? WHERE outer_id = ?",
                (code, reason, attempts, first, retry_at, outer_id),
            )

    def retried(self, codes: Sequence[str], now: int, limit: int = RETRY_PAGE) -> list[Refusal]:
        """Up to ``limit`` refused messages whose code is among ``codes`` and whose next try is due at ``now``: worth
        opening again (their sender's log may have come since). The longest due come first, so no number of
        messages that keep failing holds back another (each failure puts it later)."""
        marks = ",".join("?" * len(codes))
        sql = (f"SELECT outer_id, code, reason, raw, arrived FROM refused WHERE code IN ({marks}) AND retry_at <= ?"
               " ORDER BY retry_at, seq LIMIT ?")  # fmt: skip
        rows = self._read(sql, (*codes, now, limit))
        return [Refusal(str(r[0]), str(r[1]), str(r[2]), bytes(r[3]), None if r[4] is None else int(r[4]))
                for r in rows]  # fmt: skip

    def refusals(self) -> list[Refusal]:
        sql = "SELECT outer_id, code, reason, raw FROM refused ORDER BY seq"
        return [Refusal(str(r[0]), str(r[1]), str(r[2]), bytes(r[3])) for r in self._read(sql)]

    # -- who a typed name named --------------------------------------------------------------------------------------
    def name(self, name: str, identity: str, at: int) -> str | None:
        """Remember that ``name`` (a handle or a key prefix, as typed, lowercase) named ``identity``, the first time;
        after, the identity it named then when that is another one (nothing is changed), else None."""
        with self._write() as db:
            row = db.execute("SELECT identity FROM named WHERE name = ?", (name,)).fetchone()
            if row is not None:
                return None if row[0] == identity else str(row[0])
            db.execute("INSERT INTO named (name, identity, at) VALUES (?, ?, ?)", (name, identity, at))
            return None

    def forget_name(self, name: str) -> bool:
        """Forget what ``name`` named, so the next message to it takes the server's answer again."""
        with self._write() as db:
            return db.execute("DELETE FROM named WHERE name = ?", (name,)).rowcount > 0

    # -- each contact's devices, pinned on first sight -------------------------------------------------------------
    def pin(self, identity: str, devices: Mapping[str, str], at: int) -> list[DeviceChange]:
        """Pin ``identity``'s current ``devices`` (key -> name) the first time; after, record and return how they
        changed from the pinned set, which they then become."""
        with self._write() as db:
            held = dict(db.execute("SELECT device, name FROM pinned WHERE identity = ?", (identity,)).fetchall())
            changes = [] if not held else [
                *(DeviceChange(identity, k, n, "added", at) for k, n in devices.items() if k not in held),
                *(DeviceChange(identity, k, n, "removed", at) for k, n in held.items() if k not in devices),
            ]  # fmt: skip
            if held and not changes:
                return []
            db.execute("DELETE FROM pinned WHERE identity = ?", (identity,))
            db.executemany("INSERT INTO pinned (identity, device, name) VALUES (?, ?, ?)",
                           [(identity, k, n) for k, n in devices.items()])  # fmt: skip
            db.executemany(
                "INSERT INTO device_changes (identity, device, name, change, seen_at) VALUES (?, ?, ?, ?, ?)",
                [(c.identity, c.device, c.name, c.change, c.seen_at) for c in changes],
            )
        return changes

    def pinned_name(self, name: str) -> bool:
        """Whether ``name`` is an identity whose devices are pinned here, or one of those devices."""
        return bool(self._read("SELECT 1 FROM pinned WHERE identity = ? OR device = ? LIMIT 1", (name, name)))

    def device_changes(self, identities: Sequence[str]) -> list[DeviceChange]:
        """The changes seen in these identities' devices since they were pinned, oldest first."""
        marks = ",".join("?" * len(identities))
        sql = (f"SELECT identity, device, name, change, seen_at FROM device_changes WHERE identity IN ({marks})"
               " ORDER BY seen_at, rowid")  # fmt: skip
        return [DeviceChange(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]))
                for r in self._read(sql, tuple(identities))]  # fmt: skip

    def mark_read(self, conversation: str) -> None:
        with self._write() as db:
            db.execute("UPDATE opened SET unread = 0 WHERE conversation = ? AND unread = 1", (conversation,))

    # -- reading -------------------------------------------------------------------------------------------------
    def conversations(self) -> list[Conversation]:
        """Every conversation, the one with the newest message first (of those shown: none held back)."""
        sql = (
            "SELECT c.id, c.participants, (SELECT count(*) FROM opened u WHERE u.conversation = c.id AND u.unread = 1"
            " AND u.held IS NULL), (SELECT max(created_at) FROM opened l WHERE l.conversation = c.id"
            " AND l.held IS NULL) AS newest FROM conversations c ORDER BY newest DESC, c.id"
        )
        out = []
        for row in self._read(sql):
            last = self._read(
                f"SELECT {_COLUMNS} FROM opened o WHERE o.conversation = ? AND o.held IS NULL"
                " ORDER BY o.created_at DESC, o.id LIMIT 1",
                (row[0],),
            )
            participants = tuple(json.loads(str(row[1])))
            out.append(Conversation(str(row[0]), participants, int(row[2]), _row(last[0]) if last else None))
        return out

    def conversation(self, conversation: str) -> Conversation | None:
        return next((c for c in self.conversations() if c.id == conversation), None)

    def conversation_ids(self, prefix: str) -> list[str]:
        """The conversations whose id starts with ``prefix`` (lowercase hex)."""
        rows = self._read("SELECT id FROM conversations WHERE substr(id, 1, ?) = ? ORDER BY id", (len(prefix), prefix))
        return [str(r[0]) for r in rows]

    def messages(self, conversation: str) -> list[Stored]:
        """A conversation's messages shown, oldest first (by their exact time, then id)."""
        sql = f"SELECT {_COLUMNS} FROM opened o WHERE o.conversation = ? AND o.held IS NULL ORDER BY o.created_at, o.id"
        return [_row(r) for r in self._read(sql, (conversation,))]


    def search(self, text: str, limit: int = 50) -> list[Stored]:
        """Messages whose text holds every word of ``text``, best match first. Words are matched as typed: FTS5's
        query syntax is not exposed, so ``"``, ``*`` or ``OR`` are only words."""
        query = fts_words(text)
        if query is None:
            return []
        sql = (
            f"SELECT {_COLUMNS} FROM opened_fts f CROSS JOIN opened o ON o.rowid = f.rowid"
            " WHERE opened_fts MATCH ? AND o.held IS NULL ORDER BY rank, o.created_at DESC LIMIT ?"
        )
        return [_row(r) for r in self._read(sql, (query, limit))]


def relock(path: Path, current: str | None, new: str | None) -> None:
    """Set (``current`` None), change, or remove (``new`` None) the passphrase of the closed store at ``path``,
    keeping every message: the whole database is written again, atomically, sealed or plain."""
    inbox = LocalStore.open(path, current)  # any of this device's stores (direct messages, private groups)
    try:
        plain = inbox.db.serialize()
        sealed.save(path, plain, None if new is None else Vault.derive(new))
    except sqlite3.Error as exc:
        raise StoreError(f"The private message store {path} could not be read: {exc}.") from exc
    finally:
        inbox.close()
    for leftover in SIDECARS:  # a plain store's companions hold readable pages
        path.with_name(path.name + leftover).unlink(missing_ok=True)
