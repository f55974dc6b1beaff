"""Liveness, readiness (an engine is warm) and version. Open: they reveal nothing about anyone."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from edge import __version__
from edge.analysis.base import FACE_FIELDS
from edge.api.schemas import FieldsInfo, Health, Readiness, VersionInfo
from edge.api.state import get_state
from edge.pipeline import Engine

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process answers."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(request: Request) -> JSONResponse:
    """Ready once the face models are loaded in at least one worker (503 until then)."""
    state = get_state(request)
    pool = state.pool
    ready = pool.ready.is_set()
    body = Readiness(ready=ready, detail=pool.warm_error, workers=pool.workers, queue_size=pool.queue_size)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/version", response_model=VersionInfo)
async def version() -> VersionInfo:
    return VersionInfo(name="skin-kiosk", version=__version__, fields=Engine.available_fields())


@router.get("/api/v1/fields", response_model=FieldsInfo)
async def fields() -> FieldsInfo:
    """The face_field names this device answers (the kiosk page shows one card per field)."""
    return FieldsInfo(available=Engine.available_fields(), all=list(FACE_FIELDS))
