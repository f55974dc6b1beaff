"""The personal shop: the store's catalogue, recommendations for a scan, and the take-home report.

- `POST /api/v1/shop/recommend` `{result_id | envelope, profile_id?}`: concern scores, the ranked shelf
  with a reason per product, a routine (one product per step), what was left out and why, and with a
  diary profile the change since its previous visit. `result_id` is the kiosk's scan (the id
  `POST /api/v1/kiosk/scan` and `GET /api/v1/kiosk/last` answer, kept in memory 5 minutes); `envelope`
  is an analyze response made with `extended=true` (its first face).
- `GET /api/v1/shop/catalogue`, `GET /api/v1/shop/images/{id}`: the shelf and its pictures.
- `PUT /api/v1/shop/catalogue` (header `X-Admin-Key`; YAML or CSV body): validated whole, written
  atomically, then swapped in; on any error the old catalogue stays.
- `POST /api/v1/shop/report`: a take-home report behind a random token (`shop.report_ttl_s`), with its
  QR code; `GET /r/{token}` (HTML) and `/r/{token}.pdf`, to the local network only (403 otherwise),
  410 once expired or deleted by "delete my data".
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from edge.api.routers.analyze import read_body_capped
from edge.api.routers.deps import require_kiosk_access
from edge.api.schemas import (
    CatalogueOut,
    CatalogueReplaced,
    Envelope,
    RecommendRequest,
    RecommendResponse,
    ReportCreated,
)
from edge.api.scored_face import face_problem
from edge.api.shop_state import (
    REPORT_LINK_NOTE,
    Report,
    ShopState,
    is_local_network,
    loopback_only,
    report_link_base,
)
from edge.api.state import ApiState, LastScan, get_state, to_thread
from edge.errors import ErrorKind, SkinKioskError
from edge.shop.catalogue import IMAGE_TYPES, MAX_FILE_BYTES, Catalogue, CatalogueError
from edge.shop.change import Change, changes
from edge.shop.concerns import (
    ConcernScore,
    SkinProfile,
    acne_in_history,
    concern_scores,
    plain_scores,
    skin_profile,
)
from edge.shop.matcher import Recommendation, recommend
from edge.shop.report import ReportData, RoutineItem, render_html
from edge.shop.table import ConcernTable

ADMIN_KEY_HEADER = "x-admin-key"
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
OVERLAY_MARGIN = 1.7  # the report's face picture: this x the face box, square
OVERLAY_PX = 520  # its side (px): sharp at 62 mm wide when printed
OVERLAY_JPEG_QUALITY = 85
QR_SCALE = 6  # px per module of the QR code's SVG
CONTENT_TYPES = {"application/yaml": "yaml", "application/x-yaml": "yaml", "text/yaml": "yaml", "text/x-yaml": "yaml",
                 "text/csv": "csv", "application/csv": "csv"}

router = APIRouter(prefix="/api/v1/shop", tags=["shop"],
                   responses={400: {"model": Envelope}, 404: {"model": Envelope}, 503: {"model": Envelope}})
public = APIRouter(tags=["shop"])


def shop_of(request: Request) -> ShopState:
    shop = get_state(request).shop
    if shop is None:
        raise SkinKioskError(ErrorKind.SHOP_UNAVAILABLE, "no shop on this device")
    return shop


def _table(shop: ShopState) -> ConcernTable:
    if shop.table is None:
        raise SkinKioskError(ErrorKind.SHOP_UNAVAILABLE, shop.table_error or "no concern table")
    return shop.table


def _catalogue(shop: ShopState) -> Catalogue:
    if shop.catalogue.catalogue is None:
        why = (shop.catalogue.error or "").splitlines()
        raise SkinKioskError(ErrorKind.SHOP_UNAVAILABLE, "no valid catalogue loaded (skin-kiosk check-config says "
                             f"why){': ' + why[1].strip() if len(why) > 1 else ''}")
    return shop.catalogue.catalogue


def _first_face(envelope: Any) -> dict[str, Any]:
    """The envelope's first face, its shape checked for what the shop reads (edge/api/scored_face.py)."""
    if not isinstance(envelope, dict):
        raise SkinKioskError(ErrorKind.INVALID_PARAMETER, "envelope: must be an analyze response object")
    if envelope.get("error_code", 0) != 0:
        raise SkinKioskError(ErrorKind.INVALID_PARAMETER, "envelope: an error response has no face")
    wrapped = "result" in envelope
    result = envelope.get("result") if wrapped else envelope
    faces = result.get("face_list") if isinstance(result, dict) else None
    if not isinstance(faces, list) or not faces or not isinstance(faces[0], dict):
        raise SkinKioskError(ErrorKind.INVALID_PARAMETER, "envelope: result.face_list holds no face")
    problem = face_problem(faces[0])
    if problem is not None:
        where = "envelope.result.face_list[0]" if wrapped else "envelope.face_list[0]"
        raise SkinKioskError(ErrorKind.INVALID_PARAMETER, f"{where}.{problem}")
    return faces[0]


def _scan_and_face(state: ApiState, body: RecommendRequest) -> tuple[dict[str, Any], LastScan | None]:
    if (body.result_id is None) == (body.envelope is None):
        raise SkinKioskError(ErrorKind.INVALID_PARAMETER, "give one of result_id (a kiosk scan) or envelope")
    if body.result_id is not None:
        scan = state.last_scan
        if scan is None or scan.result_id != body.result_id or scan.envelope.get("error_code") != 0:
            raise SkinKioskError(ErrorKind.NOT_FOUND, "no scan with this result_id (erased or expired)")
        return _first_face(scan.envelope), scan
    return _first_face(body.envelope), None


@dataclass(frozen=True)
class History:
    """What a diary profile's earlier visits add to today's scan."""

    changes: list[Change] | None  # None: no diary profile given; []: no earlier visit scored alike
    previous_at: float | None  # the visit compared with
    acne_before: bool | None  # acne found on an earlier visit (None: no diary profile given)


async def _history(state: ApiState, table: ConcernTable, profile_id: str | None, now: dict[str, float],
                   scan: LastScan | None) -> History:
    if profile_id is None:
        return History(None, None, None)
    diary = state.diary
    if diary is None:
        raise SkinKioskError(ErrorKind.NOT_FOUND, "the diary is not enabled on this device")
    if await to_thread(diary.get_profile, profile_id) is None:
        raise SkinKioskError(ErrorKind.NOT_FOUND, "unknown diary profile")
    this_visit = scan.visit_id if scan is not None and scan.profile_id == profile_id else None
    earlier = [v for v in await to_thread(diary.concern_history, profile_id) if v.visit_id != this_visit]
    acne_before = acne_in_history(v.scores for v in earlier)
    previous = next((v for v in earlier if v.version == table.version), None)
    if previous is None:
        return History([], None, acne_before)
    return History(changes(previous.scores, now, table.mdc), previous.taken_at, acne_before)


@dataclass(frozen=True)
class Built:
    """One face's recommendation and what it was made from."""

    catalogue: Catalogue
    table: ConcernTable
    face: dict[str, Any]
    scan: LastScan | None
    scores: dict[str, ConcernScore]
    profile: SkinProfile
    rec: Recommendation
    changes: list[Change] | None  # None: no diary profile given; []: its first visit
    previous_at: float | None

    def response(self) -> RecommendResponse:
        cat = self.catalogue
        return RecommendResponse(
            result_id=self.scan.result_id if self.scan else None, scores_version=self.table.version,
            catalogue={"version": cat.sha256[:12], "products": len(cat.products), "currency": cat.currency},
            profile=self.profile.as_dict(), concerns=[s.as_dict() for s in self.scores.values()],
            ranked=[p.as_dict(cat) for p in self.rec.ranked], routine=[p.as_dict(cat) for p in self.rec.routine],
            excluded=[{"id": e.product_id, "why": e.why} for e in self.rec.excluded],
            changes=None if self.changes is None else {"previous_visit_at": self.previous_at,
                                                       "items": [c.as_dict() for c in self.changes]})


async def _build(request: Request, body: RecommendRequest) -> Built:
    state, shop = get_state(request), shop_of(request)
    catalogue, table = _catalogue(shop), _table(shop)
    face, scan = _scan_and_face(state, body)
    scores = concern_scores(face, table.full)
    if not isinstance(face.get("extended"), dict) or not plain_scores(scores):
        raise SkinKioskError(ErrorKind.INVALID_PARAMETER, "the face has no measurements to score: analyse it with "
                             "extended=true and the fields color, acnespotmole, wrinkle, eyesattr, blackheadpore, "
                             "skinquality")
    history = await _history(state, table, body.profile_id, plain_scores(scores), scan)
    profile = replace(skin_profile(face), acne_found_before=history.acne_before)
    rec = recommend(catalogue, scores, profile, limit=state.settings.shop.shown_products)
    return Built(catalogue, table, face, scan, scores, profile, rec, history.changes, history.previous_at)


@router.post("/recommend", response_model=RecommendResponse, dependencies=[Depends(require_kiosk_access)])
async def recommend_route(request: Request, body: RecommendRequest) -> RecommendResponse:
    """The store's shelf ranked for one face, with a reason per product and a routine."""
    return (await _build(request, body)).response()


@router.get("/catalogue", response_model=CatalogueOut, dependencies=[Depends(require_kiosk_access)])
async def catalogue_route(request: Request) -> CatalogueOut:
    catalogue = _catalogue(shop_of(request))
    return CatalogueOut(version=catalogue.sha256[:12], currency=catalogue.currency, products=[
        {**p.model_dump(mode="json"), "image_url": f"/api/v1/shop/images/{p.id}"} for p in catalogue.products])


@router.get("/images/{product_id}", response_class=FileResponse, dependencies=[Depends(require_kiosk_access)])
async def image_route(request: Request, product_id: str) -> FileResponse:
    catalogue = _catalogue(shop_of(request))
    product = catalogue.by_id(product_id)
    if product is None:
        raise SkinKioskError(ErrorKind.NOT_FOUND, "no product with this id")
    path = catalogue.image_path(product)
    if not path.is_file():  # removed from the folder after the catalogue was loaded
        raise SkinKioskError(ErrorKind.NOT_FOUND, "the product's image file is missing")
    return FileResponse(path, headers={"Cache-Control": "max-age=300"})


def _check_admin(request: Request, shop: ShopState) -> None:
    key = shop.catalogue.admin_key
    if not key:
        raise SkinKioskError(ErrorKind.FORBIDDEN, "catalogue replacement is off: set catalogue.admin_key_file")
    presented = request.headers.get(ADMIN_KEY_HEADER, "")
    if not hmac.compare_digest(presented.encode(), key.encode()):
        raise SkinKioskError(ErrorKind.UNAUTHORIZED, "missing or wrong X-Admin-Key")


@router.put("/catalogue", response_model=CatalogueReplaced, responses={401: {"model": Envelope},
            403: {"model": Envelope}, 413: {"model": Envelope}, 422: {"model": Envelope}})
async def replace_catalogue(request: Request, format: str | None = None) -> CatalogueReplaced:  # noqa: A002
    """Replace the catalogue (the body is the whole file, YAML or CSV: `Content-Type` or `?format=`)."""
    shop = shop_of(request)
    _check_admin(request, shop)
    fmt = format or CONTENT_TYPES.get(request.headers.get("content-type", "").split(";")[0].strip().lower())
    if fmt not in ("yaml", "csv"):
        raise SkinKioskError(ErrorKind.INVALID_PARAMETER, "format: send Content-Type text/yaml or text/csv, "
                             "or ?format=yaml|csv")
    raw = await read_body_capped(request, MAX_FILE_BYTES, ErrorKind.CATALOGUE_TOO_LARGE)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SkinKioskError(ErrorKind.CATALOGUE_INVALID, "not UTF-8 text") from None
    try:
        fresh = await to_thread(shop.catalogue.replace, text, fmt)
    except CatalogueError as exc:
        raise SkinKioskError(ErrorKind.CATALOGUE_INVALID, "; ".join(exc.problems)) from None
    except OSError as exc:
        raise SkinKioskError(ErrorKind.SHOP_UNAVAILABLE, f"cannot write {shop.catalogue.path.name}: "
                             f"{exc.strerror}; the current catalogue is kept") from None
    return CatalogueReplaced(products=len(fresh.products), version=fresh.sha256[:12])


def _overlay(scan: LastScan, face: dict[str, Any]) -> bytes | None:
    """The scan's face, square, with its findings drawn (edge/overlay.py), as JPEG."""
    from edge.overlay import draw_findings

    image = cv2.imdecode(np.frombuffer(scan.jpeg, np.uint8), cv2.IMREAD_COLOR)
    loc = face.get("location")
    if image is None or not isinstance(loc, dict):
        return None
    h, w = image.shape[:2]
    side = min(max(loc["width"], loc["height"]) * OVERLAY_MARGIN, w, h)
    x0 = int(np.clip(loc["left"] + loc["width"] / 2 - side / 2, 0, w - side))
    y0 = int(np.clip(loc["top"] + loc["height"] / 2 - side / 2, 0, h - side))
    cut = image[y0 : y0 + int(side), x0 : x0 + int(side)]
    k = OVERLAY_PX / max(cut.shape[:2])
    big = cv2.resize(cut, None, fx=k, fy=k, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC)
    drawn = draw_findings(big, [face], to_original=1.0 / k, origin=(x0, y0))
    ok, buf = cv2.imencode(".jpg", drawn, [cv2.IMWRITE_JPEG_QUALITY, OVERLAY_JPEG_QUALITY])
    return buf.tobytes() if ok else None


def _routine_items(catalogue: Catalogue, rec: Recommendation) -> list[RoutineItem]:
    items = []
    for pick in rec.routine:
        path = catalogue.image_path(pick.product)
        mime = IMAGE_TYPES[path.suffix.lower()]  # the catalogue admits these suffixes only
        try:
            items.append(RoutineItem(pick, path.read_bytes(), mime))
        except OSError:
            items.append(RoutineItem(pick, None))
    return items


@router.post("/report", response_model=ReportCreated, dependencies=[Depends(require_kiosk_access)])
async def create_report(request: Request, body: RecommendRequest) -> ReportCreated:
    """A take-home report of this scan and its routine, behind a random link that lives
    shop.report_ttl_s; the QR code (SVG) carries the link for a phone on the shop's network. When the
    link is this device's loopback (shop.report_base_url unset and the page loaded from 127.0.0.1), no
    phone can open it: `phone_reachable` is false and `note` says what to set."""
    import segno

    shop = shop_of(request)
    template = shop.template
    if template is None:
        raise SkinKioskError(ErrorKind.SHOP_UNAVAILABLE, "take-home reports are off: the report template cannot be read")
    b = await _build(request, body)
    now = time.time()
    ttl = shop.reports.ttl_s
    overlay = await to_thread(_overlay, b.scan, b.face) if b.scan is not None else None
    items = await to_thread(_routine_items, b.catalogue, b.rec)
    data = ReportData(concerns=list(b.scores.values()), profile=b.profile, routine=items,
                      currency=b.catalogue.currency, changes=b.changes, previous_visit_at=b.previous_at,
                      overlay_jpeg=overlay, created_at=now, expires_at=now + ttl)
    token = shop.reports.new_token()
    html = await to_thread(render_html, data, template, f"/r/{token}.pdf")
    shop.reports.add(token, data, html, b.scan.result_id if b.scan else None, body.profile_id)
    url = f"{report_link_base(get_state(request).settings, str(request.base_url))}/r/{token}"
    reachable = not loopback_only(url)
    qr = segno.make(url, error="m")
    return ReportCreated(token=token, url=url, path=f"/r/{token}", pdf_path=f"/r/{token}.pdf", expires_in_s=ttl,
                         expires_at=now + ttl, qr_svg=qr.svg_data_uri(scale=QR_SCALE, border=2),
                         phone_reachable=reachable, note=None if reachable else REPORT_LINK_NOTE)


def _report(request: Request, token: str) -> Report:
    host = request.client.host if request.client else ""
    if not is_local_network(host):
        raise SkinKioskError(ErrorKind.FORBIDDEN, "report links are served to the shop's local network only")
    report, gone = shop_of(request).reports.get(token)
    if report is None:
        if gone:
            raise SkinKioskError(ErrorKind.GONE, "this report link expired or was deleted")
        raise SkinKioskError(ErrorKind.NOT_FOUND, "no such report")
    return report


# The PDF route first: /r/{token} would also match "<token>.pdf".
@public.get("/r/{token}.pdf", response_class=Response, include_in_schema=True,
            responses={403: {"model": Envelope}, 404: {"model": Envelope}, 410: {"model": Envelope}})
async def report_pdf(request: Request, token: str) -> Response:
    """The take-home report as a one-page A4 PDF (local network only)."""
    report = _report(request, token)
    pdf = await to_thread(report.pdf)
    return Response(pdf, media_type="application/pdf", headers={
        **PRIVATE, "Content-Disposition": 'inline; filename="skin-report.pdf"'})


@public.get("/r/{token}", response_class=HTMLResponse,
            responses={403: {"model": Envelope}, 404: {"model": Envelope}, 410: {"model": Envelope}})
async def report_page(request: Request, token: str) -> HTMLResponse:
    """The take-home report page (print CSS, one A4 page; local network only)."""
    return HTMLResponse(_report(request, token).html, headers=PRIVATE)
