"""The skin diary: pseudonymous profiles and one entry per visit, in SQLite (WAL).

A profile is a random id, optionally reachable through a PIN the person chooses (stored only as a
salted scrypt hash) or through the id itself printed as a QR code. No name, image or face embedding
is ever stored. A visit keeps the anonymous summary (edge/diary/anonymize.py); the full face dict
(images, coordinates) is kept only when the person opts in to change tracking on this device.

Each visit and its outbound message are written in one transaction, as is a profile deletion and
its tombstone. This module never talks to a broker: edge/sync drains the outbox.

    store = DiaryStore("var/diary.sqlite3", device_id="kiosk-7")
    profile = store.create_profile(pin="482193")
    store.record_visit(face, profile_id=profile.id)
    store.history(profile.id)           # oldest first, for trends
    store.delete_profile(profile.id)    # local rows gone, tombstone queued for the cloud
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from edge.diary import anonymize
from edge.diary.db import connect
from edge.diary.outbox import DEFAULT_MAX_ROWS, Outbox, OutboxStats

if TYPE_CHECKING:
    from edge.config import Settings

PIN_MIN_LEN = 6  # 10**6 numeric PINs; with the API's failed-PIN throttle guessing one is hopeless
PIN_MAX_LEN = 128
# scrypt at n=2**14, r=8 costs ~16 MiB and tens of ms on a Pi: slow for guessing, fine for a kiosk.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
PBKDF2_ITERATIONS = 300_000  # fallback when Python's OpenSSL lacks scrypt


class DiaryError(Exception):
    """Base of the diary's own errors."""


class UnknownProfileError(DiaryError, LookupError):
    """No profile has this id (never existed, or deleted)."""


class PinTakenError(DiaryError, ValueError):
    """Another profile already uses this PIN; a PIN must find exactly one diary. Callers facing the
    public must not tell this apart from InvalidPinError (it reveals that the PIN opens a diary)."""


class InvalidPinError(DiaryError, ValueError):
    """A PIN must be 6–128 printable characters."""


@dataclass(frozen=True)
class Profile:
    id: str
    created_at: float
    has_pin: bool


@dataclass(frozen=True)
class VisitRecord:
    id: str
    profile_id: str | None
    device_id: str
    taken_at: float
    summary: dict[str, Any]
    has_detail: bool = False
    metrics: dict[str, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", flatten_metrics(self.summary))


@dataclass(frozen=True)
class ConcernVisit:
    visit_id: str
    taken_at: float
    version: int  # of the concern-score definitions
    scores: dict[str, float]


def flatten_metrics(summary: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves by dotted path, e.g. {'acnespotmole.acne_num': 3, 'skin.color': 2} — a trend
    chart plots each key over visits. Grade strings ("0"/"1"/"2") count as numbers."""
    out: dict[str, float] = {}
    items: list[tuple[str, Any]] = (
        list(summary.items()) if isinstance(summary, Mapping) else list(enumerate(summary))  # type: ignore[arg-type]
    )
    for key, value in items:
        name = f"{prefix}{key}"
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            out[name] = value
        elif isinstance(value, str) and value.isdigit():
            out[name] = int(value)
        elif isinstance(value, Mapping | list):
            out.update(flatten_metrics(value, name + "."))
    return out


class DiaryStore:
    """The diary on one SQLite file. Thread-safe: one connection, one writer at a time."""

    def __init__(
        self,
        path: str | Path,
        *,
        device_id: str = "kiosk-dev",
        device_secret: bytes | None = None,
        device_secret_path: str | Path | None = None,
        outbox_max_rows: int = DEFAULT_MAX_ROWS,
        outbox_enabled: bool = True,
    ) -> None:
        """`device_secret` (bytes) wins; else it is read from `device_secret_path`, or from
        `<diary folder>/device-secret`, created there with mode 0600 on first use.
        With `outbox_enabled` False visits are not queued for the cloud; tombstones always are, so a
        deletion still reaches the cloud if sync was on before."""
        self.path = Path(path)
        self.device_id = device_id
        if device_secret is None:
            secret_path = Path(device_secret_path) if device_secret_path else self.path.parent / "device-secret"
            device_secret = anonymize.load_or_create_device_secret(secret_path)
        self._secret = device_secret
        self.outbox_enabled = outbox_enabled
        self._lock = threading.RLock()
        self._conn = connect(self.path)
        self.outbox = Outbox(self._conn, outbox_max_rows, self._lock)

    @classmethod
    def from_settings(cls, settings: Settings) -> DiaryStore:
        """The store as configured: diary.* for the file and secret, mqtt.enabled for queuing."""
        from edge.config import read_secret

        cfg = settings.diary
        secret = anonymize.secret_bytes(read_secret(cfg.device_secret_file)) if cfg.device_secret_file else None
        return cls(cfg.path, device_id=cfg.device_id, device_secret=secret,
                   outbox_max_rows=cfg.outbox_max_rows, outbox_enabled=settings.mqtt.enabled)

    def close(self) -> None:
        self.outbox.close()

    def __enter__(self) -> DiaryStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- profiles --------------------------------------------------------------------------------

    def create_profile(self, pin: str | None = None) -> Profile:
        """A new profile with a random id (print it as a QR code), optionally tied to a PIN."""
        profile_id = secrets.token_urlsafe(16)
        now = time.time()
        pin_tag = pin_hash = None
        if pin is not None:
            _check_pin(pin)
            pin_tag, pin_hash = self._pin_tag(pin), hash_pin(pin)
        with self.outbox.transaction() as conn:
            if pin is not None and self._profile_id_for_pin(conn, pin) is not None:
                raise PinTakenError("this PIN is already used by another diary; choose another")
            conn.execute("INSERT INTO profiles(id, created_at, pin_tag, pin_hash) VALUES (?, ?, ?, ?)",
                         (profile_id, now, pin_tag, pin_hash))
        return Profile(profile_id, now, pin is not None)

    def get_profile(self, profile_id: str) -> Profile | None:
        with self._lock:
            row = self._conn.execute("SELECT id, created_at, pin_hash FROM profiles WHERE id = ?",
                                     (profile_id,)).fetchone()
        return None if row is None else Profile(row["id"], row["created_at"], row["pin_hash"] is not None)

    def find_profile_by_pin(self, pin: str) -> Profile | None:
        if not isinstance(pin, str) or not PIN_MIN_LEN <= len(pin) <= PIN_MAX_LEN:
            return None
        with self._lock:
            profile_id = self._profile_id_for_pin(self._conn, pin)
        return None if profile_id is None else self.get_profile(profile_id)

    def _pin_tag(self, pin: str) -> int:
        # A keyed 16-bit tag picks the few candidate rows, so a lookup verifies ~1 scrypt hash
        # instead of one per profile. 16 bits (and the key) reveal almost nothing about the PIN.
        digest = hmac.new(self._secret, b"pin-tag:" + pin.encode("utf-8"), hashlib.sha256).digest()
        return int.from_bytes(digest[:2], "big")

    def _profile_id_for_pin(self, conn: Any, pin: str) -> str | None:
        rows = conn.execute("SELECT id, pin_hash FROM profiles WHERE pin_tag = ?", (self._pin_tag(pin),)).fetchall()
        for row in rows:
            if verify_pin(pin, row["pin_hash"]):
                return str(row["id"])
        return None

    # --- visits ----------------------------------------------------------------------------------

    def record_visit(
        self,
        face: Mapping[str, Any],
        profile_id: str | None = None,
        device_id: str | None = None,
        opt_in_tracking: bool = False,
        taken_at: float | None = None,
        concerns: Mapping[str, float] | None = None,
        concerns_version: int = 0,
    ) -> VisitRecord:
        """Store one analysed face as a visit and queue its anonymous summary, atomically.

        `opt_in_tracking` keeps the full face dict (minus face_token) on this device for change
        tracking; it needs a profile, since changes are tracked for someone. `concerns` (0-100 concern
        scores of definitions `concerns_version`) are kept on this device only, for change since the
        last visit; they are not part of the summary that may leave it.
        """
        if opt_in_tracking and profile_id is None:
            raise ValueError("opt_in_tracking needs a profile_id")
        visit_id = str(uuid.uuid4())
        device_id = device_id or self.device_id
        taken_at = time.time() if taken_at is None else taken_at
        summary = anonymize.summarize_face(face)
        summary_json = json.dumps(summary, separators=(",", ":"))
        with self.outbox.transaction() as conn:
            if profile_id is not None and conn.execute(
                "SELECT 1 FROM profiles WHERE id = ?", (profile_id,)
            ).fetchone() is None:
                raise UnknownProfileError(profile_id)
            conn.execute("INSERT INTO visits(id, profile_id, device_id, taken_at, summary) VALUES (?, ?, ?, ?, ?)",
                         (visit_id, profile_id, device_id, taken_at, summary_json))
            if opt_in_tracking:
                detail = {k: v for k, v in face.items() if k != "face_token"}
                conn.execute("INSERT INTO visit_details(visit_id, face) VALUES (?, ?)",
                             (visit_id, json.dumps(detail, separators=(",", ":"))))
            if concerns:
                conn.execute("INSERT INTO visit_concerns(visit_id, version, scores) VALUES (?, ?, ?)",
                             (visit_id, concerns_version, json.dumps(dict(concerns), separators=(",", ":"))))
            if self.outbox_enabled:
                subject = anonymize.pseudonymize(profile_id, self._secret) if profile_id else None
                payload = anonymize.visit_payload(msg_id=visit_id, device_id=device_id, subject=subject,
                                                  taken_at=taken_at, summary=summary)
                self.outbox.enqueue(conn, kind="visit", msg_id=visit_id, subject=subject,
                                    payload=_encode(payload), now=taken_at)
        return VisitRecord(visit_id, profile_id, device_id, taken_at, summary, opt_in_tracking)

    def history(self, profile_id: str, limit: int | None = None) -> list[VisitRecord]:
        """A profile's visits, oldest first (the last `limit` if given); empty if none or unknown."""
        query = ("SELECT v.id, v.profile_id, v.device_id, v.taken_at, v.summary, d.visit_id IS NOT NULL AS has_detail "
                 "FROM visits v LEFT JOIN visit_details d ON d.visit_id = v.id "
                 "WHERE v.profile_id = ? ORDER BY v.taken_at DESC, v.rowid DESC")
        params: tuple[Any, ...] = (profile_id,)
        if limit is not None:
            query += " LIMIT ?"
            params += (limit,)
        with self._lock:
            rows = self._conn.execute(query, params).fetchall()
        return [VisitRecord(r["id"], r["profile_id"], r["device_id"], r["taken_at"], json.loads(r["summary"]),
                            bool(r["has_detail"])) for r in reversed(rows)]

    def concern_history(self, profile_id: str, limit: int | None = None) -> list[ConcernVisit]:
        """A profile's visits that kept concern scores, newest first (all, or at most `limit`)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT v.id, v.taken_at, c.version, c.scores FROM visits v JOIN visit_concerns c ON c.visit_id = v.id "
                "WHERE v.profile_id = ? ORDER BY v.taken_at DESC, v.rowid DESC LIMIT ?",
                (profile_id, -1 if limit is None else limit)).fetchall()
        return [ConcernVisit(r["id"], r["taken_at"], r["version"], json.loads(r["scores"])) for r in rows]

    def visit_detail(self, visit_id: str) -> dict[str, Any] | None:
        """The opted-in full face dict of a visit, if it was kept."""
        with self._lock:
            row = self._conn.execute("SELECT face FROM visit_details WHERE visit_id = ?", (visit_id,)).fetchone()
        return None if row is None else json.loads(row["face"])

    # --- delete my data --------------------------------------------------------------------------

    def delete_profile(self, profile_id: str) -> bool:
        """Delete the profile, its visits and details, drop its unsent visit messages and queue a
        deletion tombstone — all in one transaction. False if there was no such profile."""
        now = time.time()
        subject = anonymize.pseudonymize(profile_id, self._secret)
        with self.outbox.transaction() as conn:
            # ON DELETE CASCADE removes visits and visit_details with the profile.
            if conn.execute("DELETE FROM profiles WHERE id = ?", (profile_id,)).rowcount == 0:
                return False
            self.outbox.purge_subject(conn, subject)
            msg_id = str(uuid.uuid4())
            payload = anonymize.tombstone_payload(msg_id=msg_id, device_id=self.device_id, subject=subject,
                                                  requested_at=now)
            self.outbox.enqueue(conn, kind="tombstone", msg_id=msg_id, subject=subject,
                                payload=_encode(payload), now=now)
        return True

    # --- metrics ---------------------------------------------------------------------------------

    def outbox_stats(self) -> OutboxStats:
        return self.outbox.stats()


def _encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _check_pin(pin: str) -> None:
    if not isinstance(pin, str) or not PIN_MIN_LEN <= len(pin) <= PIN_MAX_LEN or not pin.isprintable() \
            or not pin.strip():
        raise InvalidPinError(f"a PIN must be {PIN_MIN_LEN}–{PIN_MAX_LEN} printable characters")


def hash_pin(pin: str) -> str:
    """A salted, slow hash of the PIN ('scrypt$n$r$p$salt$hash'; pbkdf2 where scrypt is missing)."""
    salt = secrets.token_bytes(16)
    if hasattr(hashlib, "scrypt"):
        digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
        return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, PBKDF2_ITERATIONS)
    return f"pbkdf2${PBKDF2_ITERATIONS}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str | None) -> bool:
    if not stored:
        return False
    parts = stored.split("$")
    try:
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
            salt, expected = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
            digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected))
        elif parts[0] == "pbkdf2" and len(parts) == 4:
            salt, expected = bytes.fromhex(parts[2]), bytes.fromhex(parts[3])
            digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, int(parts[1]))
        else:
            return False
    except ValueError:
        return False
    return hmac.compare_digest(digest, expected)
