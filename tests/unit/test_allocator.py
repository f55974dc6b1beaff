"""The server's glibc allocator settings (edge/runtime/allocator.py)."""

from __future__ import annotations

import platform

import pytest

from edge.runtime import allocator

glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt/malloc_trim are glibc's")


@glibc_only
def test_arena_cap_is_accepted_by_glibc() -> None:
    assert allocator.limit_arenas(allocator.SERVER_ARENAS) is True


@glibc_only
def test_freed_heap_pages_go_back_to_the_os() -> None:
    # 64 kB blocks stay under glibc's mmap threshold, so freeing them leaves pages in the heap
    # until malloc_trim hands them back -- what the pool does after every job.
    blocks = [bytearray(64 * 1024) for _ in range(2000)]
    del blocks
    assert allocator.release_free_memory() is True


class _Engine:
    def analyze(self, *a, **k):  # noqa: ANN002, ANN003
        return []

    def warm_up(self, fields=()) -> None:  # noqa: ANN001
        pass

    def close(self) -> None:
        pass


def test_pool_returns_memory_when_it_goes_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    from edge.api import pool as pool_module

    calls: list[int] = []
    monkeypatch.setattr(pool_module, "release_free_memory", lambda: calls.append(1) or True)
    p = pool_module.InferencePool(_Engine, workers=1, queue_size=0)
    try:
        assert p.submit(lambda engine: 41 + 1).result(timeout=10) == 42
        with pytest.raises(ZeroDivisionError):
            p.submit(lambda engine: 1 / 0).result(timeout=10)
    finally:
        p.shutdown()
    assert calls == [1, 1]  # one job at a time: idle after a job that succeeded and after one that failed


def test_pool_does_not_trim_while_other_jobs_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under load malloc_trim would cost throughput (it walks the heap): only the job that leaves the pool
    idle trims."""
    import threading

    from edge.api import pool as pool_module

    calls: list[int] = []
    monkeypatch.setattr(pool_module, "release_free_memory", lambda: calls.append(1) or True)
    hold = threading.Event()
    p = pool_module.InferencePool(_Engine, workers=2, queue_size=0)
    try:
        slow = p.submit(lambda engine: hold.wait(10))
        p.submit(lambda engine: "quick").result(timeout=10)
        assert calls == []  # the slow job still runs
        hold.set()
        assert slow.result(timeout=10) is True
    finally:
        p.shutdown()
    assert calls == [1]
