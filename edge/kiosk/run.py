"""`skin-kiosk serve` with the capture daemon: one process runs capture, tracking, the gate, auto-capture,
the REST API and the kiosk page.

Start-up: the diary opens, the kiosk loops start and load their models, uvicorn binds; then READY=1
goes to systemd and the watchdog pings while every loop beats. SIGTERM/SIGINT: STOPPING=1, uvicorn
stops accepting and finishes its requests, the in-flight analysis finishes and is stored in the
diary, the diary closes, exit 0. (Plain uvicorn re-raises the signal after its shutdown, which would
kill the process before the analysis is stored; `_KioskServer` keeps the signal.)

This module is a composition root, like cli.py: it joins the daemon and the API app (which knows the
daemon only through the LiveSource protocol); `edge.serve.serve` decides to call `run_kiosk`.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import cv2

from edge.capture.base import Frame
from edge.kiosk import metrics
from edge.kiosk.notify import Notifier, SystemdWatchdog
from edge.kiosk.service import KioskService

if TYPE_CHECKING:
    from fastapi import FastAPI

    from edge.config import Settings

log = logging.getLogger(__name__)

GRACEFUL_HTTP_S = 10.0  # longest uvicorn waits for open requests on shutdown
RESULT_JPEG_QUALITY = 92
READY_POLL_S = 0.05
EXIT_OK = 0


def _KioskServer(config: Any, on_signal: Any) -> Any:  # noqa: N802 (kept name)
    """uvicorn.Server whose signal handling stops serving without re-raising the signal afterwards."""
    from edge.api.graceful import graceful_server

    return graceful_server(config, on_signal)


def attach(app: FastAPI, service: KioskService) -> None:
    """Hook the daemon into the API app: auto-capture results become the page's "last scan" (image +
    envelope, as a Scan would), and the daemon's metrics appear on the app's /metrics."""
    from edge.api.state import LastScan

    metrics.expose_in(app.state.api.metrics.registry)

    def on_result(record: dict[str, Any], frame: Frame) -> None:
        ok, buf = cv2.imencode(".jpg", frame.main, [cv2.IMWRITE_JPEG_QUALITY, RESULT_JPEG_QUALITY])
        if ok and record["outcome"] == "ok":
            h, w = frame.main.shape[:2]
            app.state.api.set_last_scan(LastScan(record["id"], buf.tobytes(), w, h, record["envelope"]))

    service.result_listeners.append(on_result)


def run_kiosk(settings: Settings, host: str, port: int) -> int:
    """Run capture + API + UI until SIGTERM/SIGINT; the exit status (0 after an orderly stop)."""
    import uvicorn

    from edge.api.app import create_app
    from edge.api.server import proxy_options

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    notifier = Notifier.from_env()
    diary = None
    try:
        from edge.diary.store import DiaryStore

        diary = DiaryStore.from_settings(settings)
    except Exception as exc:  # the kiosk still works without its diary; say why
        log.warning("diary disabled: %s", exc)
    service = KioskService(settings, diary=diary).start()
    watchdog = SystemdWatchdog(notifier, service.alive)
    app = create_app(settings, live=service, diary=diary)
    attach(app, service)
    stopping = threading.Event()

    def on_signal(sig: int) -> None:
        if not stopping.is_set():
            stopping.set()
            notifier.stopping(f"signal {signal.Signals(sig).name}: finishing")

    config = uvicorn.Config(app, host=host, port=port, log_level="info", access_log=False,
                            timeout_graceful_shutdown=GRACEFUL_HTTP_S, **proxy_options(settings))
    server = _KioskServer(config, on_signal)

    def announce_ready() -> None:
        while not server.started and not server.should_exit:
            time.sleep(READY_POLL_S)
        if server.started:
            watchdog.start(f"serving http://{host}:{port}/")

    threading.Thread(target=announce_ready, name="kiosk-ready", daemon=True).start()
    print(f"skin-kiosk: kiosk page and API on http://{host}:{port}/ (capture: {service.source_name or 'starting'})",
          file=sys.stderr)
    try:
        server.run()
    finally:
        watchdog.stop()
        if not stopping.is_set():
            notifier.stopping("stopping")
        service.stop()  # finishes and stores the in-flight analysis
        if diary is not None:
            diary.close()
        notifier.close()
        log.info("kiosk stopped: %s", {k: service.status()[k] for k in ("frames", "dropped_frames", "captures")})
    return EXIT_OK
