"""The FastAPI app factory: state, routers, error handlers, metrics middleware, static UI."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from edge import __version__
from edge.api.auth import Authenticator, load_api_keys
from edge.api.cache import ResultCache
from edge.api.error_headers import retry_after
from edge.api.live import LiveSource
from edge.api.metrics import ApiMetrics
from edge.api.pool import EngineLike, InferencePool
from edge.api.routers import ailab, analyze, health, kiosk, metrics, shop, ui
from edge.api.routers import diary as diary_routes
from edge.api.routers.ui import STATIC_DIR
from edge.api.shop_state import ShopState
from edge.api.state import ApiState
from edge.config import Settings
from edge.envelope import failure
from edge.errors import ErrorKind, SkinKioskError

if TYPE_CHECKING:
    from edge.diary.store import DiaryStore

log = logging.getLogger(__name__)

DOCS_ASSETS = "/docs-assets"
REPORT_PURGE_S = 10.0  # expired report links are erased within this long even if nobody asks for them


def error_response(request: Request, exc: SkinKioskError) -> JSONResponse:
    request.state.error_code = exc.error_code
    headers = retry_after(exc)
    if exc.kind is ErrorKind.UNAUTHORIZED:
        headers["WWW-Authenticate"] = 'ApiKey header="X-API-Key"'
    return JSONResponse(failure(exc), status_code=exc.http_status, headers=headers)


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(SkinKioskError)
    async def on_kiosk_error(request: Request, exc: SkinKioskError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        return error_response(request, SkinKioskError(ErrorKind.INVALID_PARAMETER, f"{where}: {first.get('msg', 'invalid')}"))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(request, SkinKioskError(ErrorKind.NOT_FOUND, request.url.path))
        err = SkinKioskError(ErrorKind.INVALID_PARAMETER, str(exc.detail))
        request.state.error_code = err.error_code
        return JSONResponse(failure(err), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Never a traceback to the client: the catalogue's internal error; details go to the log.
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(failure(SkinKioskError(ErrorKind.INTERNAL_ERROR)), status_code=500)


def _install_metrics(app: FastAPI, api_metrics: ApiMetrics) -> None:
    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Any]) -> Response:
        t0 = time.perf_counter()
        code = str(ErrorKind.INTERNAL_ERROR.code)
        try:
            response: Response = await call_next(request)
            code = str(getattr(request.state, "error_code", 0 if response.status_code < 400 else response.status_code))
            return response
        finally:
            route = request.scope.get("route")
            # Route templates, never raw paths, keep the label set bounded.
            name = getattr(route, "path", None) or ("/static" if request.url.path.startswith("/static/") else "unmatched")
            api_metrics.requests.labels(name, code).inc()
            api_metrics.latency.labels(name).observe(time.perf_counter() - t0)


def swagger_static_dir() -> Path | None:
    """Swagger UI's files from the swagger-ui-py wheel, so /docs works offline (None: not installed)."""
    try:
        import swagger_ui
    except ImportError:
        return None
    folder = Path(swagger_ui.__file__).parent / "static"
    return folder if (folder / "swagger-ui-bundle.js").exists() else None


def _install_docs(app: FastAPI, static: Path) -> None:
    app.mount(DOCS_ASSETS, StaticFiles(directory=static), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="skin-kiosk API",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url="/static/icons/face.svg")


def create_app(settings: Settings, *, live: LiveSource | None = None, diary: DiaryStore | None = None,
               engine_factory: Callable[[], EngineLike] | None = None, warm_up: bool = True) -> FastAPI:
    """The API + kiosk UI. `live` feeds the preview (None: kiosk routes answer NOT_FOUND), `diary` the
    diary routes; `engine_factory` builds one Engine per worker thread (tests may wrap it)."""
    cfg = settings.api
    if engine_factory is None:
        from edge.pipeline import Engine

        def engine_factory() -> EngineLike:
            return Engine.from_settings(settings)

    pool = InferencePool(engine_factory, cfg.workers, cfg.queue_size)
    api_metrics = ApiMetrics(lambda: pool.queue_depth, lambda: pool.running)
    state = ApiState(settings=settings, pool=pool, cache=ResultCache(cfg.cache_size, cfg.cache_ttl_s),
                     auth=Authenticator(load_api_keys(cfg), cfg.rate_limit_per_minute), metrics=api_metrics,
                     live=live, diary=diary, shop=ShopState(settings))

    async def purge_reports() -> None:
        while True:
            await asyncio.sleep(REPORT_PURGE_S)
            state.shop.reports.purge()  # type: ignore[union-attr]

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if warm_up:
            pool.warm_up()
        else:
            pool.ready.set()
        purger = asyncio.create_task(purge_reports())
        try:
            yield
        finally:
            purger.cancel()
            pool.shutdown()

    docs_static = swagger_static_dir()
    # The device may be offline: /docs serves Swagger UI's own files (swagger-ui-py, a dependency); never
    # FastAPI's default page, which loads them from a CDN. Without the files there is no /docs.
    app = FastAPI(title="skin-kiosk", version=__version__, lifespan=lifespan, redoc_url=None, docs_url=None,
                  description="Offline skin analysis: a drop-in for the seed's skin-analysis API, plus the kiosk "
                              "page's endpoints. Errors use the catalogue in README.md.")
    app.state.api = state
    _install_handlers(app)
    _install_metrics(app, api_metrics)
    for module in (analyze, ailab, health, metrics, kiosk, diary_routes, shop, ui):
        app.include_router(module.router)
    app.include_router(shop.public)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if docs_static:
        _install_docs(app, docs_static)
    return app
