"""Prometheus metrics of the kiosk daemon, in the default registry; `expose_in(registry)` adds them to
the API app's own registry so its /metrics shows them too.

Module level because a registry accepts each name once; every KioskService in the process feeds the
same series (there is one per kiosk in production).
"""

from __future__ import annotations

import contextlib

from prometheus_client import CollectorRegistry, Counter, Enum, Gauge, Histogram

from edge.kiosk.quality import GateReason

# Stage latencies run from ~1 ms (detect on lores) to seconds (full analysis on the main frame).
STAGE_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)

FPS = Gauge("skin_kiosk_tracker_fps", "Frames per second processed by the tracking loop")
FRAMES = Counter("skin_kiosk_frames", "Frames delivered by the capture source")
DROPPED = Counter("skin_kiosk_frames_dropped", "Frames replaced before the tracker took them (latest wins)")
REOPENS = Counter("skin_kiosk_source_reopens", "Times the capture source was closed and reopened after a failure")
GATE = Enum("skin_kiosk_gate_state", "Current capture-quality gate reason", states=[r.value for r in GateReason])
STAGE_SECONDS = Histogram("skin_kiosk_daemon_stage_seconds", "Latency per stage of the kiosk daemon loops", ["stage"],
                          buckets=STAGE_BUCKETS)
CAPTURES = Counter("skin_kiosk_captures", "Analyses run on a full-resolution frame", ["trigger", "outcome"])

COLLECTORS = (FPS, FRAMES, DROPPED, REOPENS, GATE, STAGE_SECONDS, CAPTURES)


def expose_in(registry: CollectorRegistry) -> None:
    """Also serve the daemon's series from `registry` (idempotent)."""
    for collector in COLLECTORS:
        with contextlib.suppress(ValueError):  # already registered there
            registry.register(collector)
