"""Shared route dependencies: authentication for API routes and for kiosk routes."""

from __future__ import annotations

from fastapi import Request

from edge.api.state import get_state


async def require_api_key(request: Request) -> None:
    """API routes: a valid key (rate-limited), or loopback when no key is configured."""
    get_state(request).auth.check(request, loopback_exempt=False)


async def require_kiosk_access(request: Request) -> None:
    """Kiosk routes: the page on the device itself (loopback) needs no key; others need one."""
    get_state(request).auth.check(request, loopback_exempt=True)
