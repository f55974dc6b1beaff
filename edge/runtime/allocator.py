"""glibc allocator settings for the long-running server (no-ops where libc is not glibc).

Each worker thread's malloc arena keeps the freed per-request image buffers (tens of MB per 1024 px request),
so RSS climbs well past what the engines hold. Measured with `scripts/bench_api.py --fields all --photo
<1024x1024 portrait>` (2 workers, ~230 requests in 12 s, one run each, 2026-12-04): RSS after the load
410 MB with glibc's defaults, 384 MB with SERVER_ARENAS, 337 MB when the pool also trims on going idle,
all at 19 req/s; trimming after every job instead also gave 337 MB but cost 15 % of the throughput.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # mallopt parameter number (glibc malloc.h)
SERVER_ARENAS = 2  # arenas for the whole server: the event loop and the workers share them


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version  # noqa: B018  (only glibc has it)
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()


def limit_arenas(arenas: int = SERVER_ARENAS) -> bool:
    """Cap malloc arenas; call before the worker threads start. True when applied."""
    if _LIBC is None:
        return False
    ok = bool(_LIBC.mallopt(M_ARENA_MAX, arenas))
    if not ok:
        log.warning("mallopt(M_ARENA_MAX, %d) refused", arenas)
    return ok


def release_free_memory() -> bool:
    """Return freed heap pages to the OS (malloc_trim); True when some memory was released."""
    return bool(_LIBC.malloc_trim(0)) if _LIBC is not None else False
