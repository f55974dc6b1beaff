"""sd_notify without libsystemd: one datagram per message to $NOTIFY_SOCKET.

`Type=notify` units learn readiness (READY=1), liveness (WATCHDOG=1, at least every WatchdogSec) and
an orderly stop (STOPPING=1) this way. Outside systemd ($NOTIFY_SOCKET unset) every call is a no-op.
A name starting with '@' is an abstract-namespace socket (leading NUL byte). `Heartbeats` records
when each daemon loop last made progress; `SystemdWatchdog` pings only while none is stale.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

DEFAULT_PING_INTERVAL_S = 5.0  # when systemd set no watchdog: still ping (harmless) for visibility
JOIN_TIMEOUT_S = 5.0


class Notifier:
    def __init__(self, socket_path: str | None = None) -> None:
        self.address: str | bytes | None = None
        if socket_path:
            self.address = b"\0" + socket_path[1:].encode() if socket_path.startswith("@") else socket_path
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Notifier:
        env = os.environ if env is None else env
        return cls(env.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *fields: str) -> bool:
        """Send `fields` joined by newlines as one datagram; False (logged) when it could not be sent."""
        if self.address is None:
            return False
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                    self._sock.setblocking(False)  # never let a full socket block a heartbeat
                self._sock.sendto("\n".join(fields).encode(), self.address)
                return True
            except OSError as exc:
                log.warning("sd_notify %s failed: %s", fields, exc)
                return False

    def ready(self, status: str = "") -> bool:
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self, status: str = "") -> bool:
        return self.send("STOPPING=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


def watchdog_interval(env: Mapping[str, str] | None = None) -> float | None:
    """Seconds between pings: half of WatchdogSec ($WATCHDOG_USEC), as sd_watchdog_enabled advises;
    None when systemd asked for no watchdog (or asked another process: $WATCHDOG_PID)."""
    env = os.environ if env is None else env
    usec = env.get("WATCHDOG_USEC")
    pid = env.get("WATCHDOG_PID")
    if not usec or (pid and pid.isdigit() and int(pid) != os.getpid()):
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 2e6 if value > 0 else None


class Heartbeats:
    """Named loops report `beat(name)`; `stale()` lists those silent for longer than their limit."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: dict[str, float] = {}
        self._limit: dict[str, float] = {}
        self._lock = threading.Lock()

    def register(self, name: str, max_silence_s: float) -> None:
        with self._lock:
            self._limit[name] = max_silence_s
            self._last[name] = self._clock()

    def beat(self, name: str) -> None:
        self._last[name] = self._clock()  # a dict store is atomic: no lock on the hot path

    def stale(self) -> list[str]:
        now = self._clock()
        with self._lock:
            return [n for n, limit in self._limit.items() if now - self._last.get(n, 0.0) > limit]

    def ages(self) -> dict[str, float]:
        now = self._clock()
        return {n: round(now - t, 3) for n, t in self._last.items()}


class SystemdWatchdog:
    """READY=1 once, WATCHDOG=1 every interval while `alive()` holds, STOPPING=1 at the end."""

    def __init__(self, notifier: Notifier, alive: Callable[[], bool], interval_s: float | None = None) -> None:
        self.notifier = notifier
        self.alive = alive
        self.interval_s = interval_s or watchdog_interval() or DEFAULT_PING_INTERVAL_S
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.missed = 0

    def start(self, status: str = "") -> None:
        self.notifier.ready(status)
        self._thread = threading.Thread(target=self._run, name="kiosk-watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            if self.alive():
                self.notifier.watchdog()
            else:
                self.missed += 1  # no ping: systemd kills and restarts us after WatchdogSec
                log.error("watchdog: a kiosk loop is stuck; not pinging")

    def stop(self) -> None:
        """Stop pinging (without telling systemd anything)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_S)

    def stopping(self, status: str = "") -> None:
        self.stop()
        self.notifier.stopping(status)
