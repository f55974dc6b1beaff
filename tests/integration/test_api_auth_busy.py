"""API keys (config and credential file, both headers), the loopback kiosk exemption, per-key rate
limits, and back-pressure: a full queue answers 503 BUSY with Retry-After at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from edge.api.app import create_app
from edge.api.live import ReplayLive
from edge.errors import ErrorKind
from tests.integration.api_harness import DEMO_PHOTO, GatedEngine, Server, api_settings, running

pytestmark = pytest.mark.skipif(not DEMO_PHOTO.exists(), reason="demo photo missing: run scripts/setup.sh")

ANALYZE = "/api/v1/skin/analyze"
RATE = 3
BUSY_DEADLINE_S = 0.5  # "immediately": far below one analysis on a loaded machine


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    keys_file = tmp_path_factory.mktemp("creds") / "api-keys"
    keys_file.write_text("# one key per line\nfile-key\n")
    settings = api_settings(api_keys=["config-key", "other-key"], api_keys_file=str(keys_file),
                            rate_limit_per_minute=RATE, workers=1, queue_size=2)
    with running(create_app(settings, live=ReplayLive(DEMO_PHOTO))) as srv:
        yield srv


def code_of(response: httpx.Response) -> int:
    return int(response.json()["error_code"])


def test_missing_or_wrong_key(keyed: Server) -> None:
    for headers in ({}, {"X-API-Key": "nope"}, {"ailabapi-api-key": "nope"}):
        response = httpx.post(keyed.base_url + ANALYZE, headers=headers)
        assert (response.status_code, code_of(response)) == (401, ErrorKind.UNAUTHORIZED.code)
    assert httpx.get(keyed.base_url + "/healthz").status_code == 200  # probes stay open


def test_keys_from_config_file_and_both_headers(keyed: Server) -> None:
    photo = DEMO_PHOTO.read_bytes()
    for headers in ({"X-API-Key": "config-key"}, {"ailabapi-api-key": "file-key"}):
        response = httpx.post(keyed.base_url + "/face/effect/skin_analyze", headers=headers,
                              files={"image": ("a.jpg", photo, "image/jpeg")}, timeout=30)
        assert response.status_code == 200 and code_of(response) == 0


def test_kiosk_routes_need_no_key_from_loopback(keyed: Server) -> None:
    assert httpx.get(keyed.base_url + "/").status_code == 200
    assert httpx.get(keyed.base_url + "/api/v1/kiosk/status").status_code == 200
    assert httpx.get(keyed.base_url + "/api/v1/kiosk/preview.jpg").headers["content-type"] == "image/jpeg"
    assert httpx.get(keyed.base_url + "/metrics").status_code == 200


def test_rate_limit_per_key(keyed: Server) -> None:
    headers = {"X-API-Key": "other-key"}
    codes = [code_of(httpx.post(keyed.base_url + ANALYZE, headers=headers)) for _ in range(RATE)]
    assert codes == [ErrorKind.NO_IMAGE.code] * RATE  # authenticated, counted
    limited = httpx.post(keyed.base_url + ANALYZE, headers=headers)
    assert (limited.status_code, code_of(limited)) == (429, ErrorKind.RATE_LIMITED.code)
    assert int(limited.headers["Retry-After"]) >= 1
    # Another key has its own budget.
    assert code_of(httpx.post(keyed.base_url + ANALYZE, headers={"X-API-Key": "config-key"})) != \
        ErrorKind.RATE_LIMITED.code


# --- back-pressure ------------------------------------------------------------------------------


@pytest.mark.parametrize("queue_size", [0, 1])
def test_full_queue_answers_503_busy_at_once(queue_size: int) -> None:
    GatedEngine.gate.clear()
    photo = DEMO_PHOTO.read_bytes()
    settings = api_settings(workers=1, queue_size=queue_size, cache_size=0)
    app = create_app(settings, engine_factory=GatedEngine)
    pool = app.state.api.pool
    with running(app) as srv:
        results: list[httpx.Response] = []

        def slow_request() -> None:
            results.append(httpx.post(srv.base_url + ANALYZE, files={"image": ("a.jpg", photo, "image/jpeg")},
                                      timeout=30))

        holders = [threading.Thread(target=slow_request) for _ in range(1 + queue_size)]
        for t in holders:
            t.start()
        deadline = time.monotonic() + 10
        while (pool.running, pool.queue_depth) != (1, queue_size) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (pool.running, pool.queue_depth) == (1, queue_size)
        if queue_size:
            assert f"skin_kiosk_queue_depth {queue_size}.0" in httpx.get(srv.base_url + "/metrics").text

        t0 = time.monotonic()
        busy = httpx.post(srv.base_url + ANALYZE, files={"image": ("a.jpg", photo, "image/jpeg")}, timeout=30)
        elapsed = time.monotonic() - t0
        assert (busy.status_code, code_of(busy)) == (503, ErrorKind.BUSY.code)
        assert busy.headers["Retry-After"] == "1"
        assert elapsed < BUSY_DEADLINE_S, f"busy answer took {elapsed:.2f} s"

        GatedEngine.gate.set()
        for t in holders:
            t.join(30)
        assert [r.status_code for r in results] == [200] * len(holders)
        # Capacity is back once the slow jobs are done.
        assert httpx.post(srv.base_url + ANALYZE, files={"image": ("a.jpg", photo, "image/jpeg")},
                          timeout=30).status_code == 200


def test_keys_file_missing_is_a_clear_startup_error(tmp_path: Path) -> None:
    from edge.config import ConfigError

    with pytest.raises(ConfigError, match="cannot read secret"):
        create_app(api_settings(api_keys_file=str(tmp_path / "absent")))
