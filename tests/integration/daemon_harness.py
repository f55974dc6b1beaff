"""Helpers for the kiosk daemon tests: settings on tmp paths, scripted sources, an sd_notify listener,
a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from edge.capture.base import Frame, FrameTimeout, SourceError
from edge.config import Settings, load_settings


def kiosk_settings(tmp_path: Path, **capture: Any) -> Settings:
    # analysis_fields []: face_token + location. These tests are about the daemon, not the analyzers.
    cap = {"source": "replay", "replay_fps": 25.0, "frame_timeout_s": 0.5, "analysis_fields": [], **capture}
    return load_settings(overrides={"capture": cap, "diary": {"path": str(tmp_path / "diary.sqlite3")},
                                    "mqtt": {"enabled": False}})


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ScriptedSource:
    """A fake camera following a shared script of behaviours, one per open():
    'fail' (open raises), 'ok:N' (N frames then the read raises), 'stall' (reads time out),
    'ok' (frames forever), 'block' (frames until `blocked` is set, then read hangs, ignoring its timeout)."""

    def __init__(self, script: list[str], opens: list[float], frame: np.ndarray, fps: float = 50.0,
                 blocked: threading.Event | None = None, release: threading.Event | None = None) -> None:
        self.name = "scripted"
        self.script, self.opens, self.frame = script, opens, frame
        self.period = 1.0 / fps
        self.blocked = blocked or threading.Event()
        self.release = release or threading.Event()
        self.mode = "ok"
        self.left = -1
        self.seq = 0

    def open(self) -> None:
        self.opens.append(time.monotonic())
        self.mode = self.script.pop(0) if self.script else "ok"
        if self.mode == "fail":
            raise SourceError("scripted: camera not found")
        if self.mode.startswith("ok:"):
            self.left = int(self.mode[3:])

    def read(self, timeout: float) -> Frame:
        if self.mode == "stall":
            time.sleep(timeout)
            raise FrameTimeout("scripted: stalled")
        if self.mode == "block" and self.blocked.is_set():
            self.release.wait()  # a driver stuck in the kernel: the timeout is not honoured
            raise SourceError("scripted: released")
        if self.left == 0:
            raise SourceError("scripted: USB disconnect")
        self.left -= 1
        time.sleep(self.period)
        self.seq += 1
        return Frame(main=self.frame, lores=self.frame, ts=time.monotonic(), seq=self.seq)

    def close(self) -> None:
        pass


class NotifyListener:
    """A unix datagram socket standing in for systemd's $NOTIFY_SOCKET; collects (time, message)."""

    def __init__(self) -> None:
        # Short path: AF_UNIX paths are limited to ~107 bytes, pytest's tmp_path can be longer.
        self.dir = tempfile.mkdtemp(prefix="sdn-", dir="/tmp")
        self.path = str(Path(self.dir) / "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.05)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            for line in data.decode().splitlines():
                self.messages.append((time.monotonic(), line))

    def lines(self, since: float = 0.0, until: float = float("inf")) -> list[str]:
        return [m for t, m in list(self.messages) if since <= t <= until]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1.0)
        self.sock.close()
        Path(self.path).unlink(missing_ok=True)
        Path(self.dir).rmdir()


class UvicornThread:
    """The API app under a real uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        wait_for(lambda: self.server.started, 15.0)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10.0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
