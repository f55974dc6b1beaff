"""The kiosk page in Debian's Chromium (headless, via Playwright): loads offline, shows the replay
preview with guidance, Scan -> results screen with the location overlay drawn; delete my data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.api.app import create_app
from edge.api.server import replay_live
from tests.e2e.conftest import ARTIFACTS, CHROMIUM, TIMEOUT_MS
from tests.integration.api_harness import DEMO_PHOTO, Server, api_settings, running

# True if the face-box colour is on the result canvas near the middle of the box's left edge.
BOX_EDGE_IS_GREEN_JS = """() => {
        const c = document.getElementById('result-canvas');
        const [x, y, w, h] = JSON.parse(c.dataset.box);
        const d = c.getContext('2d').getImageData(Math.round(x) - 3, Math.round(y + h / 2) - 3, 7, 7).data;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i + 1] > 170 && d[i] < 140 && d[i + 2] < 150) return true;
        }
        return false;
}"""

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed (scripts/system_deps.sh)"),
    pytest.mark.skipif(not DEMO_PHOTO.exists(), reason="demo photo missing: run scripts/setup.sh"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from edge.diary.store import DiaryStore

    settings = api_settings(workers=1, queue_size=2)
    diary = DiaryStore(tmp_path_factory.mktemp("diary") / "diary.sqlite3", device_secret=b"x" * 32)
    with running(create_app(settings, live=replay_live(settings), diary=diary)) as srv:
        yield srv
    diary.close()


def _shot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))  # type: ignore[attr-defined]
    return path


def test_scan_shows_results_with_location_overlay(server: Server, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    remote: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((server.base_url, "data:", "blob:")) else remote.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(TIMEOUT_MS)

    page.goto(server.base_url + "/")
    page.wait_for_selector("body[data-ready='1']")
    # The preview shows a real frame, and the replay's face is found -> "ready" guidance.
    page.wait_for_function("document.getElementById('preview').naturalWidth > 0")
    page.wait_for_selector("#guidance[data-guidance='ready']")
    _shot(page, "kiosk_live.png")

    page.click("#btn-scan")
    page.wait_for_selector("#screen-results.active")
    page.wait_for_function("(document.getElementById('result-canvas').dataset.layers || '').includes('location')")
    assert page.locator(".card[data-field='location']").count() == 1
    assert _box_edge_is_green(page), "no face-box colour on the result canvas"
    shot = _shot(page, "kiosk_results.png")
    assert shot.stat().st_size > 10_000
    assert not errors, errors
    assert not remote, f"the page fetched remote assets: {remote}"
    page.close()


def _box_edge_is_green(page: object) -> bool:
    """Sample the result canvas around the middle of the face box's left edge for the box colour."""
    return bool(page.evaluate(BOX_EDGE_IS_GREEN_JS))  # type: ignore[attr-defined]


def test_delete_my_data_erases_the_scan(server: Server, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server.base_url + "/")
    page.wait_for_selector("body[data-ready='1']")
    page.click("#btn-scan")
    page.wait_for_selector("#screen-results.active")
    assert page.evaluate("fetch('/api/v1/kiosk/last/image.jpg').then(r => r.status)") == 200
    page.click("#btn-delete")
    page.wait_for_selector("#screen-live.active")
    page.wait_for_selector("#banner.ok")
    assert page.evaluate("fetch('/api/v1/kiosk/last/image.jpg').then(r => r.status)") == 404
    page.close()


def _synthetic_fields(location: dict[str, float]) -> dict[str, object]:
    """Every contract field, placed on the real face box, to exercise every card and overlay layer."""
    x, y, w, h = location["left"], location["top"], location["width"], location["height"]

    def box(fx: float, fy: float, s: float = 6.0) -> dict[str, float]:
        return {"left": x + fx * w, "top": y + fy * h, "right": x + fx * w + s, "bottom": y + fy * h + s}

    def ring(fx: float, fy: float) -> list[dict[str, float]]:
        return [{"x": x + (fx + dx) * w, "y": y + (fy + dy) * h} for dx, dy in ((0, 0), (0.12, 0), (0.12, 0.05), (0, 0.05))]

    import base64

    import cv2
    import numpy as np

    pic = base64.b64encode(cv2.imencode(".jpg", np.full((64, 64, 3), (60, 80, 160), np.uint8))[1].tobytes()).decode()
    return {
        "skin": {"color": 2, "smooth": 3},
        "acnespotmole": {"acne_num": 1, "acne_list": [{"type": 1, "score": 0.8, **box(0.3, 0.7)}],
                         "speckle_num": 1, "speckle_list": [{"type": 1, "score": 0.6, **box(0.6, 0.5)}],
                         "mole_num": 1, "mole_list": [{"score": 0.7, **box(0.7, 0.7)}]},
        "wrinkle": {"wrinkle_num": 1, "wrinkle_types": [1],
                    "wrinkle_data": [[{"x": x + 0.3 * w, "y": y + 0.15 * h}, {"x": x + 0.7 * w, "y": y + 0.17 * h}]]},
        "eyesattr": {"dark_circle_left_type": [1], "dark_circle_right_type": [0], "dark_circle_left": ring(0.6, 0.45),
                     "dark_circle_right": ring(0.25, 0.45), "eye_bags_left": ring(0.6, 0.5),
                     "eye_bags_right": ring(0.25, 0.5), "eye_bags_left_type": [2], "eye_bags_right_type": []},
        "blackheadpore": {"poly": [], "circles": [{"blackhead": [{"x": x + 0.5 * w, "y": y + 0.6 * h, "r": 2}],
                                                   "pore": [{"x": x + 0.35 * w, "y": y + 0.62 * h, "r": 2}]}],
                          "pore_num": 1, "pore_segs_type": [1], "blackhead_num": 1, "blackhead_segs_type": [1]},
        "skinface": {"skin_health_check_images": {"src_pic": pic, "gray_pic": pic, "brown_pic": pic, "red_pic": pic}},
        "skinquality": {"skin_dryoil_check": ["0", "1", "2", "1", "0"], "skin_sensitive_check": ["1"]},
    }


def test_every_field_gets_a_card_and_its_overlay(browser: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from edge.analysis import base as analysis_base
    from edge.analysis.base import FACE_FIELDS
    from edge.pipeline import Engine

    for name in FACE_FIELDS:  # every field "available", answered by the synthetic engine below
        if name not in analysis_base._REGISTRY:
            monkeypatch.setitem(analysis_base._REGISTRY, name, lambda store: None)

    class Synthetic:
        def __init__(self) -> None:
            self.engine = Engine.from_settings(api_settings())

        def analyze(self, image: object, fields: object = (), **kwargs: object) -> list[dict[str, object]]:
            faces = self.engine.analyze(image, [], max_faces=1, to_original=kwargs.get("to_original", 1.0))
            return [{**faces[0], **_synthetic_fields(faces[0]["location"])}]

        def warm_up(self, fields: object = ()) -> None:
            self.engine.warm_up()

        def close(self) -> None:
            self.engine.close()

    settings = api_settings(workers=1, queue_size=1)
    with running(create_app(settings, live=replay_live(settings), engine_factory=Synthetic)) as srv:
        page = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(srv.base_url + "/")
        page.wait_for_selector("body[data-ready='1']")
        page.click("#btn-scan")
        page.wait_for_selector("#screen-results.active")
        layers = page.get_attribute("#result-canvas", "data-layers") or ""
        assert set(layers.split(",")) == {"location", "acne", "speckle", "mole", "wrinkle", "eyes", "pores"}
        cards = page.eval_on_selector_all(".card", "cs => cs.map(c => c.dataset.field)")
        assert cards == ["location", *FACE_FIELDS]
        assert _box_edge_is_green(page)
        _shot(page, "kiosk_results_all_fields.png")
        page.click(".card[data-field='skinface'] img[alt='brown map']")
        assert page.get_attribute("#result-canvas", "data-base") == "brown"
        assert not errors, errors
        page.close()


def test_api_docs_render_offline(server: Server, browser: object) -> None:
    from edge.api.app import swagger_static_dir

    if swagger_static_dir() is None:
        pytest.skip("swagger-ui-py not installed: /docs uses the CDN page")
    page = browser.new_page()  # type: ignore[attr-defined]
    remote: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((server.base_url, "data:")) else remote.append(r.url))
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server.base_url + "/docs")
    page.wait_for_selector(".opblock-summary-path[data-path='/face/effect/skin_analyze']")
    assert not remote, f"/docs fetched remote assets: {remote}"
    page.close()


def test_diary_with_pin_then_delete_everything(server: Server, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server.base_url + "/")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#diary-controls:not([hidden])")
    page.click("#btn-diary-new")
    page.fill("#pin-input", "731902")
    page.click("#pin-ok")
    page.wait_for_selector("#diary-badge:not([hidden])")
    for visits in (1, 2):
        page.click("#btn-scan")
        page.wait_for_selector("#screen-results.active")
        page.wait_for_selector(f"#trend:not([hidden]) >> text=Diary: {visits} visit")
        if visits == 1:
            page.click("#btn-again")
            page.wait_for_selector("#screen-live.active")
    _shot(page, "kiosk_diary.png")
    page.click("#btn-delete")
    page.wait_for_selector("#banner.ok >> text=diary were deleted")
    assert page.is_hidden("#diary-badge")
    status = page.evaluate("""fetch('/api/v1/diary/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
                               body: JSON.stringify({pin: '731902'})}).then(r => r.status)""")
    assert status == 404
    assert not errors, errors
    page.close()
