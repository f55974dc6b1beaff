"""API keys and per-key rate limits.

Keys come from `api.api_keys` and `api.api_keys_file` (one per line; a bare name is a systemd
credential). They are accepted as `X-API-Key` or, for the seed's clients, `ailabapi-api-key`.
With no key configured the API is open to loopback clients only (the server refuses to bind
elsewhere without a key; refusing remote peers here too is defence in depth). Kiosk routes (the page
on the device itself) need no key from loopback.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
import threading
import time
from collections.abc import Callable

from fastapi import Request

from edge.config import ApiConfig, read_secret
from edge.errors import ErrorKind, SkinKioskError

KEY_HEADERS = ("x-api-key", "ailabapi-api-key")
SECONDS_PER_MINUTE = 60.0


def load_api_keys(cfg: ApiConfig) -> list[str]:
    keys = [k.strip() for k in cfg.api_keys if k.strip()]
    if cfg.api_keys_file:
        text = read_secret(cfg.api_keys_file)
        keys += [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return list(dict.fromkeys(keys))


def is_loopback_client(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


class RateLimiter:
    """A token bucket per key: `per_minute` requests in a burst, refilled evenly over a minute."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.refill_per_s = per_minute / SECONDS_PER_MINUTE
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0.0 if allowed, else the seconds until the next request would be."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.refill_per_s)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.refill_per_s


class RateLimitedError(SkinKioskError):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(ErrorKind.RATE_LIMITED, f"retry in {math.ceil(retry_after_s)} s")
        self.retry_after_s = retry_after_s


class Authenticator:
    def __init__(self, keys: list[str], per_minute: int) -> None:
        self.keys = keys
        self.limiter = RateLimiter(per_minute)

    @property
    def open(self) -> bool:
        return not self.keys

    def _match(self, presented: str) -> str | None:
        for key in self.keys:
            if hmac.compare_digest(presented.encode(), key.encode()):
                return key
        return None

    def check(self, request: Request, *, loopback_exempt: bool) -> None:
        """Raises UNAUTHORIZED / RATE_LIMITED; returns when the request may go on."""
        loopback = is_loopback_client(request)
        presented = next((request.headers[h] for h in KEY_HEADERS if request.headers.get(h)), None)
        if self.open:
            if not loopback:
                raise SkinKioskError(ErrorKind.UNAUTHORIZED, "no API keys configured: loopback clients only")
            return
        if presented is None and loopback and loopback_exempt:
            return
        key = self._match(presented) if presented else None
        if key is None:
            raise SkinKioskError(ErrorKind.UNAUTHORIZED)
        wait = self.limiter.take(key)
        if wait > 0:
            raise RateLimitedError(wait)
