"""What may leave the device, and nothing else.

`summarize_face` reduces an analysis face dict (see shared/contract.md) to grades, counts, type
histograms and scores. It is a whitelist: a field is copied only if it is named here, so a new
analysis key never leaks by accident. No coordinates, contours, landmarks, images, base64 or
face_token survive. Every field is optional: a face analysed with any subset of `face_field`
summarises to the matching subset, and malformed values are skipped rather than raised on.

The cloud payloads (`visit_payload`, `tombstone_payload`) add a pseudonymous subject — HMAC-SHA256 of
the profile id under a per-device secret, so the same person on two kiosks cannot be linked — and the
time rounded down to the hour. docs/payload-schema.md and docs/payload.schema.json describe them.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

VISIT_SCHEMA = "skin-kiosk/visit/1"
TOMBSTONE_SCHEMA = "skin-kiosk/tombstone/1"
DEVICE_SECRET_BYTES = 32

# Allowed type values per list, from the contract; anything else is not counted.
ACNE_TYPES = range(0, 4)
SPECKLE_TYPES = range(0, 4)
WRINKLE_TYPES = range(1, 7)
PORE_TYPES = range(1, 5)
BLACKHEAD_TYPES = range(1, 4)
DARK_CIRCLE_TYPES = range(0, 3)
EYE_BAG_TYPES = range(1, 4)
ZONE_GRADES = ("0", "1", "2")
DRYOIL_ZONES = 5
_SCORE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")


# --- small, forgiving readers -------------------------------------------------------------------


def _int_in(value: Any, allowed: range) -> int | None:
    """An int from `allowed`, accepting "2" and 2.0 (clients differ), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and value in allowed else None


def _count(value: Any) -> int | None:
    return _int_in(value, range(0, 1_000_000))


def _score(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return round(min(max(float(value), 0.0), 1.0), 4)


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _histogram(values: Iterable[Any], allowed: range) -> dict[str, int]:
    """{"<type>": count} for the in-range types that occur (string keys: JSON objects need them)."""
    counts: dict[str, int] = {}
    for value in values:
        kind = _int_in(value, allowed)
        if kind is not None:
            counts[str(kind)] = counts.get(str(kind), 0) + 1
    return dict(sorted(counts.items()))


def _mean_score(items: Iterable[Mapping[str, Any]]) -> float | None:
    scores = [s for s in (_score(item.get("score")) for item in items) if s is not None]
    return round(sum(scores) / len(scores), 4) if scores else None


def _first_type(value: Any, allowed: range) -> int | None:
    """The seed's eye findings are lists of 0 or 1 grade; an empty list means 'not found'."""
    if isinstance(value, list) and value:
        return _int_in(value[0], allowed)
    return None


def _grades(value: Any, max_items: int) -> list[str] | None:
    if not isinstance(value, list) or not value:
        return None
    grades = [str(v) for v in value[:max_items] if str(v) in ZONE_GRADES]
    return grades if len(grades) == min(len(value), max_items) else None


def _drop_none(section: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in section.items() if v is not None and v != {}}


# --- per-field summaries --------------------------------------------------------------------------


def _skin(skin: Mapping[str, Any]) -> dict[str, Any]:
    return _drop_none({"color": _int_in(skin.get("color"), range(1, 7)),
                       "smooth": _int_in(skin.get("smooth"), range(1, 5))})


def _acnespotmole(asm: Mapping[str, Any]) -> dict[str, Any]:
    acne, speckle, mole = _dicts(asm.get("acne_list")), _dicts(asm.get("speckle_list")), _dicts(asm.get("mole_list"))
    return _drop_none({
        "acne_num": _count(asm.get("acne_num")),
        "acne_types": _histogram((a.get("type") for a in acne), ACNE_TYPES),
        "acne_score_mean": _mean_score(acne),
        "speckle_num": _count(asm.get("speckle_num")),
        "speckle_types": _histogram((s.get("type") for s in speckle), SPECKLE_TYPES),
        "speckle_score_mean": _mean_score(speckle),
        "mole_num": _count(asm.get("mole_num")),
        "mole_score_mean": _mean_score(mole),
    })


def _wrinkle(wrinkle: Mapping[str, Any]) -> dict[str, Any]:
    types = wrinkle.get("wrinkle_types")
    return _drop_none({
        "wrinkle_num": _count(wrinkle.get("wrinkle_num")),
        "wrinkle_types": _histogram(types if isinstance(types, list) else [], WRINKLE_TYPES),
    })


def _eyesattr(eyes: Mapping[str, Any]) -> dict[str, Any]:
    return _drop_none({
        "dark_circle_left_type": _first_type(eyes.get("dark_circle_left_type"), DARK_CIRCLE_TYPES),
        "dark_circle_right_type": _first_type(eyes.get("dark_circle_right_type"), DARK_CIRCLE_TYPES),
        "eye_bags_left_type": _first_type(eyes.get("eye_bags_left_type"), EYE_BAG_TYPES),
        "eye_bags_right_type": _first_type(eyes.get("eye_bags_right_type"), EYE_BAG_TYPES),
    })


def _blackheadpore(bp: Mapping[str, Any]) -> dict[str, Any]:
    poly = _dicts(bp.get("poly"))
    pore_types, blackhead_types = bp.get("pore_segs_type"), bp.get("blackhead_segs_type")
    return _drop_none({
        "pore_num": _count(bp.get("pore_num")),
        "pore_types": _histogram(pore_types if isinstance(pore_types, list) else [], PORE_TYPES),
        "pore_score_mean": _mean_score(p for p in poly if _int_in(p.get("class_id"), range(0, 2)) == 1),
        "blackhead_num": _count(bp.get("blackhead_num")),
        "blackhead_types": _histogram(blackhead_types if isinstance(blackhead_types, list) else [], BLACKHEAD_TYPES),
        "blackhead_score_mean": _mean_score(p for p in poly if _int_in(p.get("class_id"), range(0, 2)) == 0),
    })


def _skinquality(sq: Mapping[str, Any]) -> dict[str, Any]:
    return _drop_none({
        "skin_dryoil_check": _grades(sq.get("skin_dryoil_check"), DRYOIL_ZONES),
        "skin_sensitive_check": _grades(sq.get("skin_sensitive_check"), 1),
    })


def _extended_scores(extended: Mapping[str, Any]) -> dict[str, Any]:
    """From `extended`, only the 0–100 scores by field name and the ITA° angle (plain numbers)."""
    out: dict[str, Any] = {}
    scores = extended.get("scores")
    if isinstance(scores, Mapping):
        picked = {
            name: round(float(value), 2)
            for name, value in scores.items()
            if isinstance(name, str) and _SCORE_NAME.fullmatch(name)
            and isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and 0 <= value <= 100
        }
        if picked:
            out["scores"] = dict(sorted(picked.items()))
    ita = extended.get("ita_deg", extended.get("ita"))
    if isinstance(ita, int | float) and not isinstance(ita, bool) and math.isfinite(ita) and -90 <= ita <= 90:
        out["ita_deg"] = round(float(ita), 2)
    return out


_SECTIONS = (
    ("skin", _skin),
    ("acnespotmole", _acnespotmole),
    ("wrinkle", _wrinkle),
    ("eyesattr", _eyesattr),
    ("blackheadpore", _blackheadpore),
    ("skinquality", _skinquality),
    ("extended", _extended_scores),
)
# skinface holds only images: by design it has no summary.


def summarize_face(face: Mapping[str, Any] | None) -> dict[str, Any]:
    """The anonymous summary of one analysed face (see the module docstring)."""
    if not isinstance(face, Mapping):
        return {}
    summary: dict[str, Any] = {}
    for key, summarize in _SECTIONS:
        section = face.get(key)
        if isinstance(section, Mapping):
            reduced = summarize(section)
            if reduced:
                summary[key] = reduced
    return summary


# --- pseudonyms, time, payloads -------------------------------------------------------------------


def pseudonymize(profile_id: str, device_secret: bytes) -> str:
    """HMAC-SHA256 of the profile id: stable per device, unlinkable across devices, irreversible."""
    return hmac.new(device_secret, profile_id.encode("utf-8"), hashlib.sha256).hexdigest()


def hour_of(unix_s: float) -> str:
    """The time rounded down to the hour, ISO 8601 UTC, e.g. '2025-03-01T14:00:00Z'."""
    moment = datetime.fromtimestamp(unix_s, tz=UTC).replace(minute=0, second=0, microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:00:00Z")


def visit_payload(*, msg_id: str, device_id: str, subject: str | None, taken_at: float,
                  summary: Mapping[str, Any]) -> dict[str, Any]:
    return {"schema": VISIT_SCHEMA, "msg_id": msg_id, "kind": "visit", "device_id": device_id,
            "subject": subject, "hour": hour_of(taken_at), "summary": dict(summary)}


def tombstone_payload(*, msg_id: str, device_id: str, subject: str, requested_at: float) -> dict[str, Any]:
    return {"schema": TOMBSTONE_SCHEMA, "msg_id": msg_id, "kind": "tombstone", "device_id": device_id,
            "subject": subject, "hour": hour_of(requested_at)}


def load_or_create_device_secret(path: str | Path) -> bytes:
    """The per-device HMAC key from `path`, created (0600, 32 random bytes, hex) if missing."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = secrets.token_hex(DEVICE_SECRET_BYTES)
        # Write a private temp file, then link it into place: link() fails if the name exists, so when
        # two processes race exactly one secret wins, and nobody ever reads a half-written file.
        temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temp, path)
        except FileExistsError:
            return load_or_create_device_secret(path)
        finally:
            temp.unlink(missing_ok=True)
        return bytes.fromhex(text)
    return secret_bytes(text)


def secret_bytes(text: str) -> bytes:
    """A secret as bytes: hex if it is hex, else its UTF-8 text (operators may paste any string)."""
    text = text.strip()
    if not text:
        raise ValueError("device secret is empty")
    try:
        return bytes.fromhex(text)
    except ValueError:
        return text.encode("utf-8")
