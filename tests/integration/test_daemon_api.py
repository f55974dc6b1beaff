"""The daemon behind the real API: an auto-capture becomes the page's last result (the id in
/kiosk/status matches /kiosk/last, with its image), and the Scan button analyses the live frame."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
from daemon_harness import ScriptedSource, UvicornThread, kiosk_settings, wait_for

from edge.api.app import create_app
from edge.diary.store import DiaryStore
from edge.kiosk.run import attach
from edge.kiosk.service import KioskService
from tests.kiosk_media import place_face, portrait


def test_auto_capture_reaches_the_page_and_scan_uses_the_live_frame(
        tmp_path: Path, astronaut_bgr: np.ndarray) -> None:
    frame = place_face(portrait(astronaut_bgr), (640, 480), 460, (320, 240))
    settings = kiosk_settings(tmp_path)
    diary = DiaryStore(tmp_path / "diary.sqlite3", device_secret=b"k" * 32)
    service = KioskService(settings, diary=diary, source_factory=lambda: ScriptedSource([], [], frame))
    app = create_app(settings, live=service, diary=diary, warm_up=False)
    attach(app, service)
    with UvicornThread(app) as api:
        service.start()
        try:
            get = lambda path: httpx.get(f"{api.url}/api/v1/kiosk{path}", timeout=10)  # noqa: E731
            status = wait_for(lambda: (s := get("/status").json())["last_result_id"] and s, 30.0)
            assert status["gate"] == "ready" and status["guidance"] == "ready"
            last = get("/last").json()
            assert last["result_id"] == status["last_result_id"]
            assert last["envelope"]["error_code"] == 0 and last["envelope"]["result"]["face_num"] == 1
            image = httpx.get(api.url + last["image_url"], timeout=10)
            assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"
            assert (last["image_width"], last["image_height"]) == (640, 480)

            scan = httpx.post(f"{api.url}/api/v1/kiosk/scan", json={"face_field": []}, timeout=60)
            assert scan.status_code == 200, scan.text
            assert scan.json()["envelope"]["result"]["face_num"] == 1
            assert get("/status").json()["captures"] == 1  # the Scan did not trigger another auto-capture
            exposition = httpx.get(f"{api.url}/metrics", timeout=10).text
            for series in ("skin_kiosk_tracker_fps", "skin_kiosk_frames_total", "skin_kiosk_frames_dropped_total",
                           "skin_kiosk_gate_state", "skin_kiosk_daemon_stage_seconds_bucket"):
                assert series in exposition, series
        finally:
            service.stop()
            diary.close()
