"""`skin-kiosk serve` as a process: READY=1 after start, WATCHDOG=1 while alive, and a SIGTERM that
arrives during an auto-capture analysis loses nothing: the analysis finishes, its diary visit is
stored, STOPPING=1 is sent and the process exits 0."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
import yaml
from daemon_harness import NotifyListener, free_port, wait_for

from tests.kiosk_media import VIDEO_SIZE, place_face, portrait

REPO = Path(__file__).resolve().parents[2]
ANALYSIS_DELAY_S = 2.0
# Runs the real CLI; only Engine.analyze is slowed down (and announces itself), so the test can
# send SIGTERM while an analysis is certainly in flight.
WRAPPER = """
import sys, time, pathlib
import edge.pipeline as pipeline
marker, delay = pathlib.Path(sys.argv[1]), float(sys.argv[2])
real = pipeline.Engine.analyze
def slow(self, *args, **kwargs):
    marker.write_text("analysing")
    time.sleep(delay)
    return real(self, *args, **kwargs)
pipeline.Engine.analyze = slow
from edge.cli import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.fixture
def kiosk_dir(tmp_path: Path, astronaut_bgr: np.ndarray) -> Path:
    media = tmp_path / "media"
    media.mkdir()
    frame = place_face(portrait(astronaut_bgr), VIDEO_SIZE, 700, (VIDEO_SIZE[0] / 2, VIDEO_SIZE[1] / 2))
    cv2.imwrite(str(media / "face.png"), frame)
    return tmp_path


def test_sigterm_during_analysis_loses_nothing(kiosk_dir: Path) -> None:
    port = free_port()
    config = kiosk_dir / "config.yaml"
    config.write_text(yaml.safe_dump({
        "api": {"host": "127.0.0.1", "port": port, "workers": 1},
        "capture": {"source": "replay", "replay_path": str(kiosk_dir / "media"), "replay_fps": 20,
                    "analysis_fields": []},
        "diary": {"path": str(kiosk_dir / "diary.sqlite3")},
        "mqtt": {"enabled": False},
    }))
    marker = kiosk_dir / "analysing"
    listener = NotifyListener()
    env = {**os.environ, "NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "200000", "PYTHONUNBUFFERED": "1"}
    env.pop("WATCHDOG_PID", None)
    log = (kiosk_dir / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-c", WRAPPER, str(marker), str(ANALYSIS_DELAY_S),
                             "--config", str(config), "serve"], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "READY=1" in listener.lines() or proc.poll() is not None, 60.0)
        assert proc.poll() is None, (kiosk_dir / "serve.log").read_text()
        status = httpx.get(f"http://127.0.0.1:{port}/api/v1/kiosk/status", timeout=5).json()
        assert status["source"].startswith("replay:")
        wait_for(lambda: marker.exists() or proc.poll() is not None, 30.0)  # auto-capture started
        wait_for(lambda: listener.lines().count("WATCHDOG=1") >= 2, 5.0)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
        listener.close()
    output = (kiosk_dir / "serve.log").read_text()
    assert code == 0, output
    assert "STOPPING=1" in listener.lines()
    stopping_at = next(t for t, m in listener.messages if m == "STOPPING=1")
    assert stopping_at - sent < 1.0  # announced at once, before the analysis finished
    visits = sqlite3.connect(kiosk_dir / "diary.sqlite3").execute("SELECT count(*) FROM visits").fetchone()[0]
    assert visits == 1, output
    assert "(auto): ok" in output


def test_sigterm_stops_api_only_serve_with_exit_0(tmp_path: Path) -> None:
    """capture.enabled=false serves the API and page only; SIGTERM still ends in an orderly stop (diary
    closed, publisher context left) and exit 0, not uvicorn's re-raised signal (143)."""
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "api": {"host": "127.0.0.1", "port": port, "workers": 1},
        "diary": {"path": str(tmp_path / "diary.sqlite3")},
        "mqtt": {"enabled": False},
    }))
    env = {**os.environ, "SKIN_KIOSK_CAPTURE__ENABLED": "false", "PYTHONUNBUFFERED": "1"}
    env.pop("NOTIFY_SOCKET", None)
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "edge.cli", "--config", str(config), "serve"], cwd=REPO,
                            env=env, stdout=log, stderr=subprocess.STDOUT)

    def ready() -> bool:
        if proc.poll() is not None:
            return True
        try:
            return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, 60.0, interval=0.2)
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    assert code == 0, (tmp_path / "serve.log").read_text()
