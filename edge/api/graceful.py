"""A uvicorn server that stops serving on SIGTERM/SIGINT and then returns, instead of re-raising the
signal afterwards (uvicorn >= 0.29 does, so the process would die with 143 before its own clean-up:
closing the diary, leaving the MQTT publisher's context)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any


def graceful_server(config: Any, on_signal: Callable[[int], None] | None = None) -> Any:
    """A uvicorn.Server for `config`; `on_signal(sig)` is called first when a stop signal arrives."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if on_signal is not None:
                on_signal(sig)
            super().handle_exit(sig, frame)

    return Server(config)
