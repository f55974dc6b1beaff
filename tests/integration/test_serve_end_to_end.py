"""The product end to end, as `scripts/run.sh` starts it: `skin-kiosk serve` in its own process with
capture on the replay source, the API and page, the diary, and the MQTT publisher against a real
mosquitto. A person scans into their diary profile; the anonymised visit reaches the broker; SIGTERM
stops everything with exit 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import httpx
import pytest
import yaml

from tests.integration.mqtt_harness import Collector, validate_schema, wait_until, write_kiosk_config

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo" / "astronaut.jpg"
START_TIMEOUT_S = 60.0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def kiosk_config(tmp_path: Path, broker) -> Path:
    path = write_kiosk_config(tmp_path / "kiosk", broker.port)
    config = yaml.safe_load(path.read_text())
    replay = tmp_path / "replay"
    replay.mkdir()
    if not DEMO.exists():
        pytest.fail("data/demo/astronaut.jpg missing: scripts/setup.sh puts it in place")
    cv2.imwrite(str(replay / "frame.jpg"), cv2.imread(str(DEMO)))
    config["capture"] = {"source": "replay", "replay_path": str(replay), "analysis_fields": ["color", "smooth"]}
    path.write_text(yaml.safe_dump(config))
    return path


def test_serve_scan_into_diary_reaches_broker_and_stops_cleanly(kiosk_config: Path, broker, payload_schema):
    port = _free_port()
    collector = Collector(broker.port).start()
    env = {**os.environ, "SKIN_KIOSK_CONFIG": str(kiosk_config)}
    proc = subprocess.Popen([sys.executable, "-m", "edge.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        def ready() -> bool:
            try:
                return httpx.get(base + "/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return proc.poll() is not None

        assert wait_until(ready, START_TIMEOUT_S) and proc.poll() is None, "serve did not become ready"
        assert httpx.get(base + "/", timeout=5).status_code == 200
        profile = httpx.post(base + "/api/v1/diary/profiles", json={}, timeout=5).json()["profile_id"]
        scan = httpx.post(base + "/api/v1/kiosk/scan", json={"profile_id": profile}, timeout=60).json()
        assert scan["visit_id"] and scan["envelope"]["error_code"] == 0
        face = scan["envelope"]["result"]["face_list"][0]
        assert 1 <= face["skin"]["color"] <= 6 and 1 <= face["skin"]["smooth"] <= 4

        def visit_of_profile() -> bool:
            return any(p.get("subject") for p in collector.payloads("visit"))

        assert wait_until(visit_of_profile, 20), "the profile's visit never reached the broker"
        for received in collector.on("visit"):
            text = received.payload.decode()
            assert "face_token" not in text and profile not in text  # pseudonymised, no token
            validate_schema(json.loads(text), payload_schema)
        history = httpx.get(f"{base}/api/v1/diary/profiles/{profile}/history", timeout=5).json()
        assert len(history["visits"]) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        collector.close()
    assert proc.returncode == 0, out.decode(errors="replace")[-2000:]
