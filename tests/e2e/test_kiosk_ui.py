"""The kiosk page in Debian's Chromium (headless, via Playwright): loads offline, shows the replay
preview with guidance, Scan -> results screen with the location overlay drawn; delete my data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.api.app import create_app
from edge.api.server import replay_live
from tests.integration.api_harness import DEMO_PHOTO, REPO_ROOT, Server, api_settings, running

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = REPO_ROOT / "artifacts"
TIMEOUT_MS = 20_000
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


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


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
