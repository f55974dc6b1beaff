"""Frame sources: Pi camera (Picamera2), OpenCV (USB/V4L2, file, RTSP) and replay (folder or video)."""

from edge.capture.base import Frame, FrameSource, FrameTimeout, SourceError, SourceExhausted
from edge.capture.factory import open_source

__all__ = ["Frame", "FrameSource", "FrameTimeout", "SourceError", "SourceExhausted", "open_source"]
