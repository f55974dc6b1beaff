"""Kiosk endpoints on the replay source and the diary routes (real SQLite file), over real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from edge.api.app import create_app
from edge.api.live import LiveSource, ReplayLive
from edge.errors import ErrorKind
from tests.integration.api_harness import DEMO_PHOTO, Server, api_settings, running

pytestmark = pytest.mark.skipif(not DEMO_PHOTO.exists(), reason="demo photo missing: run scripts/setup.sh")

KIOSK = "/api/v1/kiosk"
DIARY = "/api/v1/diary"
LOCATION_ONLY = {"face_field": []}


def demo_size() -> tuple[int, int]:
    """(width, height) of the demo photo (set-up decides its framing)."""
    import cv2

    h, w = cv2.imread(str(DEMO_PHOTO)).shape[:2]
    return w, h


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from edge.diary.store import DiaryStore

    diary = DiaryStore(tmp_path_factory.mktemp("diary") / "diary.sqlite3", device_secret=b"k" * 32)
    live = ReplayLive(DEMO_PHOTO, preview_size=(640, 480))
    assert isinstance(live, LiveSource)
    with running(create_app(api_settings(workers=1, queue_size=2), live=live, diary=diary)) as srv:
        yield srv
    diary.close()


def test_preview_and_status(server: Server) -> None:
    preview = httpx.get(server.base_url + KIOSK + "/preview.jpg")
    assert preview.status_code == 200 and preview.content[:3] == b"\xff\xd8\xff"
    assert preview.headers["cache-control"] == "no-store"
    status = httpx.get(server.base_url + KIOSK + "/status").json()
    w, h = demo_size()
    scale = min(1.0, 640 / w, 480 / h)  # the photo fitted into the 640x480 preview
    assert status["frame_size"] == [round(w * scale), round(h * scale)]
    assert {"face", "guidance", "gate", "fps", "last_result_id"} <= set(status)


def test_scan_returns_envelope_and_image(server: Server) -> None:
    # Location only: these tests are about the endpoints, not the analyzers (test_api.py covers those).
    scan = httpx.post(server.base_url + KIOSK + "/scan", json=LOCATION_ONLY, timeout=30).json()
    env = scan["envelope"]
    assert env["error_code"] == 0 and env["result"]["face_num"] == 1
    assert (scan["image_width"], scan["image_height"]) == demo_size()
    image = httpx.get(server.base_url + scan["image_url"])
    assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"
    assert httpx.get(server.base_url + KIOSK + "/status").json()["last_result_id"] == scan["result_id"]
    last = httpx.get(server.base_url + KIOSK + "/last").json()
    assert (last["result_id"], last["envelope"], last["fields"]) == (scan["result_id"], env, scan["fields"])
    stale = httpx.get(server.base_url + KIOSK + "/last/image.jpg?id=other")
    assert stale.json()["error_code"] == ErrorKind.NOT_FOUND.code


def test_diary_profile_scan_history_and_delete(server: Server) -> None:
    base = server.base_url
    created = httpx.post(base + DIARY + "/profiles", json={"pin": "482913"})
    assert created.status_code == 201
    profile = created.json()
    assert profile["has_pin"] is True
    taken = httpx.post(base + DIARY + "/profiles", json={"pin": "482913"})
    malformed = httpx.post(base + DIARY + "/profiles", json={"pin": "4829"})
    # A taken PIN is answered exactly like a malformed one: the answer does not say "this PIN exists".
    assert (taken.status_code, taken.json()["error_code"]) == (400, ErrorKind.INVALID_PARAMETER.code)
    assert (taken.status_code, taken.json()["error_msg"]) == (malformed.status_code, malformed.json()["error_msg"])
    assert httpx.post(base + DIARY + "/login", json={"pin": "482913"}).json()["profile_id"] == profile["profile_id"]
    assert httpx.post(base + DIARY + "/login", json={"pin": "000000"}).json()["error_code"] == ErrorKind.NOT_FOUND.code

    for _ in range(2):
        scan = httpx.post(base + KIOSK + "/scan", json={**LOCATION_ONLY, "profile_id": profile["profile_id"]},
                          timeout=30).json()
        assert scan["visit_id"]
    history = httpx.get(base + DIARY + f"/profiles/{profile['profile_id']}/history").json()
    assert len(history["visits"]) == 2
    assert history["visits"][0]["taken_at"] <= history["visits"][1]["taken_at"]

    # Delete my data: the scan image and the diary go together.
    forget = httpx.post(base + KIOSK + "/forget", json={"profile_id": profile["profile_id"]}).json()
    assert forget == {"cleared_scan": True, "deleted_profile": True, "deleted_reports": 0, "diary_available": True}
    assert httpx.get(base + KIOSK + "/last/image.jpg").status_code == 404
    assert httpx.get(base + KIOSK + "/last").status_code == 404
    gone = httpx.get(base + DIARY + f"/profiles/{profile['profile_id']}/history")
    assert (gone.status_code, gone.json()["error_code"]) == (404, ErrorKind.NOT_FOUND.code)
    assert httpx.delete(base + DIARY + f"/profiles/{profile['profile_id']}").status_code == 404


def test_profile_without_pin_and_bad_pin(server: Server) -> None:
    anon = httpx.post(server.base_url + DIARY + "/profiles").json()
    assert anon["has_pin"] is False
    assert httpx.delete(server.base_url + DIARY + f"/profiles/{anon['profile_id']}").json() == {"deleted": True}
    bad = httpx.post(server.base_url + DIARY + "/profiles", json={"pin": "12"})
    assert (bad.status_code, bad.json()["error_code"]) == (400, ErrorKind.INVALID_PARAMETER.code)
    unknown = httpx.post(server.base_url + KIOSK + "/scan", json={**LOCATION_ONLY, "profile_id": "nobody"}, timeout=30)
    assert unknown.json()["error_code"] == ErrorKind.NOT_FOUND.code


def test_without_live_source_or_diary() -> None:
    with running(create_app(api_settings(workers=1, queue_size=0))) as srv:
        assert httpx.get(srv.base_url + DIARY + "/status").json() == {"available": False}
        no_diary = httpx.post(srv.base_url + DIARY + "/profiles", json={})
        assert (no_diary.status_code, no_diary.json()["error_code"]) == (404, ErrorKind.NOT_FOUND.code)
        forget = httpx.post(srv.base_url + KIOSK + "/forget", json={})
        assert forget.json() == {"cleared_scan": False, "deleted_profile": False, "deleted_reports": 0,
                                 "diary_available": False}
        for path in ("/status", "/preview.jpg"):
            assert httpx.get(srv.base_url + KIOSK + path).json()["error_code"] == ErrorKind.NOT_FOUND.code
        assert httpx.post(srv.base_url + KIOSK + "/scan").json()["error_code"] == ErrorKind.NOT_FOUND.code
        assert httpx.get(srv.base_url + "/").status_code == 200  # the page itself still loads


def test_auto_capture_result_and_extra_status_keys() -> None:
    """A daemon LiveSource may add status keys, and may publish results the page did not ask for."""
    from edge.api.state import LastScan

    class Daemon(ReplayLive):
        def status(self) -> dict[str, object]:
            return {**super().status(), "measures": {"sharpness": 55.0}, "source": "replay"}

    app = create_app(api_settings(workers=1, queue_size=0), live=Daemon(DEMO_PHOTO))
    face = {"face_token": "0" * 32, "location": {"left": 1.0, "top": 2.0, "width": 3.0, "height": 4.0, "degree": 0},
            "skin": {"smooth": 2}, "wrinkle": {"wrinkle_num": 0, "wrinkle_types": [], "wrinkle_data": []}}
    envelope = {"error_code": 0, "error_msg": "SUCCESS", "log_id": 1, "timestamp": 1, "cached": 0,
                "result": {"face_num": 1, "face_list": [face]}}
    app.state.api.set_last_scan(LastScan("auto-1", DEMO_PHOTO.read_bytes(), *demo_size(), envelope))
    with running(app) as srv:
        status = httpx.get(srv.base_url + KIOSK + "/status").json()
        assert status["measures"] == {"sharpness": 55.0} and status["source"] == "replay"
        last = httpx.get(srv.base_url + KIOSK + "/last").json()
        assert last["result_id"] == "auto-1" and last["fields"] == ["smooth", "wrinkle"]


def test_scan_defaults_to_configured_kiosk_fields() -> None:
    settings = api_settings(workers=1, queue_size=0)
    settings = settings.model_copy(update={"capture": settings.capture.model_copy(update={"analysis_fields": []})})
    with running(create_app(settings, live=ReplayLive(DEMO_PHOTO))) as srv:
        scan = httpx.post(srv.base_url + KIOSK + "/scan", timeout=30).json()
    assert scan["fields"] == [] and scan["envelope"]["error_code"] == 0


def test_scan_with_unknown_profile_analyses_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An unknown profile_id is refused before the analysis: 404, and no result becomes the last scan."""
    from edge.diary.store import DiaryStore

    diary = DiaryStore(tmp_path / "diary.sqlite3", device_secret=b"k" * 32)
    app = create_app(api_settings(workers=1, queue_size=0), live=ReplayLive(DEMO_PHOTO), diary=diary)
    try:
        with running(app) as srv:
            before = httpx.get(srv.base_url + KIOSK + "/status").json()["last_result_id"]
            unknown = httpx.post(srv.base_url + KIOSK + "/scan", json={**LOCATION_ONLY, "profile_id": "nobody"},
                                 timeout=30)
            assert (unknown.status_code, unknown.json()["error_code"]) == (404, ErrorKind.NOT_FOUND.code)
            assert unknown.json()["result"] is None
            assert app.state.api.last_scan is None
            assert httpx.get(srv.base_url + KIOSK + "/last").status_code == 404
            assert httpx.get(srv.base_url + KIOSK + "/status").json()["last_result_id"] == before
    finally:
        diary.close()


def test_pin_brute_force_from_loopback_is_stopped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The kiosk's loopback exemption does not cover PIN guessing: after a few failed logins (or creations
    that hit a taken PIN) every attempt, the right PIN included, gets 429 RATE_LIMITED + Retry-After."""
    from edge.api.pin_throttle import PinThrottle
    from edge.diary.store import DiaryStore

    diary = DiaryStore(tmp_path / "diary.sqlite3", device_secret=b"k" * 32)
    app = create_app(api_settings(workers=1, queue_size=0), diary=diary)
    try:
        with running(app) as srv:
            base = srv.base_url + DIARY
            victim = httpx.post(base + "/profiles", json={"pin": "904217"}).json()
            bound = PinThrottle().client_max
            answers = [httpx.post(base + "/login", json={"pin": f"{guess:06d}"}) for guess in range(bound + 3)]
            codes = [a.json()["error_code"] for a in answers]
            assert codes[:bound] == [ErrorKind.NOT_FOUND.code] * bound
            assert codes[bound:] == [ErrorKind.RATE_LIMITED.code] * 3
            limited = answers[-1]
            assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
            right = httpx.post(base + "/login", json={"pin": "904217"})
            assert right.status_code == 429 and "profile_id" not in right.json()
            assert httpx.post(base + "/profiles", json={"pin": "904217"}).status_code == 429
            assert victim["has_pin"] is True
    finally:
        diary.close()


def test_creating_profiles_with_taken_pins_counts_as_failed_attempts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from edge.api.pin_throttle import PinThrottle
    from edge.diary.store import DiaryStore

    diary = DiaryStore(tmp_path / "diary.sqlite3", device_secret=b"k" * 32)
    app = create_app(api_settings(workers=1, queue_size=0), diary=diary)
    try:
        with running(app) as srv:
            base = srv.base_url + DIARY
            assert httpx.post(base + "/profiles", json={"pin": "551906"}).status_code == 201
            for _ in range(PinThrottle().client_max):
                assert httpx.post(base + "/profiles", json={"pin": "551906"}).status_code == 400
            assert httpx.post(base + "/login", json={"pin": "551906"}).status_code == 429
    finally:
        diary.close()
