"""`skin-kiosk serve`: the composition root that decides between the API alone and the kiosk (capture
daemon + API in one process), so that neither `edge.api` nor `edge.kiosk` has to know the other's start-up.

Refuses (exit 2) to bind a non-loopback address while no API key is configured; the MQTT publisher
drains the diary's outbox while either runs (when mqtt.enabled).
"""

from __future__ import annotations

import sys

from edge.api.live import LiveSource
from edge.api.server import bind_refusal
from edge.config import Settings

EXIT_CONFIG = 2


def serve(settings: Settings, host: str | None = None, port: int | None = None, *,
          live: LiveSource | None = None) -> int:
    """Run until interrupted; returns the process exit status."""
    host = host or settings.api.host
    port = port or settings.api.port
    refusal = bind_refusal(settings, host)
    if refusal:
        print(refusal, file=sys.stderr)
        return EXIT_CONFIG
    from edge.runtime.allocator import limit_arenas
    from edge.sync.publisher import running_publisher

    limit_arenas()  # before any worker thread exists (edge/runtime/allocator.py: measured RSS growth)

    with running_publisher(settings):
        if live is None and settings.capture.enabled:
            from edge.kiosk.run import run_kiosk  # the capture daemon feeds the page

            return run_kiosk(settings, host, port)
        from edge.api.server import serve_api

        return serve_api(settings, host, port, live)
