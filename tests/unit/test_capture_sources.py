"""Frame sources: replay (folder, video, looping, pacing), OpenCV (file), Picamera2 absent, auto choice."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.capture.base import FrameTimeout, SourceError, SourceExhausted, fit_size, split_streams
from edge.capture.factory import open_source
from edge.capture.opencv import OpenCVSource
from edge.capture.picamera import PicameraSource
from edge.capture.replay import ReplaySource
from edge.config import CaptureConfig


def numbered(i: int, size: tuple[int, int] = (960, 720)) -> np.ndarray:
    img = np.zeros((size[1], size[0], 3), np.uint8)
    img[:, :] = (10 * i, 100, 200 - 10 * i)
    return img


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (960, 720))
    for i in range(5):
        writer.write(numbered(i))
    writer.release()
    return path


def test_split_streams_fit_sizes() -> None:
    main, lores = split_streams(np.zeros((1080, 1920, 3), np.uint8), (1920, 1080), (640, 480))
    assert main.shape[:2] == (1080, 1920) and lores.shape[:2] == (360, 640)  # aspect kept
    assert fit_size(512, 512, 640, 480) == (480, 480)
    assert fit_size(100, 50, 640, 480) == (100, 50)  # never upscaled


def test_replay_folder_loops_and_keeps_order(tmp_path: Path) -> None:
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i:02d}.png"), numbered(i))
    source = ReplaySource(tmp_path, fps=200, main_size=(1920, 1080), lores_size=(640, 480))
    source.open()
    frames = [source.read(1.0) for _ in range(7)]
    assert [f.seq for f in frames] == [0, 1, 2, 0, 1, 2, 0]
    assert frames[1].main.shape[:2] == (720, 960) and frames[1].lores.shape[:2] == (480, 640)
    assert frames[1].lores_to_main == (1.5, 1.5)
    assert int(frames[2].lores[0, 0, 0]) == 20
    source.close()


def test_replay_is_paced(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), numbered(0, (64, 48)))
    source = ReplaySource(tmp_path, fps=50)
    source.open()
    t0 = time.monotonic()
    for _ in range(11):
        source.read(1.0)
    assert time.monotonic() - t0 >= 10 / 50 * 0.9
    with pytest.raises(FrameTimeout):
        _slow_read(tmp_path)


def _slow_read(folder: Path) -> None:
    source = ReplaySource(folder, fps=0.5)
    source.open()
    source.read(1.0)
    source.read(0.05)  # the next frame is 2 s away: the timeout wins


def test_replay_video_loops_or_ends(video: Path) -> None:
    source = ReplaySource(video, fps=500)
    source.open()
    assert [source.read(1.0).seq for _ in range(7)] == [0, 1, 2, 3, 4, 0, 1]
    once = ReplaySource(video, fps=500, loop=False)
    once.open()
    for _ in range(5):
        once.read(1.0)
    with pytest.raises(SourceExhausted):
        once.read(1.0)


def test_replay_missing_path_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        ReplaySource(tmp_path / "nope", fps=10).open()
    with pytest.raises(SourceError, match="no images"):
        ReplaySource(tmp_path, fps=10).open()


def test_opencv_reads_a_file_then_reports_the_end(video: Path) -> None:
    source = OpenCVSource(str(video), lores_size=(320, 240))
    source.open()
    frames = []
    with pytest.raises(SourceError, match="returned no frame"):
        for _ in range(10):
            frames.append(source.read(2.0))
    source.close()
    # The reader thread keeps only the latest frame: a slow consumer sees fewer, never stale ones.
    assert 1 <= len(frames) <= 5
    seqs = [f.seq for f in frames]
    assert seqs == sorted(set(seqs))
    assert frames[0].main.shape[:2] == (720, 960) and frames[0].lores.shape[:2] == (240, 320)


def test_opencv_bad_device_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="cannot open"):
        OpenCVSource("/nonexistent/video.avi").open()


@pytest.mark.skipif(importlib.util.find_spec("picamera2") is not None, reason="picamera2 is installed here")
def test_picamera_absent_is_a_clear_message() -> None:
    source = open_source(CaptureConfig(source="picamera"))
    assert isinstance(source, PicameraSource)
    assert "picamera2" not in sys.modules  # imported only when opened
    with pytest.raises(SourceError, match="python3-picamera2"):
        source.open()


def test_auto_falls_back_to_replay(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), numbered(0))
    source = open_source(CaptureConfig(source="auto", device="/nonexistent/cam", replay_path=tmp_path))
    assert isinstance(source, ReplaySource)


@pytest.mark.parametrize("stride", [640, 704])  # 704: rows padded, as the ISP does for some widths
def test_yuv420_with_stride_padding_to_bgr(astronaut_bgr: np.ndarray, stride: int) -> None:
    from edge.capture.picamera import yuv420_to_bgr

    w, h = 640, 480
    bgr = cv2.resize(astronaut_bgr, (w, h))
    i420 = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420).reshape(-1)
    y, u, v = i420[: w * h], i420[w * h : w * h * 5 // 4], i420[w * h * 5 // 4 :]
    padded = np.zeros(stride * h * 3 // 2, np.uint8)  # what picamera2 hands over, flattened
    padded[: stride * h].reshape(h, stride)[:, :w] = y.reshape(h, w)
    cs = stride // 2
    padded[stride * h : stride * h + cs * h // 2].reshape(h // 2, cs)[:, : w // 2] = u.reshape(h // 2, w // 2)
    padded[stride * h + cs * h // 2 :].reshape(h // 2, cs)[:, : w // 2] = v.reshape(h // 2, w // 2)
    out = yuv420_to_bgr(padded.reshape(h * 3 // 2, stride), w, h)
    assert out.shape == (h, w, 3)
    assert np.abs(out.astype(int) - bgr.astype(int)).mean() < 4  # chroma subsampling only


class FakePicamera2:
    """Just the picamera2 surface PicameraSource uses; `mode` scripts the next capture."""

    instances: list[FakePicamera2] = []
    mode = "ok"

    def __init__(self, camera_num: int = 0) -> None:
        self.started = self.closed = False
        self.released = 0
        self.waits: list[float | None] = []
        FakePicamera2.instances.append(self)

    @staticmethod
    def global_camera_info() -> list[dict]:
        return [{"Model": "imx708"}]

    def create_video_configuration(self, main: dict, lores: dict, buffer_count: int) -> dict:
        return {"main": main, "lores": lores}

    def configure(self, config: dict) -> None:
        self.config = config

    def start(self) -> None:
        self.started = True

    def captured_request(self, wait: float | None = None):
        import contextlib

        self.waits.append(wait)
        if FakePicamera2.mode == "timeout":
            raise TimeoutError
        if FakePicamera2.mode == "broken":
            raise RuntimeError("dequeue failed")
        cam = self

        class Request:
            def make_array(self, name: str) -> np.ndarray:
                w, h = cam.config[name]["size"]
                if name == "main":
                    return np.full((h, w, 3), 77, np.uint8)
                return np.full((h * 3 // 2, w), 128, np.uint8)

        @contextlib.contextmanager
        def ctx():
            try:
                yield Request()
            finally:
                cam.released += 1

        return ctx()

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.closed = True


def test_picamera_source_with_a_fake_picamera2(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    module = types.ModuleType("picamera2")
    module.Picamera2 = FakePicamera2  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "picamera2", module)
    FakePicamera2.instances.clear()
    FakePicamera2.mode = "ok"
    source = PicameraSource((1280, 720), (640, 480))
    source.open()
    cam = FakePicamera2.instances[0]
    assert cam.started and cam.config["lores"] == {"size": (640, 480), "format": "YUV420"}
    frame = source.read(0.5)
    assert frame.main.shape == (720, 1280, 3) and frame.lores.shape == (480, 640, 3)
    assert cam.waits == [0.5] and cam.released == 1  # every wait has a timeout; the buffer went back
    FakePicamera2.mode = "timeout"
    with pytest.raises(FrameTimeout):
        source.read(0.5)
    FakePicamera2.mode = "broken"
    with pytest.raises(SourceError, match="dequeue failed"):
        source.read(0.5)
    FakePicamera2.mode = "ok"
    source.close()
    assert cam.closed and not cam.started
