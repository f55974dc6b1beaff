"""The bounded inference pool: `workers` threads, each owning one Engine, and at most `queue_size`
jobs waiting for them. A job that finds no slot is refused at once with BUSY (503 + Retry-After)
instead of queueing without bound, so latency stays bounded under overload.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from edge.errors import ErrorKind, SkinKioskError
from edge.runtime.allocator import release_free_memory

log = logging.getLogger(__name__)

T = TypeVar("T")
WARM_UP_TIMEOUT_S = 60.0


class EngineLike(Protocol):
    """What the pool needs from edge.pipeline.Engine (tests may pass a wrapper)."""

    def analyze(self, image: Any, fields: Any = (), max_faces: int = 1, extended: bool = False,
                to_original: float = 1.0, timer: Any = None) -> list[dict[str, Any]]: ...

    def warm_up(self, fields: Any = ()) -> None: ...

    def close(self) -> None: ...


class InferencePool:
    def __init__(self, engine_factory: Callable[[], EngineLike], workers: int, queue_size: int) -> None:
        self.workers = workers
        self.queue_size = queue_size
        self._factory = engine_factory
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inference")
        self._slots = threading.BoundedSemaphore(workers + queue_size)
        self._local = threading.local()
        self._engines: list[EngineLike] = []
        self._lock = threading.Lock()
        self._admitted = 0  # jobs holding a slot (running or waiting)
        self._running = 0
        self.ready = threading.Event()
        self.warm_error: str | None = None

    # --- per-thread engines ---------------------------------------------------------------------
    def _engine(self) -> EngineLike:
        engine = getattr(self._local, "engine", None)
        if engine is None:
            engine = self._factory()
            self._local.engine = engine
            with self._lock:
                self._engines.append(engine)
            if self.warm_error is not None:  # models fixed since a failed warm-up: ready after all
                self.warm_error = None
                self.ready.set()
        return engine

    # --- gauges -------------------------------------------------------------------------------
    @property
    def queue_depth(self) -> int:
        """Jobs admitted but not yet running on a worker."""
        with self._lock:
            return max(0, self._admitted - self._running)

    @property
    def saturated(self) -> bool:
        """Every slot is taken: a new job would be refused."""
        with self._lock:
            return self._admitted >= self.workers + self.queue_size

    def refuse_if_saturated(self) -> None:
        if self.saturated:
            raise SkinKioskError(ErrorKind.BUSY, f"{self.workers} worker(s) and {self.queue_size} queued job(s) in use")

    @property
    def running(self) -> int:
        with self._lock:
            return self._running

    # --- jobs -----------------------------------------------------------------------------------
    def submit(self, job: Callable[[EngineLike], T]) -> Future[T]:
        """Run `job(engine)` on a worker; raises BUSY at once when every slot is taken."""
        if not self._slots.acquire(blocking=False):
            raise SkinKioskError(ErrorKind.BUSY, f"{self.workers} worker(s) and {self.queue_size} queued job(s) in use")
        with self._lock:
            self._admitted += 1

        def run() -> T:
            with self._lock:
                self._running += 1
            try:
                return job(self._engine())
            finally:
                with self._lock:
                    self._running -= 1
                    idle = self._running == 0 and self._admitted <= 1  # only this job is left (released after)
                if idle:
                    # The requests' freed image buffers go back to the OS once the pool goes quiet. Not after
                    # every job: malloc_trim walks the heap, which cost ~15 % throughput under load (bench_api).
                    release_free_memory()

        try:
            future = self._executor.submit(run)
        except RuntimeError:  # executor shut down
            self._release()
            raise SkinKioskError(ErrorKind.BUSY, "shutting down") from None
        # Released when the job ends, not when the caller stops waiting (a client that hangs up
        # does not free a worker that is still computing).
        future.add_done_callback(lambda _f: self._release())
        return future

    async def run(self, job: Callable[[EngineLike], T]) -> T:
        return await asyncio.wrap_future(self.submit(job))

    def _release(self) -> None:
        with self._lock:
            self._admitted -= 1
        self._slots.release()

    def warm_up(self, fields: tuple[str, ...] = ()) -> None:
        """Create and warm one engine per worker in the background; `ready` is set when the first is
        warm (readyz), so a slow model load never blocks the server from starting."""
        barrier = threading.Barrier(self.workers)

        def warm() -> None:
            try:
                self._engine().warm_up(fields)
                self.ready.set()
            except Exception as exc:
                log.exception("engine warm-up failed")
                self.warm_error = repr(exc)
            # Hold this thread until every worker has taken a warm-up job (one engine each).
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=WARM_UP_TIMEOUT_S)

        for _ in range(self.workers):
            self._executor.submit(warm)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            engines, self._engines = self._engines, []
        for engine in engines:
            try:
                engine.close()
            except Exception:
                log.exception("engine close failed")
