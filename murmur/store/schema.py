"""The database schema and its forward-only migrations.

``PRAGMA user_version`` holds the number of migrations applied. A migration only adds (tables, columns,
indexes); an older murmur refuses a database newer than it knows rather than guessing.

Ids, keys and signatures are stored as 32/64-byte BLOBs: half the size of hex, and faster to index.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the log, its indexes, tombstones, latest-wins state and full-text search.
    """
    CREATE TABLE messages (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,  -- position in the local append-only log
        id          BLOB NOT NULL UNIQUE,
        author      BLOB NOT NULL,
        kind        TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        visibility  TEXT NOT NULL,
        reply_to    BLOB,
        root        BLOB,
        target      BLOB,
        subject     BLOB,
        origin      TEXT NOT NULL,                      -- 'local', 'peer:<key>', 'import', ...
        received_at INTEGER NOT NULL,
        raw         BLOB NOT NULL                       -- canonical JSON of the signed message
    );
    CREATE INDEX messages_by_author ON messages (author, seq);
    CREATE INDEX messages_by_kind ON messages (kind, seq);
    CREATE INDEX messages_by_root ON messages (root, seq) WHERE root IS NOT NULL;
    CREATE INDEX messages_by_reply ON messages (reply_to) WHERE reply_to IS NOT NULL;
    CREATE INDEX messages_by_target ON messages (target, kind) WHERE target IS NOT NULL;
    CREATE INDEX messages_by_time ON messages (created_at, id);

    CREATE TABLE mentions (key BLOB NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (key, seq)) WITHOUT ROWID;
    CREATE TABLE hashtags (tag TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (tag, seq)) WITHOUT ROWID;
    CREATE INDEX mentions_by_seq ON mentions (seq);
    CREATE INDEX hashtags_by_seq ON hashtags (seq);

    -- A delete by `author` of `target`. It removes the target only if the target has the same author,
    -- whichever of the two arrives first.
    CREATE TABLE tombstones (
        target    BLOB NOT NULL,
        author    BLOB NOT NULL,
        delete_id BLOB NOT NULL,
        PRIMARY KEY (target, author)
    ) WITHOUT ROWID;

    CREATE TABLE profiles (
        author     BLOB PRIMARY KEY,
        created_at INTEGER NOT NULL,
        msg_id     BLOB NOT NULL,
        name       TEXT NOT NULL DEFAULT '',
        bio        TEXT NOT NULL DEFAULT ''
    );

    CREATE TABLE follows (
        follower   BLOB NOT NULL,
        subject    BLOB NOT NULL,
        following  INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        msg_id     BLOB NOT NULL,
        PRIMARY KEY (follower, subject)
    ) WITHOUT ROWID;
    CREATE INDEX follows_by_subject ON follows (subject, follower) WHERE following = 1;

    CREATE VIRTUAL TABLE posts_fts USING fts5 (text, cw, tokenize = 'unicode61 remove_diacritics 2');
    CREATE VIRTUAL TABLE profiles_fts USING fts5 (
        author UNINDEXED, name, bio, tokenize = 'unicode61 remove_diacritics 2'
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
