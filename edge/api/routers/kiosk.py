"""The kiosk page's endpoints: live preview and status (polled), scan, last captured image, forget.

Loopback (the page on the device) needs no key. The captured photo lives in memory only, replaced by
the next scan, erased by "delete my data" or after LAST_SCAN_TTL_S; GET /privacy tells the page those
times (and the take-home report's), so its privacy notice states them from the configuration.
"""

from __future__ import annotations

import uuid
from typing import Any

import cv2
import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from edge.analysis.base import FACE_FIELDS
from edge.api.live import ReplayLive
from edge.api.routers.analyze import check_available
from edge.api.routers.deps import require_kiosk_access
from edge.api.routers.diary import record_visit
from edge.api.schemas import (
    Envelope,
    ForgetRequest,
    ForgetResponse,
    KioskStatus,
    PrivacyInfo,
    ScanRequest,
    ScanResponse,
)
from edge.api.shop_state import REPORT_LINK_NOTE, loopback_only, report_link_base
from edge.api.state import LAST_SCAN_TTL_S, ApiState, LastScan, get_state, to_thread
from edge.errors import ErrorKind, SkinKioskError
from edge.pipeline import Engine

SCAN_JPEG_QUALITY = 92
NO_STORE = {"Cache-Control": "no-store"}

router = APIRouter(prefix="/api/v1/kiosk", tags=["kiosk"], dependencies=[Depends(require_kiosk_access)])


def _live(state: ApiState) -> Any:
    if state.live is None:
        raise SkinKioskError(ErrorKind.NOT_FOUND, "no live source on this device")
    return state.live


@router.get("/preview.jpg", response_class=Response)
async def preview(request: Request) -> Response:
    """The latest preview frame (JPEG)."""
    jpeg = _live(get_state(request)).snapshot_jpeg()
    if jpeg is None:
        raise SkinKioskError(ErrorKind.NOT_FOUND, "no preview frame yet")
    return Response(jpeg, media_type="image/jpeg", headers=NO_STORE)


@router.get("/privacy", response_model=PrivacyInfo)
async def privacy(request: Request) -> PrivacyInfo:
    """How long this kiosk keeps the photo and a take-home report (from its configuration), and whether a
    take-home link made for this page could be opened on a phone."""
    state = get_state(request)
    reachable = not loopback_only(report_link_base(state.settings, str(request.base_url)))
    return PrivacyInfo(photo_kept_s=LAST_SCAN_TTL_S,
                       report_kept_s=state.shop.reports.ttl_s if state.shop is not None else None,
                       take_home_link=reachable, take_home_note=None if reachable else REPORT_LINK_NOTE)


@router.get("/status", response_model=KioskStatus)
async def status(request: Request) -> dict[str, Any]:
    """Face box (preview px) and guidance for the live screen."""
    return _live(get_state(request)).status()


def _encode_frame(frame: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, SCAN_JPEG_QUALITY])
    if not ok:
        raise SkinKioskError(ErrorKind.INTERNAL_ERROR, "cannot encode the captured frame")
    return buf.tobytes()


@router.post("/scan", response_model=ScanResponse, responses={404: {"model": Envelope}, 503: {"model": Envelope}})
async def scan(request: Request, body: ScanRequest | None = None) -> ScanResponse:
    """Analyse the current full-resolution frame with the fields asked for, else `capture.analysis_fields`,
    else every available field, through the same bounded pool as the API. The result's coordinates
    refer to the pixels of `image_url`."""
    state = get_state(request)
    body = body or ScanRequest()
    fields = body.face_field
    if fields is None:  # the kiosk's configured fields (shared with the capture daemon), else all available
        configured = getattr(state.settings.capture, "analysis_fields", None)
        fields = list(configured) if configured is not None else Engine.available_fields()
    check_available(fields)
    if body.profile_id and state.diary is not None:  # refuse an unknown profile before analysing anything
        diary = state.diary
        if await to_thread(diary.get_profile, body.profile_id) is None:
            raise SkinKioskError(ErrorKind.NOT_FOUND, "unknown diary profile")
    frame = _live(state).capture_frame()
    if frame is None:
        raise SkinKioskError(ErrorKind.NOT_FOUND, "no camera frame yet")
    # The frame goes through JPEG once: the same bytes feed the analysis and the overlay, so the
    # page's coordinates match its image exactly (and the API's decode path is reused).
    jpeg = await to_thread(_encode_frame, frame)
    envelope = await state.analyze_bytes(jpeg, list(fields), 1, body.extended, use_cache=False)
    result_id = uuid.uuid4().hex
    h, w = frame.shape[:2]
    visit_id = None
    if body.profile_id and state.diary is not None:
        visit_id = await record_visit(state, envelope, body.profile_id, body.track_changes)
    state.set_last_scan(LastScan(result_id, jpeg, w, h, envelope, fields=list(fields), visit_id=visit_id,
                                 profile_id=body.profile_id if visit_id else None))
    if isinstance(state.live, ReplayLive):  # a daemon tracks its own results; the replay has no other
        state.live.last_result_id = result_id
    return ScanResponse(result_id=result_id, envelope=envelope, image_url=f"/api/v1/kiosk/last/image.jpg?id={result_id}",
                        image_width=w, image_height=h, fields=list(fields), visit_id=visit_id)


def fields_of(face: dict[str, Any]) -> list[str]:
    """The face_field names a face object answers, in seed order."""
    present = set(face) | {k for k in ("color", "smooth") if k in face.get("skin", {})}
    return [f for f in FACE_FIELDS if f in present]


@router.get("/last", response_model=ScanResponse, responses={404: {"model": Envelope}})
async def last(request: Request) -> ScanResponse:
    """The last result (a Scan or the daemon's auto-capture), while it is kept: the page shows it when
    `status.last_result_id` changes."""
    scan_ = get_state(request).last_scan
    if scan_ is None or scan_.envelope.get("error_code") != 0:
        raise SkinKioskError(ErrorKind.NOT_FOUND, "no result (erased or expired)")
    faces = scan_.envelope["result"]["face_list"]
    fields = scan_.fields if scan_.fields is not None else (fields_of(faces[0]) if faces else [])
    return ScanResponse(result_id=scan_.result_id, envelope=scan_.envelope,
                        image_url=f"/api/v1/kiosk/last/image.jpg?id={scan_.result_id}", image_width=scan_.width,
                        image_height=scan_.height, fields=fields)


@router.get("/last/image.jpg", response_class=Response)
async def last_image(request: Request, id: str | None = None) -> Response:  # noqa: A002 (query name)
    """The frame of the last scan (JPEG), while it is kept."""
    scan_ = get_state(request).last_scan
    if scan_ is None or (id is not None and id != scan_.result_id):
        raise SkinKioskError(ErrorKind.NOT_FOUND, "no captured image (erased or expired)")
    return Response(scan_.jpeg, media_type="image/jpeg", headers=NO_STORE)


@router.post("/forget", response_model=ForgetResponse)
async def forget(request: Request, body: ForgetRequest | None = None) -> ForgetResponse:
    """"Delete my data": erase the captured image and result now, the take-home report links made since
    the last "Delete my data" (unless `keep_reports`: the page's idle reset) and, with a profile id, the
    diary profile with all its visits and reports (a deletion notice is queued for the cloud copy)."""
    state = get_state(request)
    body = body or ForgetRequest()
    cleared = state.set_last_scan(None)
    state.cache.clear()  # the result cache may hold this person's face list
    deleted = False
    if body.profile_id and state.diary is not None:
        deleted = await to_thread(state.diary.delete_profile, body.profile_id)
    reports = 0
    if state.shop is not None:
        if not body.keep_reports:
            reports = state.shop.reports.delete_mine(body.profile_id)
        elif body.profile_id and deleted:
            reports = state.shop.reports.delete_profile(body.profile_id)
    return ForgetResponse(cleared_scan=cleared, deleted_profile=deleted, deleted_reports=reports,
                          diary_available=state.diary is not None)
