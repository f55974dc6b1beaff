"""Pi camera source (Picamera2 / libcamera): the ISP delivers both streams of one exposure.

`main` (up to 1920x1080, RGB888 — which is BGR in memory, OpenCV's order) is for analysis; `lores`
(~640x480, YUV420: the one lores format every Pi accepts) is for tracking. Frames are copied out
inside `captured_request()` so the buffer goes back to the camera at once; every wait has a timeout;
on any failure the caller closes and reopens the camera.

picamera2 comes with Raspberry Pi OS (`apt install python3-picamera2`, venv made with
`--system-site-packages`); it is imported only when this source is chosen.
"""

from __future__ import annotations

import importlib.util
import time
from typing import Any

import cv2
import numpy as np

from edge.capture.base import Frame, FrameTimeout, SourceError

MISSING_MESSAGE = ("capture.source is 'picamera' but the picamera2 module is not installed: on Raspberry Pi OS "
                   "`sudo apt install python3-picamera2` and create the venv with --system-site-packages "
                   "(scripts/install.sh does both), or set capture.source to opencv or replay")
FRAME_BUFFERS = 4  # enough for the ISP to keep running while we copy one request out


def picamera_available() -> bool:
    """True when picamera2 is importable and libcamera lists at least one camera."""
    if importlib.util.find_spec("picamera2") is None:
        return False
    try:
        from picamera2 import Picamera2

        return len(Picamera2.global_camera_info()) > 0
    except Exception:  # a broken libcamera install counts as "no camera"
        return False


def yuv420_to_bgr(buffer: np.ndarray, width: int, height: int) -> np.ndarray:
    """BGR from a planar YUV420 (I420) buffer whose rows are padded to a stride (picamera2 hands it
    over as a (height*3/2, stride) array; the chroma planes have half the stride)."""
    stride = buffer.shape[1]
    flat = np.ascontiguousarray(buffer).reshape(-1)
    luma_end = height * stride
    chroma_rows, chroma_stride = height // 2, stride // 2
    u_end = luma_end + chroma_rows * chroma_stride
    y = flat[:luma_end].reshape(height, stride)[:, :width]
    u = flat[luma_end:u_end].reshape(chroma_rows, chroma_stride)[:, : width // 2]
    v = flat[u_end : u_end + chroma_rows * chroma_stride].reshape(chroma_rows, chroma_stride)[:, : width // 2]
    i420 = np.concatenate([y.reshape(-1), u.reshape(-1), v.reshape(-1)]).reshape(height * 3 // 2, width)
    return cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420)


class PicameraSource:
    def __init__(self, main_size: tuple[int, int] = (1920, 1080), lores_size: tuple[int, int] = (640, 480),
                 camera_num: int = 0) -> None:
        self.name = f"picamera:{camera_num}"
        self.main_size, self.lores_size = main_size, lores_size
        self.camera_num = camera_num
        self._cam: Any = None
        self._seq = 0

    def open(self) -> None:
        if self._cam is not None:
            return
        try:
            from picamera2 import Picamera2
        except ImportError as exc:
            raise SourceError(MISSING_MESSAGE) from exc
        try:
            cam = Picamera2(self.camera_num)
            config = cam.create_video_configuration(
                main={"size": self.main_size, "format": "RGB888"},
                lores={"size": self.lores_size, "format": "YUV420"},
                buffer_count=FRAME_BUFFERS,
            )
            cam.configure(config)
            cam.start()
        except Exception as exc:
            raise SourceError(f"picamera: cannot start camera {self.camera_num}: {exc}") from exc
        self._cam = cam

    def read(self, timeout: float) -> Frame:
        if self._cam is None:
            raise SourceError("picamera: not open")
        try:
            # `wait` is picamera2's job timeout (s): a stalled pipeline raises TimeoutError.
            with self._cam.captured_request(wait=timeout) as request:
                main = request.make_array("main")[:, :, :3].copy()
                # Converted inside the request: the buffer goes back to the camera on exit.
                lores = yuv420_to_bgr(request.make_array("lores"), *self.lores_size)
        except TimeoutError as exc:
            raise FrameTimeout(f"picamera: no frame in {timeout:.1f}s") from exc
        except Exception as exc:
            raise SourceError(f"picamera: capture failed: {exc}") from exc
        self._seq += 1
        return Frame(main=main, lores=lores, ts=time.monotonic(), seq=self._seq)

    def close(self) -> None:
        cam, self._cam = self._cam, None
        if cam is None:
            return
        try:
            cam.stop()
        finally:
            cam.close()
