#!/usr/bin/env python3
"""Benchmark the kiosk's tracking loop at 640x480: BlazeFace + smoothed box + head pose (face mesh)
+ quality gate per frame, exactly the daemon's `TrackingStep`, on the real astronaut portrait moving
a little (so every stage runs every frame).

Two runs: `max` processes frames back to back (the loop's ceiling); `paced` feeds 30 fps like a
camera and reports the share of a core it needs. CPU% is process CPU time (all threads, from
`time.process_time`/`resource.getrusage`) over wall time: 100% = one full core.

    scripts/bench_tracker.py [--frames 300] [--fps 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edge.config import load_settings  # noqa: E402
from edge.kiosk.quality import QualityGate  # noqa: E402
from edge.kiosk.service import TrackingStep, default_tracker  # noqa: E402

LORES = (640, 480)
FACE_SIDE = 460  # portrait side in the frame: the face is ~0.28 of the width, so the mesh runs too
TARGET_FPS, MAX_CORES = 30.0, 1.0


def portrait() -> np.ndarray:
    """Head and shoulders of scikit-image's astronaut (public domain; a dev dependency, as in bench.py)."""
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)[5:265, 95:355]


def frames(n: int) -> list[np.ndarray]:
    face = cv2.resize(portrait(), (FACE_SIDE, FACE_SIDE), interpolation=cv2.INTER_AREA)
    out = []
    for i in range(n):
        frame = np.full((LORES[1], LORES[0], 3), 96, np.uint8)
        x = int(90 + 4 * math.sin(i / 5))  # a person never stands perfectly still
        frame[10 : 10 + FACE_SIDE, x : x + FACE_SIDE] = face
        out.append(frame)
    return out


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(step: TrackingStep, images: list[np.ndarray], fps: float | None) -> dict[str, float]:
    stages: dict[str, list[float]] = {}
    reasons: dict[str, int] = {}
    t0, c0, p0 = time.perf_counter(), cpu_seconds(), time.process_time()
    for i, img in enumerate(images):
        if fps:  # wait for the "camera" to deliver frame i
            due = t0 + i / fps
            if (delay := due - time.perf_counter()) > 0:
                time.sleep(delay)
        _, result = step.process(img)
        reasons[result.reason.value] = reasons.get(result.reason.value, 0) + 1
        for stage, seconds in step.timings.items():
            stages.setdefault(stage, []).append(seconds * 1000)
    wall = time.perf_counter() - t0
    cpu = cpu_seconds() - c0
    out = {"frames": len(images), "wall_s": round(wall, 3), "fps": round(len(images) / wall, 1),
           "cpu_percent": round(100 * cpu / wall, 1), "process_time_percent": round(100 * (time.process_time() - p0) / wall, 1)}
    for stage, ms in stages.items():
        out[f"{stage}_p50_ms"] = round(float(np.percentile(ms, 50)), 2)
        out[f"{stage}_p95_ms"] = round(float(np.percentile(ms, 95)), 2)
    out["gate"] = reasons  # type: ignore[assignment]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--fps", type=float, default=TARGET_FPS, help="input rate of the paced run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    step = TrackingStep(default_tracker(settings), QualityGate(settings.gate))
    images = frames(args.frames)
    for img in images[:10]:  # warm-up: interpreter allocation, first XNNPACK runs
        step.process(img)
    report = {"max": run(step, images, None), "paced": run(step, images, args.fps)}
    # The target is a camera's 30 fps on at most one core: the paced run measures exactly that. The
    # back-to-back run only shows the ceiling (its interpreters may use both cores while racing).
    ok = report["max"]["fps"] >= TARGET_FPS and report["paced"]["fps"] >= TARGET_FPS * 0.98 \
        and report["paced"]["cpu_percent"] <= 100 * MAX_CORES
    report["target"] = f">= {TARGET_FPS:g} fps on <= {MAX_CORES:g} core: {'PASS' if ok else 'FAIL'}"
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name in ("max", "paced"):
            r = report[name]
            stages = "  ".join(f"{s} {r[f'{s}_p50_ms']}/{r[f'{s}_p95_ms']}" for s in ("detect", "pose", "gate", "track_loop"))
            print(f"{name:6s} {r['fps']:7.1f} fps  CPU {r['cpu_percent']:5.1f}%  (p50/p95 ms: {stages})  gate {r['gate']}")
        print(report["target"])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
