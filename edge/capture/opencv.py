"""OpenCV source: a USB/V4L2 device index, a video file or an RTSP/HTTP URL.

`cv2.VideoCapture.read()` has no timeout of its own (an RTSP stream can hang in it), so a reader
thread grabs frames into a one-slot buffer and `read(timeout)` waits on that slot: the caller's
timeout always holds, and a stale frame is never returned twice.
"""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np

from edge.capture.base import Frame, FrameTimeout, SourceError, split_streams

OPEN_TIMEOUT_MS = 5000  # FFmpeg/GStreamer backends honour these for network streams
READ_TIMEOUT_MS = 5000


def _device_arg(device: str) -> int | str:
    return int(device) if device.strip().isdigit() else device


class OpenCVSource:
    def __init__(self, device: str, main_size: tuple[int, int] = (1920, 1080),
                 lores_size: tuple[int, int] = (640, 480)) -> None:
        self.device = device
        self.name = f"opencv:{device}"
        self.main_size, self.lores_size = main_size, lores_size
        self._cap: cv2.VideoCapture | None = None
        self._cond = threading.Condition()
        self._latest: tuple[np.ndarray, float, int] | None = None
        self._error: str | None = None
        self._seq = 0
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None

    def open(self) -> None:
        if self._reader is not None and self._reader.is_alive():
            return
        self._stop.clear()
        self._error = None
        self._latest = None
        arg = _device_arg(self.device)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS, cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_MS]
        cap = cv2.VideoCapture(arg, cv2.CAP_ANY, params)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"opencv: cannot open {self.device!r}")
        if isinstance(arg, int):  # a camera: ask for the main size; it may pick the nearest mode
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.main_size[0])
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.main_size[1])
        self._cap = cap
        self._reader = threading.Thread(target=self._read_loop, name=f"opencv-reader-{self.device}", daemon=True)
        self._reader.start()

    def _read_loop(self) -> None:
        cap = self._cap
        while not self._stop.is_set() and cap is not None:
            ok, image = cap.read()
            with self._cond:
                if not ok or image is None:
                    self._error = f"opencv: {self.device!r} returned no frame"
                    self._cond.notify_all()
                    return
                self._seq += 1
                self._latest = (image, time.monotonic(), self._seq)
                self._cond.notify_all()

    def read(self, timeout: float) -> Frame:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._latest is None and self._error is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise FrameTimeout(f"opencv: no frame from {self.device!r} in {timeout:.1f}s")
                self._cond.wait(remaining)
            if self._latest is None:
                raise SourceError(self._error or "opencv: source failed")
            image, ts, seq = self._latest
            self._latest = None
        main, lores = split_streams(image, self.main_size, self.lores_size)
        return Frame(main=main, lores=lores, ts=ts, seq=seq)

    def close(self) -> None:
        self._stop.set()
        cap, self._cap = self._cap, None
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.join(timeout=1.0)
            if reader.is_alive():
                # Stuck inside the driver: releasing the capture under it could crash the process,
                # so leave both to the daemon thread (it ends when the driver returns).
                return
        if cap is not None:
            cap.release()
