"""Opening the diary's SQLite file: WAL mode, pragmas and schema migrations.

Both the diary (one writer in the kiosk process) and the outbox publisher (often another process)
open the same file; WAL lets the publisher read and delete outbox rows while the kiosk writes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# Each entry upgrades the schema by one version (PRAGMA user_version). Never edit a released entry:
# append a new one, so every kiosk in the field converges on the same schema.
MIGRATIONS: tuple[str, ...] = (
    # 1: profiles, visits, opt-in details, outbox with a row counter kept by triggers.
    """
    CREATE TABLE profiles (
        id          TEXT PRIMARY KEY,          -- random, the only identity the diary knows
        created_at  REAL NOT NULL,             -- unix seconds
        pin_tag     INTEGER,                   -- 16-bit keyed tag of the PIN: narrows the lookup only
        pin_hash    TEXT                       -- 'scrypt$n$r$p$salt$hash' or 'pbkdf2$iter$salt$hash'
    );
    CREATE INDEX profiles_pin_tag ON profiles(pin_tag) WHERE pin_tag IS NOT NULL;

    CREATE TABLE visits (
        id          TEXT PRIMARY KEY,          -- uuid4; also the outbox message id of its summary
        profile_id  TEXT REFERENCES profiles(id) ON DELETE CASCADE,
        device_id   TEXT NOT NULL,
        taken_at    REAL NOT NULL,             -- unix seconds, full precision (stays local)
        summary     TEXT NOT NULL              -- JSON: grades, counts, types, scores only
    );
    CREATE INDEX visits_profile_time ON visits(profile_id, taken_at);

    -- Only with the person's opt-in to change tracking: the full face dict (images, coordinates).
    CREATE TABLE visit_details (
        visit_id    TEXT PRIMARY KEY REFERENCES visits(id) ON DELETE CASCADE,
        face        TEXT NOT NULL
    );

    CREATE TABLE outbox (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,   -- drain order
        msg_id      TEXT NOT NULL UNIQUE,                -- uuid4 carried in the payload (dedup key)
        kind        TEXT NOT NULL CHECK (kind IN ('visit', 'tombstone')),
        subject     TEXT,                                -- pseudonym, to purge pending rows on delete
        payload     BLOB NOT NULL,                       -- exactly the bytes that will be published
        created_at  REAL NOT NULL
    );

    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta(key, value) VALUES ('outbox_rows', 0), ('outbox_dropped_total', 0);
    -- COUNT(*) scans the table; a trigger-kept counter makes the bound check O(1) per insert.
    CREATE TRIGGER outbox_count_insert AFTER INSERT ON outbox
        BEGIN UPDATE meta SET value = value + 1 WHERE key = 'outbox_rows'; END;
    CREATE TRIGGER outbox_count_delete AFTER DELETE ON outbox
        BEGIN UPDATE meta SET value = value - 1 WHERE key = 'outbox_rows'; END;
    """,
    # 2: per-visit concern scores (0-100, edge/shop/concerns.py) for "change since the last visit".
    # Local only: never in the outbox. `version` is the scores' definitions version (compare like only).
    """
    CREATE TABLE visit_concerns (
        visit_id    TEXT PRIMARY KEY REFERENCES visits(id) ON DELETE CASCADE,
        version     INTEGER NOT NULL,
        scores      TEXT NOT NULL              -- JSON {concern: score}
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(RuntimeError):
    """The file was written by a newer skin-kiosk; refusing to touch it beats corrupting it."""


def connect(path: str | Path, busy_timeout_s: float = 10.0) -> sqlite3.Connection:
    """Open (creating if needed) the diary file, migrated to SCHEMA_VERSION.

    The connection is in autocommit mode (isolation_level=None): callers open explicit
    `BEGIN IMMEDIATE` transactions so that the diary row and its outbox row commit together.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across application crashes in WAL mode; only power loss may drop the last
    # transactions, and the kiosk's SD card is the weaker link there anyway.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    migrate(conn)
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply pending migrations, each in its own transaction; returns the resulting version."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(f"diary schema v{version} is newer than this code (v{SCHEMA_VERSION})")
    while version < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the lock: another process may have migrated meanwhile.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version < SCHEMA_VERSION:
                for statement in _split_sql(MIGRATIONS[version]):
                    conn.execute(statement)
                version += 1
                conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return version


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (executescript would COMMIT our transaction)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return [s for s in statements if s]
