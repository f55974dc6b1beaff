"""Everything the routers share, built once per app and kept on `app.state.api`."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request

from edge.api.auth import Authenticator
from edge.api.cache import ResultCache, cache_key
from edge.api.live import LiveSource
from edge.api.metrics import ApiMetrics
from edge.api.pool import EngineLike, InferencePool
from edge.config import RequestConfig, Settings
from edge.envelope import success
from edge.pipeline import StageTimer
from edge.request import decode_image

if TYPE_CHECKING:
    from edge.api.shop_state import ShopState
    from edge.diary.store import DiaryStore

LAST_SCAN_TTL_S = 300.0  # the captured photo is forgotten after this long, even without "delete"


@dataclass
class LastScan:
    result_id: str
    jpeg: bytes
    width: int
    height: int
    envelope: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    fields: list[str] | None = None  # None: read from the face object (e.g. an auto-capture)
    visit_id: str | None = None  # the diary visit this scan was recorded as, and for whom
    profile_id: str | None = None


@dataclass
class ApiState:
    settings: Settings
    pool: InferencePool
    cache: ResultCache
    auth: Authenticator
    metrics: ApiMetrics
    live: LiveSource | None = None
    diary: DiaryStore | None = None
    shop: ShopState | None = None
    started_at: float = field(default_factory=time.time)
    _last_scan: LastScan | None = None
    _scan_lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the kiosk's last scan (memory only) -------------------------------------------------------
    @property
    def last_scan(self) -> LastScan | None:
        with self._scan_lock:
            scan = self._last_scan
            if scan is not None and time.monotonic() - scan.at > LAST_SCAN_TTL_S:
                self._last_scan = scan = None
            return scan

    def set_last_scan(self, scan: LastScan | None) -> bool:
        """Replace (or with None, erase) the last scan; True if one was there."""
        with self._scan_lock:
            had = self._last_scan is not None
            self._last_scan = scan
            return had

    # --- analysis through the pool and the cache ---------------------------------------------------
    async def cached_run(self, key: str, job: Callable[[EngineLike], tuple[list[dict[str, Any]], dict[str, float]]],
                         *, use_cache: bool = True) -> tuple[list[dict[str, Any]], bool]:
        """(result, from the cache?): the cached result for `key`, else `job(engine)` on a worker (it
        returns the result and its stage times in ms; decoding belongs in it, so a hit costs no decode).
        Errors the job raises propagate and are never cached."""
        if use_cache and self.cache.enabled:
            hit = self.cache.get(key)
            self.metrics.cache.labels("hit" if hit is not None else "miss").inc()
            if hit is not None:
                return hit, True
        result, stage_ms = await self.pool.run(job)
        self.metrics.observe_stages(stage_ms)
        if use_cache:
            self.cache.put(key, result)
        return result, False

    async def analyze_bytes(self, data: bytes, fields: list[str], max_faces: int, extended: bool,
                            *, use_cache: bool = True) -> dict[str, Any]:
        """The success envelope for image bytes; raises SkinKioskError (never cached)."""
        limits = self.settings.request
        faces, cached = await self.cached_run(
            cache_key(data, fields, max_faces, extended),
            lambda engine: run_analysis(engine, data, limits, fields, max_faces, extended), use_cache=use_cache)
        return success(faces, cached=cached)


def run_analysis(engine: EngineLike, data: bytes, limits: RequestConfig, fields: list[str], max_faces: int,
                 extended: bool) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """On a worker thread: decode (bounded, EXIF-oriented) and analyse; stage times in ms."""
    timer = StageTimer()
    t0 = time.perf_counter()
    decoded = decode_image(data, limits)
    timer.add("decode", time.perf_counter() - t0)
    faces = engine.analyze(decoded.image, fields, max_faces=max_faces, extended=extended,
                           to_original=decoded.to_original, timer=timer)
    return faces, timer.ms


def get_state(request: Request) -> ApiState:
    return request.app.state.api


async def to_thread(fn: Any, *args: Any) -> Any:
    """Short blocking work (SQLite, JPEG encode of a preview) off the event loop."""
    return await asyncio.to_thread(fn, *args)
