"""The shop on the kiosk page, in Debian's Chromium (headless, via Playwright): after a scan of the demo
source the "Your routine" view shows ranked product cards with their reasons; with a diary open, the
change-since-last-visit strip; the take-home QR code, the report page (printed by Chromium to one A4
page) and its served PDF (one page); "Delete my data" makes the link 410; without shop.report_base_url
the take-home dialog says what to set instead of a QR code no phone could open; the privacy notice states
the configured retention times. Screenshots and both PDFs are kept under artifacts/."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator

import httpx
import pytest

from edge.api.app import create_app
from edge.api.server import replay_live
from edge.config import REPO_ROOT
from tests.e2e.conftest import ARTIFACTS, CHROMIUM, TIMEOUT_MS
from tests.integration.api_harness import DEMO_PHOTO, Server, api_settings, running

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed (scripts/system_deps.sh)"),
    pytest.mark.skipif(not DEMO_PHOTO.exists(), reason="demo photo missing: run scripts/setup.sh"),
]


LAN_BASE = "http://192.168.1.20:8080"  # the kiosk's address on a shop's Wi-Fi, as an installer would set it
REPORT_TTL_S = 600.0  # not the 900 s default: the page must state what the config says


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from edge.diary.store import DiaryStore

    shelf = tmp_path_factory.mktemp("shelf")
    shutil.copytree(REPO_ROOT / "catalogue", shelf, dirs_exist_ok=True)
    settings = api_settings(workers=1, queue_size=2)
    settings = settings.model_copy(update={
        "catalogue": settings.catalogue.model_copy(update={"path": shelf / "catalogue.yaml"}),
        "shop": settings.shop.model_copy(update={"report_base_url": LAN_BASE, "report_ttl_s": REPORT_TTL_S})})
    diary = DiaryStore(tmp_path_factory.mktemp("diary") / "diary.sqlite3", device_secret=b"e" * 32)
    with running(create_app(settings, live=replay_live(settings), diary=diary)) as srv:
        yield srv
    diary.close()


def _page(browser: object, server: Server, errors: list[str], remote: list[str]) -> object:
    page = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith((server.base_url, "data:", "blob:")) else remote.append(r.url))
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server.base_url + "/")
    page.wait_for_selector("body[data-ready='1']")
    return page


def _scan_to_routine(page: object) -> None:
    page.click("#btn-scan")  # type: ignore[attr-defined]
    page.wait_for_selector("#screen-results.active")  # type: ignore[attr-defined]
    page.wait_for_selector("#btn-routine:not([hidden])")  # type: ignore[attr-defined]
    page.click("#btn-routine")  # type: ignore[attr-defined]
    page.wait_for_selector("#screen-routine.active")  # type: ignore[attr-defined]


def _cards(page: object, selector: str) -> list[dict[str, str]]:
    return page.eval_on_selector_all(selector, """cs => cs.map(c => ({id: c.dataset.id, step: c.dataset.step,
        reason: c.querySelector('.reason').textContent, price: c.querySelector('.price').textContent,
        image: c.querySelector('img').naturalWidth}))""")  # type: ignore[attr-defined]


def _pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def test_routine_view_shows_ranked_cards_with_reasons_and_the_report(server: Server, browser: object) -> None:
    errors: list[str] = []
    remote: list[str] = []
    page = _page(browser, server, errors, remote)
    _scan_to_routine(page)
    page.wait_for_function("document.querySelectorAll('#routine-cards .product-card img').length > 0 && "
                           "[...document.querySelectorAll('.product-card img')].every(i => i.complete)")
    routine = _cards(page, "#routine-cards .product-card")
    ranked = _cards(page, "#ranked-cards .product-card")
    steps = [c["step"] for c in routine]
    assert steps and len(steps) == len(set(steps)), routine
    assert all(c["reason"].startswith(("for: ", "basic care")) for c in routine)
    assert any(c["reason"].startswith("for: ") for c in routine + ranked), "no card is for a measured concern"
    assert all(c["price"].endswith(" EUR") and c["image"] > 0 for c in routine + ranked)
    # the page shows the API's order: routine picks, then the rest of the ranked shelf
    rec = httpx.post(server.base_url + "/api/v1/shop/recommend",
                     json={"result_id": page.evaluate("state.scan.result_id")}, timeout=60).json()
    assert [c["id"] for c in routine] == [p["id"] for p in rec["routine"]]
    assert [c["id"] for c in ranked] == [p["id"] for p in rec["ranked"] if p["id"] not in {c["id"] for c in routine}]
    page.screenshot(path=str(_artifact("kiosk_routine.png")), full_page=True)

    page.click("#btn-take-home")
    page.wait_for_selector("#dlg-qr[open]")
    page.wait_for_function("document.getElementById('qr-img').naturalWidth > 0")
    assert page.is_visible("#qr-ready") and not page.is_visible("#qr-unavailable")
    assert page.text_content("#qr-minutes") == str(round(REPORT_TTL_S / 60))
    page.screenshot(path=str(_artifact("kiosk_routine_qr.png")))
    token = page.get_attribute("#dlg-qr", "data-token")
    report = browser.new_page(viewport={"width": 900, "height": 1200})  # type: ignore[attr-defined]
    report.goto(f"{server.base_url}/r/{token}")
    report.wait_for_selector("#routine .product")
    assert report.locator("#concerns tbody tr").count() == 11
    assert report.evaluate("document.getElementById('overlay').naturalWidth") > 0
    report.screenshot(path=str(_artifact("report.png")), full_page=True)
    printed = report.pdf(format="A4", print_background=True)  # Chromium prints the page with its print CSS
    _artifact("report_printed_by_chromium.pdf").write_bytes(printed)
    assert _pages(printed) == 1
    served = httpx.get(f"{server.base_url}/r/{token}.pdf")
    assert served.status_code == 200
    _artifact("report_served.pdf").write_bytes(served.content)
    assert _pages(served.content) == 1
    report.close()

    page.click("#dlg-qr [data-close]")
    page.click("#btn-delete-3")
    page.wait_for_selector("#screen-live.active")
    assert httpx.get(f"{server.base_url}/r/{token}").status_code == 410
    assert not errors, errors
    assert not remote, f"the page fetched remote assets: {remote}"
    page.close()


def test_change_strip_with_a_diary(server: Server, browser: object) -> None:
    errors: list[str] = []
    page = _page(browser, server, errors, [])
    page.wait_for_selector("#diary-controls:not([hidden])")
    page.click("#btn-diary-new")
    page.fill("#pin-input", "583920")
    page.click("#pin-ok")
    page.wait_for_selector("#diary-badge:not([hidden])")
    _scan_to_routine(page)
    page.wait_for_selector("#change-strip:not([hidden]) >> text=First visit")
    page.click("#btn-back-results")
    page.click("#btn-again")
    _scan_to_routine(page)
    page.wait_for_selector("#change-strip .chip[data-verdict]")
    verdicts = page.eval_on_selector_all("#change-strip .chip[data-verdict]", "cs => cs.map(c => c.dataset.verdict)")
    assert len(verdicts) == 11 and set(verdicts) == {"no real change"}  # the same replayed photo
    page.screenshot(path=str(_artifact("kiosk_routine_diary.png")), full_page=True)
    page.click("#btn-delete-3")
    page.wait_for_selector("#banner.ok >> text=diary were deleted")
    assert not errors, errors
    page.close()


def test_privacy_notice_states_the_configured_retention(server: Server, browser: object) -> None:
    """The photo's and the report's retention come from the kiosk (GET /api/v1/kiosk/privacy), not from
    words written into the page: 5 minutes for the photo (LAST_SCAN_TTL_S), REPORT_TTL_S for a report."""
    from edge.api.state import LAST_SCAN_TTL_S

    errors: list[str] = []
    page = _page(browser, server, errors, [])
    page.click("#btn-privacy")
    page.wait_for_selector("#dlg-privacy[open]")
    notice = " ".join(page.text_content("#dlg-privacy").split())
    photo, report = round(LAST_SCAN_TTL_S / 60), round(REPORT_TTL_S / 60)
    assert f"for at most {photo} minutes" in notice
    assert f"holds a picture of your face with its findings, your scores and your routine. It is kept in memory on " \
           f"this device for {report} minutes" in notice
    assert f"after {photo} minutes" in " ".join(page.text_content("footer").split())
    page.screenshot(path=str(_artifact("kiosk_privacy.png")))
    assert not errors, errors
    page.close()


def test_take_home_without_a_report_base_url_says_what_to_set(server: Server, browser: object) -> None:
    """With shop.report_base_url unset the link would be the kiosk's own loopback (the page is loaded from
    127.0.0.1): the dialog shows no QR code but what the staff must set, and no report (with its face
    picture) is made."""
    shop = server.app.state.api.settings.shop
    shop.report_base_url = None
    try:
        errors: list[str] = []
        page = _page(browser, server, errors, [])
        _scan_to_routine(page)
        reports = len(server.app.state.api.shop.reports)
        page.click("#btn-take-home")
        page.wait_for_selector("#dlg-qr[open] #qr-unavailable:not([hidden])")
        assert not page.is_visible("#qr-ready") and not page.is_visible("#qr-img")
        assert "shop.report_base_url" in page.text_content("#qr-note")
        assert len(server.app.state.api.shop.reports) == reports  # nothing kept for a link no phone opens
        page.screenshot(path=str(_artifact("kiosk_routine_qr_unavailable.png")))
        assert not errors, errors
        page.close()
    finally:
        shop.report_base_url = LAN_BASE


def _artifact(name: str) -> os.PathLike[str]:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
