"""Headers an error answer carries, the same for the seed endpoint's envelope (edge/api/app.py) and
the vendor tiers' (edge/api/routers/ailab.py): when to come back after 503 BUSY or 429 RATE_LIMITED."""

from __future__ import annotations

import math

from edge.api.auth import RateLimitedError
from edge.errors import ErrorKind, SkinKioskError

BUSY_RETRY_AFTER_S = 1  # an analysis takes well under a second; retrying sooner only adds load


def retry_after(exc: SkinKioskError) -> dict[str, str]:
    """`Retry-After` (whole seconds) for BUSY and for a rate-limited key (its own wait), else none."""
    if exc.kind is ErrorKind.BUSY:
        return {"Retry-After": str(BUSY_RETRY_AFTER_S)}
    if isinstance(exc, RateLimitedError):
        return {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    return {}
