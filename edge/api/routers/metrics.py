"""GET /metrics: Prometheus text (request counts by error_code, latency per route and stage, queue)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from edge.api.routers.deps import require_kiosk_access
from edge.api.state import get_state

router = APIRouter(tags=["metrics"], dependencies=[Depends(require_kiosk_access)])


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus exposition format; loopback scrapers need no key."""
    return Response(generate_latest(get_state(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)
