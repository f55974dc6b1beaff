"""Prometheus metrics of the kiosk daemon (default registry: the API's /metrics exposes them).

Module level because a registry accepts each name once per process; every KioskService in the
process feeds the same series (there is one per kiosk in production).
"""

from __future__ import annotations

from prometheus_client import Counter, Enum, Gauge, Histogram

from edge.kiosk.quality import GateReason

# Stage latencies run from ~1 ms (detect on lores) to seconds (full analysis on the main frame).
STAGE_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)

FPS = Gauge("skin_kiosk_tracker_fps", "Frames per second processed by the tracking loop")
FRAMES = Counter("skin_kiosk_frames", "Frames delivered by the capture source")
DROPPED = Counter("skin_kiosk_frames_dropped", "Frames replaced before the tracker took them (latest wins)")
REOPENS = Counter("skin_kiosk_source_reopens", "Times the capture source was closed and reopened after a failure")
GATE = Enum("skin_kiosk_gate_state", "Current capture-quality gate reason", states=[r.value for r in GateReason])
STAGE_SECONDS = Histogram("skin_kiosk_stage_seconds", "Latency per stage of the kiosk loops", ["stage"],
                          buckets=STAGE_BUCKETS)
CAPTURES = Counter("skin_kiosk_captures", "Analyses run on a full-resolution frame", ["trigger", "outcome"])
