"""A source that raises or stalls is reopened with backoff while the API keeps serving; the systemd
watchdog pings only while every loop is alive (sd_notify datagrams read from our own socket)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from daemon_harness import NotifyListener, ScriptedSource, UvicornThread, kiosk_settings, wait_for

from edge.kiosk.flow import Backoff
from edge.kiosk.notify import Heartbeats, Notifier, SystemdWatchdog, watchdog_interval
from edge.kiosk.service import KioskService
from tests.kiosk_media import place_face, portrait

FAST_BACKOFF = (0.1, 0.4)


@pytest.fixture(scope="module")
def good_frame(astronaut_bgr: np.ndarray) -> np.ndarray:
    return place_face(portrait(astronaut_bgr), (640, 480), 460, (320, 240))


def test_raising_and_stalling_source_is_reopened_with_backoff_while_api_serves(
        tmp_path: Path, good_frame: np.ndarray) -> None:
    from edge.api.app import create_app

    script = ["fail", "fail", "ok:10", "stall", "fail", "ok"]
    opens: list[float] = []
    settings = kiosk_settings(tmp_path, frame_timeout_s=0.3)
    service = KioskService(settings, source_factory=lambda: ScriptedSource(script, opens, good_frame),
                           backoff=Backoff(*FAST_BACKOFF), fields=[])
    service.auto_capture = False
    codes: list[int] = []
    guidance: list[str] = []
    with UvicornThread(create_app(settings, live=service, warm_up=False)) as api:
        service.start()
        try:
            # While the camera misbehaves the API answers every poll (the capture thread is separate).
            deadline = time.monotonic() + 15
            while len(opens) < 6 and time.monotonic() < deadline:
                polled = httpx.get(f"{api.url}/api/v1/kiosk/status", timeout=2)
                codes.append(polled.status_code)
                guidance.append(polled.json()["guidance"])
                codes.append(httpx.get(f"{api.url}/healthz", timeout=2).status_code)
                time.sleep(0.05)
            wait_for(lambda: service.status()["source_state"] == "ok", 5.0)
            frames_then = service.status()["frames"]
            wait_for(lambda: service.status()["frames"] > frames_then + 5, 5.0)  # streaming again
            status = httpx.get(f"{api.url}/api/v1/kiosk/status", timeout=2).json()
            preview = httpx.get(f"{api.url}/api/v1/kiosk/preview.jpg", timeout=2)
        finally:
            service.stop()
    assert codes and set(codes) == {200}
    assert "camera unavailable" in guidance  # the page tells the person while the camera is reopened
    assert len(opens) == 6 and service.reopens == 5
    gaps = np.diff(opens)
    # fail, fail: 0.1 then 0.2 s; the 10 good frames reset the backoff; stall: 0.3 s timeout + 0.1 s;
    # fail: 0.2 s. Each gap is at least its backoff delay.
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19 and gaps[1] > gaps[0]
    assert gaps[3] >= 0.3 + 0.09  # the stalled read waited its timeout before giving up
    assert status["source_state"] == "ok" and status["source_reopens"] == 5
    assert status["gate"] in {"moving", "ready"} and status["face"] is not None
    assert preview.status_code == 200 and preview.content[:2] == b"\xff\xd8"


def test_watchdog_pings_only_while_capture_is_alive(tmp_path: Path, good_frame: np.ndarray) -> None:
    listener = NotifyListener()
    blocked, release = threading.Event(), threading.Event()
    settings = kiosk_settings(tmp_path, frame_timeout_s=0.3)
    service = KioskService(settings, backoff=Backoff(*FAST_BACKOFF), fields=[],
                           source_factory=lambda: ScriptedSource(["block"], [], good_frame, blocked=blocked,
                                                                 release=release))
    service.auto_capture = False
    watchdog = SystemdWatchdog(Notifier(listener.path), service.alive, interval_s=0.1)
    try:
        service.start()
        watchdog.start("test")
        wait_for(lambda: listener.lines().count("WATCHDOG=1") >= 5, 5.0)
        assert listener.lines()[0] == "READY=1"
        assert service.alive()

        blocked.set()  # the capture thread now hangs inside read()
        stuck_at = time.monotonic()
        wait_for(lambda: not service.alive(), 5.0)
        assert "capture" in service.heartbeats.stale()
        quiet_from = time.monotonic() + 0.15  # a ping already in flight may still arrive
        time.sleep(0.8)
        assert listener.lines(since=quiet_from).count("WATCHDOG=1") == 0
        assert time.monotonic() - stuck_at < 4.0  # detected within the capture loop's stall limit
        assert watchdog.missed >= 3
    finally:
        watchdog.stopping("bye")
        release.set()
        service.stop()
    wait_for(lambda: "STOPPING=1" in listener.lines(), 2.0)
    listener.close()


def test_notifier_and_interval_from_the_environment() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "20000000"}) == 10.0
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}) is None  # not for us
    assert not Notifier.from_env({}).enabled and not Notifier.from_env({}).ready()
    assert Notifier("@abstract-name").address == b"\0abstract-name"


def test_heartbeats() -> None:
    now = [0.0]
    beats = Heartbeats(clock=lambda: now[0])
    beats.register("capture", 1.0)
    beats.register("tracking", 5.0)
    now[0] = 2.0
    assert beats.stale() == ["capture"]
    beats.beat("capture")
    assert beats.stale() == []
