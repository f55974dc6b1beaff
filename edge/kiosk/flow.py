"""Flow-control pieces of the kiosk loops: a one-slot mailbox (latest frame wins), exponential
backoff for reopening a source, and a frames-per-second meter."""

from __future__ import annotations

import threading
from collections import deque

from edge.capture.base import Frame

BACKOFF_INITIAL_S = 0.5
BACKOFF_MAX_S = 8.0
FPS_WINDOW = 30  # frames over which the fps is averaged


class Backoff:
    """Exponential delays BACKOFF_INITIAL_S, x2, ... capped at BACKOFF_MAX_S; reset after a success."""

    def __init__(self, initial: float = BACKOFF_INITIAL_S, maximum: float = BACKOFF_MAX_S) -> None:
        self.initial, self.maximum = initial, maximum
        self.failures = 0

    def next_delay(self) -> float:
        delay = min(self.initial * (2 ** self.failures), self.maximum)
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0


class LatestFrame:
    """A one-slot mailbox: put() replaces, wait_newer() returns each frame at most once."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._version = 0
        self._taken = 0

    def put(self, frame: Frame) -> bool:
        """Store `frame`; True when it replaced one nobody took (a dropped frame)."""
        with self._cond:
            dropped = self._frame is not None and self._taken != self._version
            self._frame = frame
            self._version += 1
            self._cond.notify_all()
            return dropped

    def wait_newer(self, timeout: float) -> Frame | None:
        with self._cond:
            if self._taken == self._version and not self._cond.wait_for(lambda: self._taken != self._version, timeout):
                return None
            self._taken = self._version
            return self._frame

    def peek(self) -> Frame | None:
        with self._cond:
            return self._frame


class FpsMeter:
    def __init__(self, window: int = FPS_WINDOW) -> None:
        self._times: deque[float] = deque(maxlen=window)

    def tick(self, now: float) -> float:
        self._times.append(now)
        return self.value

    @property
    def value(self) -> float:
        if len(self._times) < 2 or self._times[-1] <= self._times[0]:
            return 0.0
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])
