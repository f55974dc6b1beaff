"""The kiosk page at `/` and its local assets at `/static` (no CDN: the device may be offline)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, RedirectResponse

from edge.api.routers.deps import require_kiosk_access

STATIC_DIR = Path(__file__).resolve().parents[2] / "ui" / "static"

router = APIRouter(tags=["ui"], dependencies=[Depends(require_kiosk_access)], include_in_schema=False)


@router.get("/")
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/kiosk")
async def kiosk_alias() -> RedirectResponse:
    return RedirectResponse("/")
