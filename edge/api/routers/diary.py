"""The skin diary: create a profile (optional PIN), reopen it by PIN, history + trends, delete.

Kiosk routes (loopback needs no key). Without a diary on this device every route answers NOT_FOUND
and /api/v1/diary/status says available=false, so the page can hide or degrade its diary actions.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from edge.api.pin_throttle import PinThrottle
from edge.api.routers.deps import require_kiosk_access
from edge.api.schemas import (
    DeleteOut,
    DiaryStatus,
    Envelope,
    HistoryOut,
    ProfileCreate,
    ProfileLogin,
    ProfileOut,
    VisitOut,
)
from edge.api.state import ApiState, get_state, to_thread
from edge.errors import ErrorKind, SkinKioskError

MAX_HISTORY = 500
PIN_REFUSED = "pin: this PIN cannot be used; choose another of 6-128 characters"

router = APIRouter(prefix="/api/v1/diary", tags=["diary"], dependencies=[Depends(require_kiosk_access)],
                   responses={400: {"model": Envelope}, 404: {"model": Envelope}})


def _diary(state: ApiState) -> Any:
    if state.diary is None:
        raise SkinKioskError(ErrorKind.NOT_FOUND, "the diary is not enabled on this device")
    return state.diary


def _profile_out(profile: Any) -> ProfileOut:
    return ProfileOut(profile_id=profile.id, created_at=profile.created_at, has_pin=profile.has_pin)


async def record_visit(state: ApiState, envelope: dict[str, Any], profile_id: str, track: bool) -> str:
    """Record the first face of a successful envelope as a visit, with its concern scores (kept on this
    device, for the change since the last visit); returns the visit id."""
    from edge.diary.store import UnknownProfileError
    from edge.shop.concerns import concern_scores, plain_scores

    face = envelope["result"]["face_list"][0]
    table = state.shop.table if state.shop is not None else None
    # Without the concern table (the shop is off, and says why) the visit is kept without concern scores.
    concerns = plain_scores(concern_scores(face, table.full)) if table is not None else None
    try:
        visit = await to_thread(lambda: _diary(state).record_visit(
            face, profile_id=profile_id, opt_in_tracking=track, concerns=concerns,
            concerns_version=table.version if table is not None else 0))
    except UnknownProfileError:
        raise SkinKioskError(ErrorKind.NOT_FOUND, "unknown diary profile") from None
    return str(visit.id)


@router.get("/status", response_model=DiaryStatus)
async def diary_status(request: Request) -> DiaryStatus:
    return DiaryStatus(available=get_state(request).diary is not None)


def _throttle(request: Request) -> PinThrottle:
    """The app's failed-PIN throttle (one per app, made on first use)."""
    throttle = getattr(request.app.state, "pin_throttle", None)
    if throttle is None:
        throttle = request.app.state.pin_throttle = PinThrottle()
    return throttle


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/profiles", response_model=ProfileOut, status_code=201, responses={429: {"model": Envelope}})
async def create_profile(request: Request, body: ProfileCreate | None = None) -> ProfileOut:
    """A new pseudonymous profile (random id); with a PIN it can be reopened later. A PIN that cannot be
    used (malformed, or already someone's) gets one and the same answer; a taken one also counts as a
    failed PIN attempt, so creating profiles cannot enumerate PINs faster than logging in."""
    from edge.diary.store import DiaryError, PinTakenError

    diary = _diary(get_state(request))
    pin = body.pin if body else None
    if pin is not None:
        _throttle(request).check(_client(request))
    try:
        profile = await to_thread(diary.create_profile, pin)
    except DiaryError as exc:
        if isinstance(exc, PinTakenError):
            _throttle(request).failure(_client(request))
        raise SkinKioskError(ErrorKind.INVALID_PARAMETER, PIN_REFUSED) from None
    return _profile_out(profile)


@router.post("/login", response_model=ProfileOut, responses={429: {"model": Envelope}})
async def login(request: Request, body: ProfileLogin) -> ProfileOut:
    """Find a profile by its PIN. Failed attempts are throttled for every client, loopback included
    (edge/api/pin_throttle.py): 429 RATE_LIMITED with Retry-After while locked out."""
    diary = _diary(get_state(request))
    throttle, client = _throttle(request), _client(request)
    throttle.check(client)
    profile = await to_thread(diary.find_profile_by_pin, body.pin)
    if profile is None:
        throttle.failure(client)
        raise SkinKioskError(ErrorKind.NOT_FOUND, "no diary with this PIN")
    return _profile_out(profile)


@router.get("/profiles/{profile_id}/history", response_model=HistoryOut)
async def history(request: Request, profile_id: str, limit: int = MAX_HISTORY) -> HistoryOut:
    """Visits oldest first, and per numeric metric a [taken_at, value] series for trend charts."""
    diary = _diary(get_state(request))
    if await to_thread(diary.get_profile, profile_id) is None:
        raise SkinKioskError(ErrorKind.NOT_FOUND, "unknown diary profile")
    visits = await to_thread(diary.history, profile_id, max(1, min(limit, MAX_HISTORY)))
    trends: dict[str, list[list[float]]] = {}
    for visit in visits:
        for name, value in visit.metrics.items():
            trends.setdefault(name, []).append([visit.taken_at, float(value)])
    return HistoryOut(profile_id=profile_id, trends=trends, visits=[
        VisitOut(visit_id=v.id, taken_at=v.taken_at, summary=v.summary, metrics=v.metrics) for v in visits])


@router.delete("/profiles/{profile_id}", response_model=DeleteOut)
async def delete_profile(request: Request, profile_id: str) -> DeleteOut:
    """Delete my data: the profile, every visit and detail; a tombstone tells the cloud to follow."""
    state = get_state(request)
    diary = _diary(state)
    if not await to_thread(diary.delete_profile, profile_id):
        raise SkinKioskError(ErrorKind.NOT_FOUND, "unknown diary profile")
    state.set_last_scan(None)
    state.cache.clear()
    if state.shop is not None:
        state.shop.reports.delete_profile(profile_id)
    return DeleteOut(deleted=True)
