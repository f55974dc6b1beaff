"""The transactional outbox: messages waiting to leave the device, in the diary's own SQLite file.

The diary writes a row in the same transaction as the visit it describes, so a visit is never stored
without its message nor a message sent for a visit that was rolled back. A publisher (edge/sync)
reads rows in `seq` order and deletes each one only after the broker acknowledged it; a crash in
between re-sends the row with the same `msg_id`, which the cloud uses to drop duplicates.

Bound (docs/payload-schema.md, "When the outbox is full"): at `max_rows` rows, inserting a visit
first deletes the oldest pending *visit* rows and counts them in `outbox_dropped_total`. Deletion
tombstones are never dropped and are always accepted, even above the bound: a person's request to
be forgotten must reach the cloud.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from edge.diary.db import connect

MessageKind = Literal["visit", "tombstone"]
DEFAULT_MAX_ROWS = 100_000


@dataclass(frozen=True)
class OutboxMessage:
    seq: int
    msg_id: str
    kind: MessageKind
    payload: bytes
    created_at: float


@dataclass(frozen=True)
class OutboxStats:
    """Numbers for /metrics and health: what waits, what was lost to the bound."""

    pending: int
    pending_tombstones: int
    dropped_total: int
    oldest_age_s: float | None
    max_rows: int


class Outbox:
    """Rows waiting for the broker. Methods are thread-safe; one instance per connection."""

    def __init__(self, conn: sqlite3.Connection, max_rows: int = DEFAULT_MAX_ROWS,
                 lock: threading.RLock | None = None) -> None:
        self._conn = conn
        self.max_rows = max_rows
        self._lock = lock or threading.RLock()

    @classmethod
    def open(cls, path: str | Path, max_rows: int = DEFAULT_MAX_ROWS) -> Outbox:
        """An outbox on its own connection to the diary file (what a publisher process uses)."""
        return cls(connect(path), max_rows)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT (ROLLBACK on any error), holding the lock throughout."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # --- writer side (inside the diary's transaction) -------------------------------------------

    def enqueue(self, conn: sqlite3.Connection, *, kind: MessageKind, msg_id: str, subject: str | None,
                payload: bytes, now: float | None = None) -> None:
        """Add a message; `conn` must be inside a transaction, which the caller commits."""
        if kind == "visit":
            self._make_room(conn)
        conn.execute(
            "INSERT INTO outbox(msg_id, kind, subject, payload, created_at) VALUES (?, ?, ?, ?, ?)",
            (msg_id, kind, subject, payload, time.time() if now is None else now),
        )

    def purge_subject(self, conn: sqlite3.Connection, subject: str) -> int:
        """Drop a subject's visit rows that have not left yet (inside the caller's transaction)."""
        return conn.execute("DELETE FROM outbox WHERE subject = ? AND kind = 'visit'", (subject,)).rowcount

    def _make_room(self, conn: sqlite3.Connection) -> None:
        excess = _meta(conn, "outbox_rows") - self.max_rows + 1
        if excess <= 0:
            return
        dropped = conn.execute(
            "DELETE FROM outbox WHERE seq IN "
            "(SELECT seq FROM outbox WHERE kind = 'visit' ORDER BY seq LIMIT ?)",
            (excess,),
        ).rowcount
        if dropped:
            conn.execute("UPDATE meta SET value = value + ? WHERE key = 'outbox_dropped_total'", (dropped,))

    # --- reader side (the publisher) -------------------------------------------------------------

    def pending(self, after_seq: int = 0, limit: int = 100) -> list[OutboxMessage]:
        """The next `limit` messages with seq > after_seq, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, msg_id, kind, payload, created_at FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [OutboxMessage(r["seq"], r["msg_id"], r["kind"], bytes(r["payload"]), r["created_at"]) for r in rows]

    def delete(self, seqs: Iterable[int]) -> int:
        """Remove acknowledged messages (one transaction for the batch); returns rows removed."""
        batch = [(seq,) for seq in seqs]
        if not batch:
            return 0
        with self.transaction() as conn:
            # rowcount sums over the batch and leaves out the counter trigger's updates.
            return conn.executemany("DELETE FROM outbox WHERE seq = ?", batch).rowcount

    def count(self) -> int:
        with self._lock:
            return _meta(self._conn, "outbox_rows")

    def stats(self, now: float | None = None) -> OutboxStats:
        with self._lock:
            row = self._conn.execute(
                "SELECT MIN(created_at) AS oldest, "
                "SUM(kind = 'tombstone') AS tombstones FROM outbox"
            ).fetchone()
            pending = _meta(self._conn, "outbox_rows")
            dropped = _meta(self._conn, "outbox_dropped_total")
        now = time.time() if now is None else now
        oldest = None if row["oldest"] is None else max(0.0, now - row["oldest"])
        return OutboxStats(pending, int(row["tombstones"] or 0), dropped, oldest, self.max_rows)


def _meta(conn: sqlite3.Connection, key: str) -> int:
    return int(conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])
