"""glibc allocator settings for the long-running server (no-ops where libc is not glibc).

Measured (`skin-kiosk serve`, 2 workers, 40 all-field requests on a 1024 px portrait): each worker
thread's malloc arena keeps the freed per-request image buffers (tens of MB per 1024 px request), so
RSS climbs well past what the engines hold. Fewer arenas and giving freed pages back after each job
keep the steady state near the engines' own footprint; the analysis does not get slower (bench_api).
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
