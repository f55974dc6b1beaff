"""Which frame source the kiosk opens (`open_source`): kept out of the protocol module (base.py) so the
implementations import the protocol and nothing imports back."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from edge.capture.base import FrameSource, SourceError

if TYPE_CHECKING:
    from edge.config import CaptureConfig

log = logging.getLogger(__name__)


def open_source(cfg: CaptureConfig) -> FrameSource:
    """The configured source, not yet opened. 'auto': Pi camera if picamera2 finds one, else an
    OpenCV device that delivers a frame, else the replay source (so the kiosk runs anywhere)."""
    main_size = (cfg.main_width, cfg.main_height)
    lores_size = (cfg.lores_width, cfg.lores_height)
    if cfg.source == "picamera":
        from edge.capture.picamera import PicameraSource

        return PicameraSource(main_size, lores_size)
    if cfg.source == "opencv":
        from edge.capture.opencv import OpenCVSource

        return OpenCVSource(cfg.device, main_size, lores_size)
    if cfg.source == "replay":
        from edge.capture.replay import ReplaySource

        return ReplaySource(cfg.replay_path, cfg.replay_fps, main_size, lores_size)
    return _auto_source(cfg, main_size, lores_size)


def _auto_source(cfg: CaptureConfig, main_size: tuple[int, int], lores_size: tuple[int, int]) -> FrameSource:
    from edge.capture.opencv import OpenCVSource
    from edge.capture.picamera import PicameraSource, picamera_available
    from edge.capture.replay import ReplaySource

    if picamera_available():
        log.info("capture: using the Pi camera")
        return PicameraSource(main_size, lores_size)
    probe = OpenCVSource(cfg.device, main_size, lores_size)
    try:
        probe.open()
        probe.read(timeout=cfg.frame_timeout_s)
        log.info("capture: using OpenCV device %s", cfg.device)
        return probe  # already open; open() again is a no-op
    except SourceError as exc:
        probe.close()
        log.info("capture: no camera (%s); replaying %s", exc, cfg.replay_path)
    return ReplaySource(cfg.replay_path, cfg.replay_fps, main_size, lores_size)
