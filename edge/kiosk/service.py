"""The kiosk daemon: capture thread -> tracking loop (tracker + quality gate) -> analysis worker.

- Capture thread: reads the source with a timeout and puts each frame in a one-slot mailbox; the
  latest frame wins, a frame replaced before the tracker took it is counted as dropped, so the camera
  is never blocked by a slow consumer. A source that raises or stalls is closed and reopened with
  exponential backoff; the rest of the daemon (and the API) keeps running meanwhile.
- Tracking loop: BlazeFace on the lores frame, the smoothed box, the gate; its result is the UI's
  guidance. When the gate passes and auto-capture is on, it triggers one analysis per face session.
- Analysis worker: runs the full pipeline on the full-resolution frame taken at the trigger, keeps the
  result for the UI and records one diary visit. One job at a time; a trigger while busy is refused.
- stop(): no new triggers, the in-flight (and accepted) analysis finishes and is stored, threads join,
  the source closes. The systemd watchdog (`SystemdWatchdog`) pings only while every loop beats.

`KioskService` implements the API's LiveSource protocol (edge/api/live.py) structurally:
`snapshot_jpeg()`, `status()`, `capture_frame()`, plus `trigger()` and `result()`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np

from edge.capture.base import Frame, FrameSource, SourceError, SourceExhausted
from edge.capture.factory import open_source
from edge.face.pose import HeadPose
from edge.kiosk import metrics
from edge.kiosk.flow import Backoff, FpsMeter, LatestFrame
from edge.kiosk.notify import Heartbeats
from edge.kiosk.quality import GateReason, GateResult, QualityGate
from edge.kiosk.tracker import FaceTracker, Track
from edge.request import fit_for_analysis

if TYPE_CHECKING:
    from edge.config import Settings

log = logging.getLogger(__name__)

IDLE_WAIT_S = 0.25  # longest a loop sleeps without beating its heartbeat
STALL_MARGIN_S = 0.5  # slack on top of the longest legitimate silence of the capture loop
ANALYSIS_MAX_S = 120.0  # an analysis running longer than this counts as a hung inference loop
PREVIEW_JPEG_QUALITY = 80
JOIN_TIMEOUT_S = 5.0
RESULTS_KEPT = 16  # recent results kept for the UI (by id)
CAMERA_DOWN_GUIDANCE = "camera unavailable"  # shown verbatim by the page while the source is reopened


class AnalysisEngine(Protocol):
    def analyze(self, image: np.ndarray, fields: Any = (), max_faces: int = 1, **kwargs: Any) -> list[dict[str, Any]]: ...


class DiaryLike(Protocol):
    def record_visit(self, face: dict[str, Any], *args: Any, **kwargs: Any) -> Any: ...


@dataclass
class Job:
    id: str
    trigger: str
    frame: Frame
    created: float = field(default_factory=time.time)


def _settings_fields(settings: Settings) -> list[str]:
    from edge.pipeline import Engine

    wanted = settings.capture.analysis_fields
    available = Engine.available_fields()
    return available if wanted is None else [f for f in wanted if f in available]


class TrackingStep:
    """One pass of the tracking loop on a lores frame: detect + smooth, then the gate (which asks for
    the head pose only when the face is big enough). Shared by the daemon and scripts/bench_tracker.py."""

    def __init__(self, tracker: FaceTracker, gate: QualityGate) -> None:
        self.tracker, self.gate = tracker, gate
        self.session = 0
        self.timings: dict[str, float] = {}

    def process(self, lores: np.ndarray) -> tuple[Track | None, GateResult]:
        t0 = time.perf_counter()
        track = self.tracker.update(lores)
        t1 = time.perf_counter()
        if track is not None and track.session != self.session:
            self.session = track.session
            self.gate.reset()  # stillness is counted per person
        pose_s = 0.0

        def pose() -> HeadPose | None:
            nonlocal pose_s
            tp = time.perf_counter()
            try:
                return None if track is None else self.tracker.pose(lores, track)
            finally:
                pose_s = time.perf_counter() - tp

        result = self.gate.evaluate(lores, None if track is None else track.box, pose)
        total = time.perf_counter() - t0
        self.timings = {"detect": t1 - t0, "pose": pose_s, "gate": total - (t1 - t0) - pose_s, "track_loop": total}
        return track, result


class KioskService:
    def __init__(
        self,
        settings: Settings,
        *,
        source_factory: Callable[[], FrameSource] | None = None,
        tracker_factory: Callable[[], FaceTracker] | None = None,
        engine_factory: Callable[[], AnalysisEngine] | None = None,
        diary: DiaryLike | None = None,
        fields: list[str] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.settings = settings
        self.cfg = settings.capture
        self.gate_cfg = settings.gate
        self._source_factory = source_factory or (lambda: open_source(settings.capture))
        self._tracker_factory = tracker_factory or (lambda: default_tracker(settings))
        self._engine_factory = engine_factory or (lambda: default_engine(settings))
        self.diary = diary
        self.fields = fields
        self.backoff = backoff or Backoff()
        self.auto_capture = self.gate_cfg.auto_capture

        self.heartbeats = Heartbeats()
        self.listeners: list[Callable[[Frame, Track | None, GateResult], None]] = []
        # Called on the analysis thread with (result record, frame) after each analysis is stored.
        self.result_listeners: list[Callable[[dict[str, Any], Frame], None]] = []
        self._slot = LatestFrame()
        self._stop = threading.Event()
        self._accepting = True
        self._jobs: queue.Queue[Job] = queue.Queue(maxsize=1)
        self._busy = threading.Lock()  # held from accepting a job until it is stored
        self._lock = threading.Lock()  # guards the status fields below
        self._threads: list[threading.Thread] = []
        self._ready = {name: threading.Event() for name in ("capture", "tracking", "analysis")}
        self._errors: dict[str, str] = {}

        self.frames = 0
        self.dropped = 0
        self.reopens = 0
        self.source_name = ""
        self.source_state = "starting"
        self.fps = FpsMeter()
        self.gate = GateResult(GateReason.NO_FACE)
        self.track: Track | None = None
        self.captured_session = 0
        self.captures = 0
        self.analysis_state = "idle"
        self.stage_ms: dict[str, float] = {}
        self.results: dict[str, dict[str, Any]] = {}
        self.last_result_id: str | None = None
        self._jpeg: tuple[tuple[int, float], bytes] | None = None

    # --- life cycle ---------------------------------------------------------------------------------
    def start(self, wait_s: float = 30.0) -> KioskService:
        """Start the loops; returns once each has loaded its models (or `wait_s` passed)."""
        # A healthy capture loop beats at least once per read timeout or backoff step.
        capture_limit = max(self.cfg.frame_timeout_s, self.backoff.maximum) + 2 * IDLE_WAIT_S + STALL_MARGIN_S
        self.heartbeats.register("capture", capture_limit)
        self.heartbeats.register("tracking", max(5.0, 20 * IDLE_WAIT_S))
        self.heartbeats.register("analysis", ANALYSIS_MAX_S)
        for name, target in (("capture", self._capture_loop), ("tracking", self._tracking_loop),
                             ("analysis", self._analysis_loop)):
            thread = threading.Thread(target=self._guard(name, target), name=f"kiosk-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()
        deadline = time.monotonic() + wait_s
        for event in self._ready.values():
            event.wait(max(deadline - time.monotonic(), 0.0))
        return self

    def _guard(self, name: str, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except Exception as exc:  # a dead loop stops the heartbeat: systemd restarts us
                log.exception("kiosk %s loop died", name)
                self._errors[name] = repr(exc)
            finally:
                self._ready[name].set()

        return run

    def stop(self, timeout: float = ANALYSIS_MAX_S) -> None:
        """Refuse new triggers, finish the accepted analysis (stored), stop the loops, close the source."""
        self._accepting = False
        deadline = time.monotonic() + timeout
        # The analysis worker drains its queue before it looks at the stop flag.
        while (not self._jobs.empty() or self._busy.locked()) and time.monotonic() < deadline:
            time.sleep(0.02)
        self._stop.set()
        for thread in self._threads:
            thread.join(max(min(JOIN_TIMEOUT_S, deadline - time.monotonic()), 0.1))
        with self._lock:
            self.source_state = "stopped"

    def alive(self) -> bool:
        """Every loop is running and has beaten recently (the watchdog's condition)."""
        running = all(t.is_alive() for t in self._threads) and len(self._threads) == 3
        return running and not self.heartbeats.stale()

    # --- capture thread -----------------------------------------------------------------------------
    def _capture_loop(self) -> None:
        source: FrameSource | None = None
        self._ready["capture"].set()
        # Open the camera once the tracker has its models: frames before that would only be dropped.
        while not self._ready["tracking"].wait(IDLE_WAIT_S) and not self._stop.is_set():
            self.heartbeats.beat("capture")
        try:
            while not self._stop.is_set():
                self.heartbeats.beat("capture")
                if source is None:
                    source = self._open_source()
                    if source is None:
                        continue
                try:
                    t0 = time.perf_counter()
                    frame = source.read(self.cfg.frame_timeout_s)
                    metrics.STAGE_SECONDS.labels("read").observe(time.perf_counter() - t0)
                except SourceExhausted:
                    log.info("capture: %s has no more frames", source.name)
                    with self._lock:
                        self.source_state = "ended"
                    return
                except Exception as exc:  # raised or stalled: close, back off, reopen
                    self._source_failed(source, exc)
                    source = None
                    continue
                self.backoff.reset()
                dropped = self._slot.put(frame)
                metrics.FRAMES.inc()
                with self._lock:
                    self.frames += 1
                    self.source_state = "ok"
                    if dropped:
                        self.dropped += 1
                        metrics.DROPPED.inc()
        finally:
            if source is not None:
                _close_quietly(source)

    def _open_source(self) -> FrameSource | None:
        try:
            source = self._source_factory()
            with self._lock:
                self.source_name = getattr(source, "name", type(source).__name__)
            source.open()
            return source
        except Exception as exc:
            self._source_failed(None, exc)
            return None

    def _source_failed(self, source: FrameSource | None, exc: Exception) -> None:
        delay = self.backoff.next_delay()
        level = logging.WARNING if isinstance(exc, SourceError) else logging.ERROR
        log.log(level, "capture: %s; reopening in %.1fs", exc, delay)
        if source is not None:
            _close_quietly(source)
        with self._lock:
            self.reopens += 1
            self.source_state = f"reopening: {exc}"
        metrics.REOPENS.inc()
        self._sleep(delay, "capture")

    def _sleep(self, seconds: float, beat: str) -> None:
        """Sleep up to `seconds`, beating the heartbeat, waking at once on stop."""
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            self.heartbeats.beat(beat)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._stop.wait(min(remaining, IDLE_WAIT_S))

    # --- tracking loop ------------------------------------------------------------------------------
    def _tracking_loop(self) -> None:
        step = TrackingStep(self._tracker_factory(), QualityGate(self.gate_cfg))
        self._ready["tracking"].set()
        while not self._stop.is_set():
            self.heartbeats.beat("tracking")
            frame = self._slot.wait_newer(IDLE_WAIT_S)
            if frame is None:
                continue
            track, result = step.process(frame.lores)
            self._record_tracking(track, result, step.timings)
            for listener in self.listeners:
                listener(frame, track, result)
            wants_capture = result.ready and self.auto_capture and track is not None
            if wants_capture and track.session != self.captured_session and self.trigger("auto", frame):
                self.captured_session = track.session  # once per session: a visit is analysed once

    def _record_tracking(self, track: Track | None, result: GateResult, timings: dict[str, float]) -> None:
        for stage, seconds in timings.items():
            if seconds:
                metrics.STAGE_SECONDS.labels(stage).observe(seconds)
        metrics.GATE.state(result.reason.value)
        with self._lock:
            fps = self.fps.tick(time.monotonic())
            self.track = track
            self.gate = result
            self.stage_ms.update({stage: round(seconds * 1000, 2) for stage, seconds in timings.items()})
        metrics.FPS.set(fps)

    # --- triggers and the analysis worker -----------------------------------------------------------
    def trigger(self, source: str = "api", frame: Frame | None = None) -> str | None:
        """Queue an analysis of `frame` (default: the latest); its id, or None when busy or stopping."""
        frame = frame or self._slot.peek()
        if frame is None or not self._accepting or not self._busy.acquire(blocking=False):
            return None
        job = Job(id=uuid.uuid4().hex, trigger=source, frame=frame)
        self._jobs.put_nowait(job)  # room guaranteed: _busy admits one job at a time
        with self._lock:
            self.analysis_state = "queued"
        return job.id

    def _analysis_loop(self) -> None:
        engine = self._engine_factory()
        fields = self.fields if self.fields is not None else _settings_fields(self.settings)
        warm_up = getattr(engine, "warm_up", None)
        if callable(warm_up):
            try:
                warm_up(fields)  # load every model now: the first visitor should not wait for it
            except Exception:  # a broken analyzer fails its analyses, not the daemon
                log.exception("analysis warm-up failed")
        self._ready["analysis"].set()
        while not (self._stop.is_set() and self._jobs.empty()):
            self.heartbeats.beat("analysis")
            try:
                job = self._jobs.get(timeout=IDLE_WAIT_S)
            except queue.Empty:
                continue
            try:
                self._run_job(engine, job, fields)
            finally:
                self._busy.release()
        close = getattr(engine, "close", None)
        if callable(close):
            close()

    def _run_job(self, engine: AnalysisEngine, job: Job, fields: list[str]) -> None:
        from edge.envelope import failure, success
        from edge.errors import ErrorKind, SkinKioskError

        with self._lock:
            self.analysis_state = "running"
        t0 = time.perf_counter()
        visit_id = None
        try:
            # As the API treats a photo: fitted into the analysis box, coordinates in the frame's own px.
            image, to_original = fit_for_analysis(job.frame.main, self.settings.request)
            faces = engine.analyze(image, fields, max_faces=1, extended=True,  # as a Scan: cards need scores
                                   to_original=to_original)
            envelope = success(faces)
            if self.diary is not None and faces:
                visit = self.diary.record_visit(faces[0])
                visit_id = getattr(visit, "id", None)
            outcome = "ok"
        except SkinKioskError as exc:
            envelope, outcome = failure(exc), "no_face" if exc.kind is ErrorKind.NO_FACE else "error"
        except Exception as exc:
            log.exception("analysis %s failed", job.id)
            envelope, outcome = failure(SkinKioskError(ErrorKind.INTERNAL_ERROR)), "error"
            self._errors["analysis_job"] = repr(exc)
        elapsed = time.perf_counter() - t0
        metrics.STAGE_SECONDS.labels("analysis").observe(elapsed)
        metrics.CAPTURES.labels(job.trigger, outcome).inc()
        record = {"id": job.id, "trigger": job.trigger, "taken_at": job.created, "frame_seq": job.frame.seq,
                  "outcome": outcome,
                  "visit_id": visit_id, "analysis_ms": round(elapsed * 1000, 1), "envelope": envelope}
        log.info("analysis %s (%s): %s in %.0f ms", job.id, job.trigger, outcome, elapsed * 1000)
        # Listeners first (the page's "last scan"), then the id in status(): a page that sees the new
        # id and fetches the result must find it.
        for listener in self.result_listeners:
            try:
                listener(record, job.frame)
            except Exception:  # the UI hand-off must never take the analysis loop down
                log.exception("result listener failed")
        with self._lock:
            self.results[job.id] = record
            while len(self.results) > RESULTS_KEPT:
                self.results.pop(next(iter(self.results)))
            if outcome == "ok":
                self.last_result_id = job.id
            self.captures += 1
            self.analysis_state = "idle"
            self.stage_ms["analysis"] = record["analysis_ms"]

    def result(self, result_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self.results.get(result_id)

    # --- LiveSource protocol (edge/api/live.py) -----------------------------------------------------
    def snapshot_jpeg(self) -> bytes | None:
        frame = self._slot.peek()
        if frame is None:
            return None
        key = (frame.seq, frame.ts)  # encode each frame once, however many pages poll
        cached = self._jpeg
        if cached is not None and cached[0] == key:
            return cached[1]
        ok, buf = cv2.imencode(".jpg", frame.lores, [cv2.IMWRITE_JPEG_QUALITY, PREVIEW_JPEG_QUALITY])
        if not ok:
            return None
        self._jpeg = (key, buf.tobytes())
        return self._jpeg[1]

    def capture_frame(self) -> np.ndarray | None:
        frame = self._slot.peek()
        return None if frame is None else frame.main

    def status(self) -> dict[str, Any]:
        frame = self._slot.peek()
        with self._lock:
            track, gate = self.track, self.gate
            camera_down = self.source_state.startswith("reopening")
            guidance, gate_name = (CAMERA_DOWN_GUIDANCE, "no_camera") if camera_down else (gate.guidance, gate.reason.value)
            return {
                "frame_size": ([self.cfg.lores_width, self.cfg.lores_height] if frame is None
                               else [int(frame.lores.shape[1]), int(frame.lores.shape[0])]),
                "face": None if track is None or gate.reason is GateReason.NO_FACE or camera_down else track.as_dict(),
                "guidance": guidance,
                "gate": gate_name,
                "measures": dict(gate.measures),
                "fps": round(self.fps.value, 1),
                "last_result_id": self.last_result_id,
                "analysis": self.analysis_state,
                "captures": self.captures,
                "session": 0 if track is None else track.session,
                "frames": self.frames,
                "dropped_frames": self.dropped,
                "source": self.source_name,
                "source_state": self.source_state,
                "source_reopens": self.reopens,
                "stage_ms": dict(self.stage_ms),
                "alive": self.alive(),
                "errors": dict(self._errors),
            }


def _close_quietly(source: FrameSource) -> None:
    try:
        source.close()
    except Exception as exc:
        log.warning("capture: closing %s failed: %s", getattr(source, "name", source), exc)


def default_tracker(settings: Settings) -> FaceTracker:
    from edge.runtime.manifest import ModelStore

    rt = settings.runtime
    # One thread per interpreter: BlazeFace at 128 px is ~1 ms; the cores are for the analysis.
    store = ModelStore(rt.models_dir, rt.manifest, num_threads=1, verify=rt.verify_hashes)
    return FaceTracker.from_store(store)


def default_engine(settings: Settings) -> AnalysisEngine:
    from edge.pipeline import Engine

    return Engine.from_settings(settings)
