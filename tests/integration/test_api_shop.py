"""The shop over real uvicorn on loopback, the replay source, a real SQLite diary and a catalogue file
copied to a temp folder: recommend from a scan or an envelope, change since the last visit, the
catalogue and its atomic replacement, and the take-home report's token (local network only, 410 after
its TTL and after "delete my data")."""

from __future__ import annotations

import copy
import io
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from edge.api.app import create_app
from edge.api.live import ReplayLive
from edge.api.shop_state import load_concern_table
from edge.config import REPO_ROOT
from edge.errors import ErrorKind
from edge.shop.change import BETTER, NO_REAL_CHANGE
from edge.shop.vocabulary import CONCERNS, STEPS
from tests.integration.api_harness import DEMO_PHOTO, Server, api_settings, running

pytestmark = pytest.mark.skipif(not DEMO_PHOTO.exists(), reason="demo photo missing: run scripts/setup.sh")

SHOP, KIOSK, DIARY = "/api/v1/shop", "/api/v1/kiosk", "/api/v1/diary"
ADMIN_KEY = "test-admin-key-0123456789"
SCAN_TIMEOUT = 60


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shelf")
    shutil.copytree(REPO_ROOT / "catalogue", folder, dirs_exist_ok=True)
    return folder / "catalogue.yaml"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shelf: Path) -> Iterator[Server]:
    from edge.diary.store import DiaryStore

    settings = api_settings(workers=1, queue_size=2)
    settings = settings.model_copy(update={"catalogue": settings.catalogue.model_copy(
        update={"path": shelf, "admin_key": ADMIN_KEY})})
    diary = DiaryStore(tmp_path_factory.mktemp("diary") / "diary.sqlite3", device_secret=b"s" * 32)
    with running(create_app(settings, live=ReplayLive(DEMO_PHOTO, preview_size=(640, 480)), diary=diary)) as srv:
        srv.diary = diary  # type: ignore[attr-defined]
        yield srv
    diary.close()


def scan(server: Server, **body: object) -> dict:
    response = httpx.post(server.base_url + KIOSK + "/scan", json={"extended": True, **body}, timeout=SCAN_TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def post(server: Server, path: str, body: dict, **kw: object) -> httpx.Response:
    return httpx.post(server.base_url + SHOP + path, json=body, timeout=SCAN_TIMEOUT, **kw)


def assert_error(response: httpx.Response, kind: ErrorKind) -> str:
    assert response.status_code == kind.http_status, response.text
    assert response.json()["error_code"] == kind.code
    return response.json()["error_msg"]


def test_recommend_from_a_scan(server: Server) -> None:
    result = scan(server)
    rec = post(server, "/recommend", {"result_id": result["result_id"]}).json()
    assert rec["result_id"] == result["result_id"] and rec["scores_version"] == load_concern_table().version
    assert [c["concern"] for c in rec["concerns"]] == list(CONCERNS)
    assert all(c["score"] is not None and 0 <= c["score"] <= 100 for c in rec["concerns"])
    assert rec["ranked"], "the demo face has measured concerns: some product must address them"
    assert all(p["reason"].startswith("for: ") for p in rec["ranked"])
    steps = [p["step"] for p in rec["routine"]]
    assert steps == [s for s in STEPS if s in steps] and len(steps) == len(set(steps))
    proposed = {p["id"] for p in rec["ranked"] + rec["routine"]}
    assert not proposed & {e["id"] for e in rec["excluded"]}
    image = httpx.get(server.base_url + rec["routine"][0]["image_url"])
    assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_recommend_from_an_envelope_and_its_errors(server: Server) -> None:
    photo = DEMO_PHOTO.read_bytes()
    env = httpx.post(server.base_url + "/api/v1/skin/analyze", files={"image": photo},
                     data={"face_field": "all", "extended": "true"}, timeout=SCAN_TIMEOUT).json()
    rec = post(server, "/recommend", {"envelope": env})
    assert rec.status_code == 200 and rec.json()["result_id"] is None and rec.json()["ranked"]
    plain = httpx.post(server.base_url + "/api/v1/skin/analyze", files={"image": photo},
                       data={"face_field": "all"}, timeout=SCAN_TIMEOUT).json()
    assert "extended=true" in assert_error(post(server, "/recommend", {"envelope": plain}), ErrorKind.INVALID_PARAMETER)
    assert_error(post(server, "/recommend", {}), ErrorKind.INVALID_PARAMETER)
    assert_error(post(server, "/recommend", {"result_id": "x", "envelope": env}), ErrorKind.INVALID_PARAMETER)
    assert_error(post(server, "/recommend", {"envelope": {"result": {"face_list": []}}}), ErrorKind.INVALID_PARAMETER)
    assert_error(post(server, "/recommend", {"envelope": [1, 2]}), ErrorKind.INVALID_PARAMETER)
    assert_error(post(server, "/recommend", {"result_id": "no-such-scan"}), ErrorKind.NOT_FOUND)
    assert_error(post(server, "/recommend", {"envelope": env, "profile_id": "nobody"}), ErrorKind.NOT_FOUND)
    assert_error(post(server, "/recommend", {"envelope": env, "colour": 1}), ErrorKind.INVALID_PARAMETER)


@pytest.fixture(scope="module")
def envelope(server: Server) -> dict:
    """The demo photo analysed with every field and `extended`: an envelope the shop can score."""
    return httpx.post(server.base_url + "/api/v1/skin/analyze", files={"image": DEMO_PHOTO.read_bytes()},
                      data={"face_field": "all", "extended": "true"}, timeout=SCAN_TIMEOUT).json()


def with_value(envelope: dict, path: str, value: object) -> dict:
    """A deep copy of `envelope` with the first face's key at dotted `path` set to `value`."""
    env = copy.deepcopy(envelope)
    *parents, last = path.split(".")
    node = env["result"]["face_list"][0]
    for key in parents:
        node = node[key]
    node[last] = value
    return env


@pytest.mark.parametrize("path,value,says", [
    ("extended.wrinkle.length_mm", 5, "extended.wrinkle.length_mm: Input should be a valid list"),
    ("extended.wrinkle.length_mm", [1.0, 2.0],
     "extended.wrinkle: length_mm, depth_od and zone must be lists of one length"),
    ("extended.eyesattr.dark_circle_left", "x", "extended.eyesattr.dark_circle_left: Input should be a valid dictionary"),
    ("extended.eyesattr.eye_bags_right", "x", "extended.eyesattr.eye_bags_right: Input should be a valid dictionary"),
    ("acnespotmole.acne_list", 5, "acnespotmole.acne_list: Input should be a valid list"),
    ("extended.acnespotmole.items", [{"family": "acne", "score": "high"}],
     "extended.acnespotmole.items.0.score: Input should be a valid number"),
    ("blackheadpore.pore_num", "many", "blackheadpore.pore_num: Input should be a valid number"),
    ("skinquality.skin_dryoil_check", [1, 1, 1, 1, 1], "skinquality.skin_dryoil_check.0: Input should be a valid string"),
    ("skin.color", True, "skin.color: Input should be a valid integer"),
])
def test_a_malformed_envelope_is_a_400_naming_the_key(server: Server, envelope: dict, path: str, value: object,
                                                     says: str) -> None:
    """Each of these was a 500 (TypeError, AttributeError deep in a score) before the envelope's shape was
    checked where it enters."""
    for route in ("/recommend", "/report"):
        msg = assert_error(post(server, route, {"envelope": with_value(envelope, path, value)}),
                           ErrorKind.INVALID_PARAMETER)
        assert f"envelope.result.face_list[0].{says}" in msg, msg


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(server: Server, envelope: dict, token: str) -> None:
    """JSON bodies may spell NaN and Infinity (Python's json reads them): no score is made of them."""
    body = json.dumps({"envelope": with_value(envelope, "extended.skinquality.redness.spread", "@@")})
    response = httpx.post(server.base_url + SHOP + "/recommend", content=body.replace('"@@"', token),
                          headers={"Content-Type": "application/json"}, timeout=SCAN_TIMEOUT)
    msg = assert_error(response, ErrorKind.INVALID_PARAMETER)
    assert "extended.skinquality.redness.spread: Input should be a finite number" in msg


def not_for(server: Server, contraindication: str) -> set[str]:
    """The ids of the served catalogue's products marked not_for `contraindication`."""
    products = httpx.get(server.base_url + SHOP + "/catalogue").json()["products"]
    return {p["id"] for p in products if contraindication in p["not_for"]}


def test_sensitive_skin_is_never_offered_a_product_not_for_it(server: Server, envelope: dict) -> None:
    """The demo face reads "1" (neutral); the same envelope reading "2" (sensitive) must leave out every
    product the catalogue marks not_for sensitive_skin, each with why, and propose none of them."""
    marked = not_for(server, "sensitive_skin")
    assert len(marked) >= 3  # the demo catalogue has such products: the check below is not empty
    neutral = post(server, "/recommend", {"envelope": envelope}).json()
    assert neutral["profile"]["sensitivity"] == "1"
    assert not [e for e in neutral["excluded"] if "sensitive" in e["why"]]  # neutral skin may be offered them
    rec = post(server, "/recommend", {"envelope": with_value(envelope, "skinquality.skin_sensitive_check", ["2"])}).json()
    assert rec["profile"]["sensitivity"] == "2"
    assert not marked & {p["id"] for p in rec["ranked"] + rec["routine"]}
    why = {e["id"]: e["why"] for e in rec["excluded"]}
    assert marked <= set(why) and all("sensitive" in why[i] for i in marked)


def test_acne_on_an_earlier_diary_visit_rules_out_products_not_for_acne_prone_skin(server: Server,
                                                                                    envelope: dict) -> None:
    """Today's demo face shows no acne; a diary whose earlier visit found some makes the skin acne-prone."""
    marked = not_for(server, "acne_prone_skin")
    assert marked
    alone = post(server, "/recommend", {"envelope": envelope}).json()
    assert alone["profile"]["acne_found"] is False and alone["profile"]["acne_found_before"] is None
    assert not [e for e in alone["excluded"] if "acne" in e["why"]]
    profile = httpx.post(server.base_url + DIARY + "/profiles", json={}).json()["profile_id"]
    clean = {c["concern"]: c["score"] for c in alone["concerns"]}
    server.diary.record_visit(envelope["result"]["face_list"][0], profile_id=profile,  # type: ignore[attr-defined]
                              taken_at=time.time() - 86400, concerns=clean, concerns_version=1)
    assert post(server, "/recommend", {"envelope": envelope, "profile_id": profile}).json()[
        "profile"]["acne_found_before"] is False
    server.diary.record_visit(envelope["result"]["face_list"][0], profile_id=profile,  # type: ignore[attr-defined]
                              taken_at=time.time() - 3600, concerns=dict(clean, acne=12.0), concerns_version=1)
    rec = post(server, "/recommend", {"envelope": envelope, "profile_id": profile}).json()
    assert rec["profile"]["acne_found"] is False and rec["profile"]["acne_found_before"] is True
    why = {e["id"]: e["why"] for e in rec["excluded"]}
    assert marked <= set(why) and {why[i] for i in marked} == {
        "not for acne-prone skin, and acne was found on an earlier visit"}
    assert not marked & {p["id"] for p in rec["ranked"] + rec["routine"]}


def test_change_since_the_last_visit(server: Server) -> None:
    profile = httpx.post(server.base_url + DIARY + "/profiles", json={}).json()["profile_id"]
    first = scan(server, profile_id=profile)
    rec = post(server, "/recommend", {"result_id": first["result_id"], "profile_id": profile}).json()
    assert rec["changes"] == {"previous_visit_at": None, "items": []}  # a first visit: nothing to compare
    second = scan(server, profile_id=profile)  # the same replayed photo: within repeatability
    rec = post(server, "/recommend", {"result_id": second["result_id"], "profile_id": profile}).json()
    items = {c["concern"]: c for c in rec["changes"]["items"]}
    assert set(items) == set(CONCERNS) and {c["verdict"] for c in items.values()} == {NO_REAL_CHANGE}
    # A planted earlier visit with more pores (beyond their MDC): today's pores read better, by that much.
    now = {c["concern"]: c["score"] for c in rec["concerns"]}
    table = load_concern_table()
    mdc = table.mdc
    earlier = dict(now, pores=now["pores"] + mdc["pores"] + 10.0)
    assert earlier["pores"] <= 100
    server.diary.record_visit(first["envelope"]["result"]["face_list"][0], profile_id=profile,  # type: ignore[attr-defined]
                              taken_at=time.time(), concerns=earlier, concerns_version=table.version)
    third = scan(server)  # not recorded: compared with the planted visit, the latest
    rec = post(server, "/recommend", {"result_id": third["result_id"], "profile_id": profile}).json()
    changed = {c["concern"]: c for c in rec["changes"]["items"]}
    assert changed["pores"]["verdict"] == BETTER
    assert changed["pores"]["delta"] == pytest.approx(-(mdc["pores"] + 10.0), abs=0.2)
    assert changed["pores"]["text"].startswith("better by")
    assert {c["verdict"] for k, c in changed.items() if k != "pores"} == {NO_REAL_CHANGE}


def test_catalogue_and_its_replacement(server: Server, shelf: Path) -> None:
    base = server.base_url + SHOP + "/catalogue"
    listed = httpx.get(base).json()
    assert len(listed["products"]) == 32 and listed["currency"] == "EUR"
    original = shelf.read_text()
    headers = {"Content-Type": "text/yaml", "X-Admin-Key": ADMIN_KEY}
    assert_error(httpx.put(base, content=original, headers={"Content-Type": "text/yaml"}), ErrorKind.UNAUTHORIZED)
    assert_error(httpx.put(base, content=original, headers={**headers, "X-Admin-Key": "wrong"}), ErrorKind.UNAUTHORIZED)
    broken = original.replace("concerns: [dryness, redness]", "concerns: [dryness, sunburn]", 1)
    msg = assert_error(httpx.put(base, content=broken, headers=headers), ErrorKind.CATALOGUE_INVALID)
    assert "product 1 (line 4), id 'SEL-CL1', field concerns: unknown concern 'sunburn'" in msg
    missing = original.replace("image: images/sel-cl1.png", "image: images/gone.png", 1)
    assert "field image" in assert_error(httpx.put(base, content=missing, headers=headers), ErrorKind.CATALOGUE_INVALID)
    assert_error(httpx.put(base, content=original, headers={"X-Admin-Key": ADMIN_KEY}), ErrorKind.INVALID_PARAMETER)
    assert_error(httpx.put(base + "?format=csv", content="id\n", headers=headers), ErrorKind.CATALOGUE_INVALID)
    # the broken uploads changed nothing, in memory or on disk
    assert httpx.get(base).json() == listed and shelf.read_text() == original
    smaller = original.split("  - id: QUI-CL1")[0]
    done = httpx.put(base, content=smaller, headers=headers)
    assert done.status_code == 200 and done.json()["products"] == 1
    assert len(httpx.get(base).json()["products"]) == 1 and shelf.read_text() == smaller
    assert [p.name for p in shelf.parent.iterdir() if p.name.startswith(".")] == []  # no temp file left
    assert httpx.put(base, content=original, headers=headers).json()["products"] == 32


def test_malformed_or_oversized_uploads_are_refused_whole(server: Server, shelf: Path) -> None:
    """A CSV cell over csv's field limit and a YAML nested too deeply are invalid catalogues (422, not
    500); a body over the 2 MB limit is refused while it streams in (413), declared or not; nothing
    changes, in memory or on disk."""
    from edge.shop.catalogue import MAX_FILE_BYTES

    base = server.base_url + SHOP + "/catalogue"
    listed, original = httpx.get(base).json(), shelf.read_text()
    headers = {"X-Admin-Key": ADMIN_KEY}
    nested = "products: " + "[" * 100_000 + "]" * 100_000 + "\n"
    msg = assert_error(httpx.put(base + "?format=yaml", content=nested, headers=headers), ErrorKind.CATALOGUE_INVALID)
    assert "nested too deeply" in msg
    too_big = b"#" * (MAX_FILE_BYTES + 1)
    msg = assert_error(httpx.put(base + "?format=yaml", content=too_big, headers=headers),
                       ErrorKind.CATALOGUE_TOO_LARGE)
    assert f"at most {MAX_FILE_BYTES}" in msg

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap must hold while the body streams
        for _ in range(MAX_FILE_BYTES // 65536 + 2):
            yield b"#" * 65536

    msg = assert_error(httpx.put(base + "?format=yaml", content=chunks(), headers=headers),
                       ErrorKind.CATALOGUE_TOO_LARGE)
    assert f"over {MAX_FILE_BYTES} bytes" in msg
    assert httpx.get(base).json() == listed and shelf.read_text() == original


def test_a_report_link_for_phones_carries_the_configured_base(server: Server) -> None:
    shop = server.app.state.api.settings.shop
    privacy = httpx.get(server.base_url + KIOSK + "/privacy").json()
    assert privacy["take_home_link"] is False and "shop.report_base_url" in privacy["take_home_note"]
    shop.report_base_url = "http://192.168.1.20:8080"
    try:
        made = post(server, "/report", {"result_id": scan(server)["result_id"]}).json()
        assert made["url"] == f"http://192.168.1.20:8080/r/{made['token']}"
        assert made["phone_reachable"] is True and made["note"] is None
        privacy = httpx.get(server.base_url + KIOSK + "/privacy").json()
        assert privacy["take_home_link"] is True and privacy["take_home_note"] is None
        shop.report_base_url = "http://localhost:8080"  # set, but still this device only
        assert post(server, "/report", {"result_id": scan(server)["result_id"]}).json()["phone_reachable"] is False
    finally:
        shop.report_base_url = None


def test_the_privacy_notice_reads_the_configured_retention(tmp_path: Path) -> None:
    """What the page's privacy notice states comes from the kiosk's configuration: the photo's
    LAST_SCAN_TTL_S and the take-home report's shop.report_ttl_s (here 7 minutes, not the default)."""
    from edge.api.state import LAST_SCAN_TTL_S

    settings = api_settings(workers=1, queue_size=1)
    settings = settings.model_copy(update={"shop": settings.shop.model_copy(update={"report_ttl_s": 420.0})})
    with running(create_app(settings, warm_up=False, engine_factory=lambda: None)) as srv:  # type: ignore[arg-type,return-value]
        privacy = httpx.get(srv.base_url + KIOSK + "/privacy").json()
        assert privacy["photo_kept_s"] == LAST_SCAN_TTL_S and privacy["report_kept_s"] == 420.0


def test_a_csv_upload_with_a_cell_over_the_csv_field_limit_is_an_invalid_catalogue(tmp_path: Path) -> None:
    """csv refuses a cell over 128 kB with its own error: a 422 naming the row, not a 500."""
    shutil.copytree(REPO_ROOT / "catalogue" / "images", tmp_path / "images")
    header = "id,name,brand,price,image,concerns,skin_types,step,description\n"
    shelf = tmp_path / "catalogue.csv"
    shelf.write_text(header + "P1,Gel,Brand,9.5,images/sel-cl1.png,acne,all,treat,short\n")
    settings = api_settings(workers=1, queue_size=1)
    settings = settings.model_copy(update={"catalogue": settings.catalogue.model_copy(
        update={"path": shelf, "admin_key": ADMIN_KEY})})
    with running(create_app(settings, warm_up=False, engine_factory=lambda: None)) as srv:  # type: ignore[arg-type,return-value]
        body = header + "P1,Gel,Brand,9.5,images/sel-cl1.png,acne,all,treat," + "x" * 200_000 + "\n"
        response = httpx.put(srv.base_url + SHOP + "/catalogue", content=body,
                             headers={"Content-Type": "text/csv", "X-Admin-Key": ADMIN_KEY})
        assert "row 2: not valid CSV: field larger than field limit" in assert_error(response, ErrorKind.CATALOGUE_INVALID)
        assert len(httpx.get(srv.base_url + SHOP + "/catalogue").json()["products"]) == 1


def test_replacement_is_refused_without_an_admin_key(shelf: Path) -> None:
    settings = api_settings(workers=1, queue_size=1)
    settings = settings.model_copy(update={"catalogue": settings.catalogue.model_copy(update={"path": shelf})})
    with running(create_app(settings, warm_up=False, engine_factory=lambda: None)) as srv:  # type: ignore[arg-type,return-value]
        response = httpx.put(srv.base_url + SHOP + "/catalogue", content="products: []\n",
                             headers={"Content-Type": "text/yaml", "X-Admin-Key": ADMIN_KEY})
        assert "admin_key" in assert_error(response, ErrorKind.FORBIDDEN)


def test_take_home_report_lives_its_ttl_and_dies_with_delete_my_data(server: Server) -> None:
    from pypdf import PdfReader

    result = scan(server)
    made = post(server, "/report", {"result_id": result["result_id"]}).json()
    assert len(made["token"]) >= 20
    # No shop.report_base_url: the link is the page's own address, loopback here, which no phone can open.
    assert made["url"] == f"{server.base_url}/r/{made['token']}"
    assert made["phone_reachable"] is False and "shop.report_base_url" in made["note"]
    assert made["qr_svg"].startswith("data:image/svg+xml") and made["expires_in_s"] == 900
    page = httpx.get(server.base_url + made["path"])
    assert page.status_code == 200 and "Your skin report" in page.text and page.headers["cache-control"] == "no-store"
    assert "data:image/jpeg;base64," in page.text  # the face overlay is inline
    pdf = httpx.get(server.base_url + made["pdf_path"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(pdf.content)).pages) == 1
    # From outside the local network (a public address, as a reverse proxy on this host would say): 403.
    public = httpx.get(server.base_url + made["path"], headers={"X-Forwarded-For": "203.0.113.7"})
    assert_error(public, ErrorKind.FORBIDDEN)
    assert httpx.get(server.base_url + made["path"], headers={"X-Forwarded-For": "192.168.1.23"}).status_code == 200
    assert_error(httpx.get(server.base_url + "/r/not-a-token"), ErrorKind.NOT_FOUND)

    reports = server.app.state.api.shop.reports
    real_clock = reports._clock
    reports._clock = lambda: real_clock() + made["expires_in_s"] + 1  # past its TTL
    try:
        assert_error(httpx.get(server.base_url + made["path"]), ErrorKind.GONE)
        assert_error(httpx.get(server.base_url + made["pdf_path"]), ErrorKind.GONE)
    finally:
        reports._clock = real_clock

    again = post(server, "/report", {"result_id": result["result_id"]}).json()
    assert httpx.get(server.base_url + again["path"]).status_code == 200
    kept = httpx.post(server.base_url + KIOSK + "/forget", json={"keep_reports": True}).json()
    assert kept["deleted_reports"] == 0 and httpx.get(server.base_url + again["path"]).status_code == 200
    forgot = httpx.post(server.base_url + KIOSK + "/forget", json={}).json()
    assert forgot["deleted_reports"] == 1
    assert_error(httpx.get(server.base_url + again["path"]), ErrorKind.GONE)
    assert_error(post(server, "/report", {"result_id": result["result_id"]}), ErrorKind.NOT_FOUND)


@pytest.mark.parametrize("name,text,why", [
    ("catalogue.yaml", "products:\n  - id: X\n", "product 1 (line 2), id 'X', field name: Field required"),
    ("catalogue.yaml", "products: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
    ("catalogue.csv", "id,name,brand,price,image,concerns,skin_types,step\nP1," + "x" * 200_000 + "\n",
     "not valid CSV"),
])
def test_a_broken_catalogue_at_start_disables_only_the_shop(tmp_path: Path, name: str, text: str, why: str) -> None:
    broken = tmp_path / name
    broken.write_text(text)
    settings = api_settings(workers=1, queue_size=1)
    settings = settings.model_copy(update={"catalogue": settings.catalogue.model_copy(update={"path": broken})})
    with running(create_app(settings, warm_up=False, engine_factory=lambda: None)) as srv:  # type: ignore[arg-type,return-value]
        msg = assert_error(httpx.get(srv.base_url + SHOP + "/catalogue"), ErrorKind.SHOP_UNAVAILABLE)
        assert why in msg
        assert_error(post(srv, "/recommend", {"result_id": "x"}), ErrorKind.SHOP_UNAVAILABLE)
        assert httpx.get(srv.base_url + "/healthz").status_code == 200
