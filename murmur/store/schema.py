"""The database schema and its forward-only migrations.

``PRAGMA user_version`` holds the number of migrations applied. A migration only adds (tables, columns,
indexes), or widens an index it rebuilds under the same name; an older murmur refuses a database newer than it
knows rather than guessing.

Ids, keys and signatures are stored as 32/64-byte BLOBs: half the size of hex, and faster to index.
"""

from __future__ import annotations

from murmur.store.audience import CREATE_ADRIFT, CREATE_CONFINED, CREATE_SCOPED, CREATE_UNHELD, CREATE_WAITING
from murmur.store.gaps import CREATE_COUNTED, CREATE_RUNS
from murmur.store.passed import CREATE_PASSED
from murmur.store.removals import CREATE_REMOVED

# A reaction or boost counts, and is told, once per (person, post, emoji): a second identical one (from another
# device, or sent twice) is stored but adds nothing. "First" is the lowest seq among its twins in ``tallies``.
# Frozen here as migration 7 ran it; murmur.kinds.tallied holds the live rule.
FIRST_TALLY = (
    "NOT EXISTS (SELECT 1 FROM tallies u WHERE u.target = a.target AND u.kind = a.kind AND u.author = a.author"
    " AND u.emoji = a.emoji AND u.seq < a.seq)"
)


# How notices were derived when migration 2 ran them once over the whole log: history, kept as it ran. Ingest
# runs the rules each kind declares (murmur.kinds.NOTICE_RULES).
_NOTICES_AT_2 = (
    "INSERT INTO notices (key, seq, kind) SELECT p.author, r.seq, 'reply' FROM messages r"
    " CROSS JOIN messages p ON p.id = r.reply_to WHERE r.seq BETWEEN :lo AND :hi AND r.kind = 'post'"
    " AND p.author != r.author ON CONFLICT (key, seq) DO UPDATE SET kind = 'reply'",
    "INSERT INTO notices (key, seq, kind) SELECT p.author, r.seq, 'reply' FROM messages p"
    " CROSS JOIN messages r ON r.reply_to = p.id WHERE p.seq BETWEEN :lo AND :hi AND r.kind = 'post'"
    " AND p.author != r.author ON CONFLICT (key, seq) DO UPDATE SET kind = 'reply'",
    "INSERT OR IGNORE INTO notices (key, seq, kind) SELECT t.author, r.seq, r.kind FROM messages r"
    " CROSS JOIN messages t ON t.id = r.target WHERE r.seq BETWEEN :lo AND :hi"
    " AND r.kind IN ('reaction', 'boost') AND t.author != r.author",
    "INSERT OR IGNORE INTO notices (key, seq, kind) SELECT t.author, r.seq, r.kind FROM messages t"
    " CROSS JOIN messages r ON r.target = t.id WHERE t.seq BETWEEN :lo AND :hi"
    " AND r.kind IN ('reaction', 'boost') AND t.author != r.author",
    "INSERT OR IGNORE INTO notices (key, seq, kind) SELECT x.key, x.seq, 'mention' FROM mentions x"
    " CROSS JOIN messages m ON m.seq = x.seq WHERE x.seq BETWEEN :lo AND :hi AND m.kind = 'post'"
    " AND m.author != x.key",
    "INSERT OR IGNORE INTO notices (key, seq, kind) SELECT m.subject, m.seq, 'follow' FROM messages m"
    " WHERE m.seq BETWEEN :lo AND :hi AND m.kind = 'follow' AND m.subject != m.author",
)


# Each profile's name_key computed again, as murmur.names.name_key now computes it (migration 20).
REKEY_NAMES = "UPDATE profiles SET name_key = murmur_name_key(name) WHERE name != '';"
# Each profile's handle (murmur.mentions.handle_key), from its name (migration 21).
FILL_HANDLES = "UPDATE profiles SET handle = murmur_handle_key(name) WHERE name != '';"

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
    # 2: membership, invites, read markers, derived notifications, and the indexes the timelines read by.
    """
    CREATE TABLE members (
        key        BLOB PRIMARY KEY,
        role       TEXT NOT NULL CHECK (role IN ('admin', 'member')),
        joined_at  INTEGER NOT NULL,                    -- milliseconds since the epoch
        invited_by TEXT                                 -- the invite code redeemed, or who added the member
    );

    CREATE TABLE invites (
        code       TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_by    BLOB,
        used_at    INTEGER,
        note       TEXT NOT NULL DEFAULT ''
    );

    CREATE TABLE markers (
        key  BLOB NOT NULL,
        name TEXT NOT NULL,
        seq  INTEGER NOT NULL,
        PRIMARY KEY (key, name)
    ) WITHOUT ROWID;

    -- Who should hear of a message: derived at ingest (see murmur.kinds.NOTICE_RULES) so that a person's notifications
    -- are one index range read newest first, instead of a join over everything they ever wrote.
    CREATE TABLE notices (
        key  BLOB NOT NULL,
        seq  INTEGER NOT NULL,
        kind TEXT NOT NULL,                             -- 'mention' | 'reply' | 'reaction' | 'boost' | 'follow'
        PRIMARY KEY (key, seq)
    ) WITHOUT ROWID;
    CREATE INDEX notices_by_seq ON notices (seq);

    -- Timelines: an author's posts and boosts newest first, and public posts newest first.
    CREATE INDEX messages_timeline ON messages (author, seq) WHERE kind IN ('post', 'boost');
    CREATE INDEX messages_by_visibility ON messages (kind, visibility, seq);
    """
    + "\n".join(rule.replace(":lo", "0").replace(":hi", "9223372036854775807") + ";" for rule in _NOTICES_AT_2),
    # 3: trusted peer servers and their replication state (see murmur/store/peers.py).
    """
    CREATE TABLE peers (
        key           BLOB PRIMARY KEY,                 -- the peer's server key: the only thing trusted
        name          TEXT NOT NULL DEFAULT '',
        url           TEXT NOT NULL DEFAULT '',         -- empty for a serve-only peer we never dial
        mode          TEXT NOT NULL CHECK (mode IN ('push-pull', 'pull-only', 'serve-only')),
        proxy         TEXT NOT NULL DEFAULT '',         -- http(s):// or socks5:// proxy for dialing the peer
        added_at      INTEGER NOT NULL,
        push_cursor   INTEGER NOT NULL DEFAULT 0,       -- our log position the peer has acknowledged
        pull_cursor   INTEGER NOT NULL DEFAULT 0,       -- the peer's log position we have stored up to
        last_contact  INTEGER,
        last_error    TEXT NOT NULL DEFAULT '',
        failures      INTEGER NOT NULL DEFAULT 0,       -- failed attempts in a row
        failing_since INTEGER
    );
    """,
    # 4: each profile's name as it is compared (murmur.names.name_key), so a name that another key also
    # uses is found by an index look-up. The backfill calls name_key through a function that exists only
    # while migrating (murmur/store/db.py); nothing stored depends on it.
    """
    ALTER TABLE profiles ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
    UPDATE profiles SET name_key = murmur_name_key(name) WHERE name != '';
    CREATE INDEX profiles_by_name_key ON profiles (name_key) WHERE name_key != '';
    """,
    # 5: the ids of messages that stay on this server (see murmur/store/audience/narrowing.py), filled from the log.
    CREATE_CONFINED,
    # 6: timelines by time. A message sorts at its author's clock clamped to when it arrived here
    # (``sort_at``, set at ingest by ingest.sort_time), so an old message arriving late takes its place among
    # older ones, and none can sit above the moment it arrived. received_at has been set at ingest since
    # migration 1, so existing rows get the same value new ones would have had. A plain column rather than a
    # generated one: SQLite 3.40 reads a generated column from the table row even when an index holds it.
    # Mentions and hashtags carry it too, so their timelines are one index range read in time order.
    """
    ALTER TABLE messages ADD COLUMN sort_at INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE mentions ADD COLUMN sort_at INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE hashtags ADD COLUMN sort_at INTEGER NOT NULL DEFAULT 0;
    UPDATE messages SET sort_at = min(created_at, received_at);
    UPDATE mentions SET sort_at = coalesce((SELECT m.sort_at FROM messages m WHERE m.seq = mentions.seq), 0);
    UPDATE hashtags SET sort_at = coalesce((SELECT m.sort_at FROM messages m WHERE m.seq = hashtags.seq), 0);

    -- An author's posts and boosts by time (author, home and local timelines); every post and boost by time
    -- (home's recent window); public posts by time (federated); mentions and hashtags by time. The first two
    -- also hold author and kind, so the per-author floors and the window are read from the index alone
    -- (SQLite does not count a partial index's WHERE as columns it covers).
    CREATE INDEX messages_timeline_by_time ON messages (author, sort_at, seq, kind) WHERE kind IN ('post', 'boost');
    CREATE INDEX messages_posts_by_time ON messages (sort_at, seq, author, kind) WHERE kind IN ('post', 'boost');
    CREATE INDEX messages_public_by_time ON messages (sort_at, seq) WHERE kind = 'post' AND visibility = 'public';
    CREATE INDEX mentions_by_time ON mentions (key, sort_at, seq);
    CREATE INDEX hashtags_by_time ON hashtags (tag, sort_at, seq);
    """,
    # 7: who reacted with what and who boosted, so each counts (and is told) once per person, however many
    # identical signed messages they sent: counts are of distinct (author, emoji), the same on every server
    # whatever order the messages came in. Filled from the reactions and boosts already held; notices of
    # the twins already told are withdrawn. Run again, it changes nothing.
    """
    CREATE TABLE IF NOT EXISTS tallies (
        target BLOB NOT NULL,
        kind   TEXT NOT NULL,                           -- 'reaction' | 'boost'
        author BLOB NOT NULL,
        emoji  TEXT NOT NULL,                           -- the reaction's emoji as signed; '' for a boost
        seq    INTEGER NOT NULL,                        -- the message's seq
        PRIMARY KEY (target, kind, author, emoji, seq)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS tallies_by_seq ON tallies (seq);
    INSERT OR IGNORE INTO tallies (target, kind, author, emoji, seq)
        SELECT target, kind, author,
            CASE kind WHEN 'reaction' THEN coalesce(json_extract(CAST(raw AS TEXT), '$.body.emoji'), '') ELSE '' END,
            seq
        FROM messages WHERE kind IN ('reaction', 'boost') AND target IS NOT NULL;
    DELETE FROM notices WHERE kind IN ('reaction', 'boost')
        AND seq IN (SELECT a.seq FROM tallies a WHERE NOT """
    + FIRST_TALLY
    + """);
    """,
    # 8: each kind's own tables are the kind's migrations (murmur.kinds.base.Kind.migrations), numbered per kind;
    # this records how many of each ran, as user_version does for the ones above.
    """
    CREATE TABLE kind_schema (kind TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
    """,
    # 9: when each notice was derived, as a log position, so the live stream reads notices in the order they were
    # derived, not by the seq of the message they tell of: a reply that arrived before its parent is told when the
    # parent arrives, with the reply's older seq, and a stream already past that seq still gets it. Ingest sets it
    # for each batch (murmur.store.ingest): the notice's own seq when its message is in the batch, else the
    # batch's last seq. Notices already held were told by seq, so that is their position.
    """
    ALTER TABLE notices ADD COLUMN derived_at INTEGER;
    UPDATE notices SET derived_at = seq;
    CREATE INDEX notices_by_derivation ON notices (derived_at, key);
    """,
    # 10: polls and meetups are timeline entries of their own (``Kind.shown_as``), so the time indexes the
    # timelines read hold them beside posts and boosts: a person following someone sees their new poll at home;
    # and a person's RSVPs are found without reading everything else they wrote.
    # Same names and columns, wider kinds; the timelines' kind filters repeat these lists literally, so SQLite
    # can use the partial indexes (murmur/store/timelines.py).
    """
    DROP INDEX messages_timeline_by_time;
    DROP INDEX messages_posts_by_time;
    DROP INDEX messages_public_by_time;
    CREATE INDEX messages_timeline_by_time ON messages (author, sort_at, seq, kind)
        WHERE kind IN ('post', 'boost', 'poll', 'meetup');
    CREATE INDEX messages_posts_by_time ON messages (sort_at, seq, author, kind)
        WHERE kind IN ('post', 'boost', 'poll', 'meetup');
    CREATE INDEX messages_public_by_time ON messages (sort_at, seq)
        WHERE kind IN ('post', 'poll', 'meetup') AND visibility = 'public';
    -- The meetups a person answered (their reminders, read with every first page of notifications): one short
    -- range, however many other messages they wrote.
    CREATE INDEX messages_rsvps_by_author ON messages (author, target) WHERE kind = 'rsvp';
    """,
    # 11: the trust manifest (murmur.manifest, murmur.store.trust): each peer's labels, every signed version of
    # the manifest, the scoped audiences of messages (murmur.store.audience), what peers sent beyond one, and
    # what peers answered, signed, to our pushes (receipts for deletes, notices of what they withheld).
    """
    CREATE TABLE peer_labels (
        peer  BLOB NOT NULL,
        label TEXT NOT NULL,
        PRIMARY KEY (peer, label)
    );
    CREATE TABLE manifests (
        version INTEGER PRIMARY KEY,
        digest  TEXT NOT NULL,
        text    TEXT NOT NULL,                          -- the signed TOML, as accepted
        at      INTEGER NOT NULL
    );
    CREATE TABLE receipts (                             -- what a peer answered, signed, to a push (murmur.receipts)
        message BLOB NOT NULL,
        peer    BLOB NOT NULL,
        status  TEXT NOT NULL,
        code    TEXT NOT NULL,
        reason  TEXT NOT NULL,
        sig     BLOB NOT NULL,
        at      INTEGER NOT NULL,
        PRIMARY KEY (message, peer)
    );
    CREATE TABLE audience_refusals (
        peer    BLOB NOT NULL,                          -- who sent a message beyond its audience
        id      BLOB NOT NULL,
        scope   TEXT NOT NULL,
        reason  TEXT NOT NULL,
        at      INTEGER NOT NULL,
        PRIMARY KEY (peer, id)
    );
    """
    + CREATE_SCOPED,
    # 12: the counters of the devices' public messages that came in, kept when a message is deleted, so that
    # a reader is told of the ones this server never held (murmur.store.gaps).
    CREATE_COUNTED,
    # 13: the messages a moderator of this server removed, refused whenever they come back (murmur.store.removals).
    CREATE_REMOVED,
    # 14: each device's runs of counters accounted for, so that its gaps cost the gaps, not its messages
    # (murmur.store.gaps); and the counted places of a message found by its id.
    CREATE_RUNS,
    # 15: what leans on a scoped message that does not reach a peer by itself (murmur.store.audience.adrift), so
    # the scans handing the log to a peer read it instead of walking each reply chain; filled from the log.
    CREATE_ADRIFT,
    # 16: where each peer's notice that it withheld a message sits in the log (murmur.store.receipts.note): a
    # position of its own, handed out as a message's seq is, so that a live stream resuming from a cursor gets
    # the notices kept while it was away, once each (murmur.store.live).
    """
    ALTER TABLE receipts ADD COLUMN told INTEGER;
    CREATE INDEX receipts_told ON receipts (told) WHERE told IS NOT NULL;
    """,
    # 17: what the push cursor passed that the audience rule kept from a peer for now (murmur.store.passed), asked
    # again at every push, so that it goes once the rule allows it.
    CREATE_PASSED,
    # 18: what each message not held here names (murmur.store.audience.narrowing), so that its id is narrowed by
    # a thread arriving after it was deleted or removed, as it would have been had it stayed.
    CREATE_UNHELD,
    # 19: the stored messages naming an id this server knows nothing of yet (murmur.store.audience.waiting), kept
    # from every peer and from anyone until it arrives: the rule has nothing to narrow them by; filled from the log.
    CREATE_WAITING,
    # 20: names are compared by their confusable skeleton too (murmur.names.name_key, UTS #39): each name's key
    # computed again. PostgreSQL cannot call murmur's Python: murmur.store.db runs this one there from Python.
    REKEY_NAMES,
    # 21: each profile's handle as a mention names it (murmur.mentions.handle_key), so that "@ann" finds the person
    # named Ann by an index look-up, and a handle's prefix by an index range, however many other names hold the
    # word "ann" (the full-text index ranks those, and cannot be cut short before the exact rule). Filled by
    # murmur's own Python, on PostgreSQL too (murmur.store.db).
    f"""
    ALTER TABLE profiles ADD COLUMN handle BLOB;
    {FILL_HANDLES}
    CREATE INDEX profiles_by_handle ON profiles (handle, author) WHERE handle IS NOT NULL;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
