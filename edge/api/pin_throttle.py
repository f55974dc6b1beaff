"""Failed-PIN throttling for the diary routes, applied to every client, loopback (the kiosk) included.

A PIN is the only secret guarding a diary, so guesses must be few: each client (by address) may fail
`client_max` times within `window_s`, and all clients together `global_max` times (which bounds an
attacker rotating addresses, and the kiosk, whose visitors all come from loopback). Reaching either
bound locks that key out for `base_lockout_s`, doubling with every further lockout (up to
`max_lockout_s`); a key's lockout level is forgotten after `strike_reset_s` without a failure.
Successes never reset anything (else an attacker could interleave their own PIN). While a key is
locked every attempt is refused at once with RATE_LIMITED (429 + Retry-After), the right PIN too,
before any PIN hash is computed.

A failure is a login with no matching diary, and a profile creation refused because the PIN is taken
(which would otherwise tell that this PIN opens someone's diary).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from edge.api.auth import RateLimitedError

GLOBAL_KEY = "*"


@dataclass
class _Key:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0
    strikes: int = 0
    last_failure: float = float("-inf")


class PinThrottle:
    def __init__(self, *, client_max: int = 5, global_max: int = 20, window_s: float = 300.0,
                 base_lockout_s: float = 30.0, max_lockout_s: float = 3600.0, strike_reset_s: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client_max, self.global_max, self.window_s = client_max, global_max, window_s
        self.base_lockout_s, self.max_lockout_s, self.strike_reset_s = base_lockout_s, max_lockout_s, strike_reset_s
        self._clock = clock
        self._keys: dict[str, _Key] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Raise RateLimitedError while `client` (or everyone) is locked out."""
        now = self._clock()
        with self._lock:
            wait = max(self._key(k).locked_until - now for k in (GLOBAL_KEY, client))
        if wait > 0:
            raise RateLimitedError(wait)

    def failure(self, client: str) -> None:
        """Count one failed attempt by `client`; may start a lockout (seen by the next check)."""
        now = self._clock()
        with self._lock:
            for key, bound in ((client, self.client_max), (GLOBAL_KEY, self.global_max)):
                state = self._key(key)
                if now - state.last_failure > self.strike_reset_s:
                    state.strikes = 0
                state.last_failure = now
                while state.failures and now - state.failures[0] > self.window_s:
                    state.failures.popleft()
                state.failures.append(now)
                if len(state.failures) >= bound:
                    lockout = min(self.max_lockout_s, self.base_lockout_s * 2 ** state.strikes)
                    state.locked_until = max(state.locked_until, now + lockout)
                    state.strikes += 1
                    state.failures.clear()

    def _key(self, key: str) -> _Key:
        state = self._keys.get(key)
        if state is None:
            if len(self._keys) > 10_000:  # forget idle clients: memory stays bounded
                now = self._clock()
                self._keys = {k: v for k, v in self._keys.items()
                              if k == GLOBAL_KEY or v.locked_until > now or now - v.last_failure < self.strike_reset_s}
            state = self._keys[key] = _Key()
        return state
