"""The seed's response envelope around a result or an error (see shared contract)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from edge.errors import SkinKioskError

SUCCESS_MSG = "SUCCESS"


def new_log_id() -> int:
    """A unique-per-request id (random 63-bit integer, like the seed's numeric log_id)."""
    return secrets.randbits(62) + 1


def success(face_list: list[dict[str, Any]], *, log_id: int | None = None, cached: bool = False) -> dict[str, Any]:
    return {
        "error_code": 0,
        "error_msg": SUCCESS_MSG,
        "log_id": log_id if log_id is not None else new_log_id(),
        "timestamp": int(time.time()),
        "cached": 1 if cached else 0,
        "result": {"face_num": len(face_list), "face_list": face_list},
    }


def failure(error: SkinKioskError, *, log_id: int | None = None) -> dict[str, Any]:
    return {
        "error_code": error.error_code,
        "error_msg": error.error_msg,
        "log_id": log_id if log_id is not None else new_log_id(),
        "timestamp": int(time.time()),
        "cached": 0,
        "result": None,
    }
