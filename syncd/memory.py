"""The daemon's heap: fewer malloc arenas, freed memory handed back to the system.

glibc gives each thread that meets a busy heap an arena of its own (up to 8 per
core), and a freed block stays in its arena for reuse: a daemon whose worker
threads take turns grows its RSS by the arenas' high-water marks, and keeps it.
``limit_arenas`` caps them (``mallopt(M_ARENA_MAX)``, what the environment
variable ``MALLOC_ARENA_MAX`` does) before any worker thread starts;
``give_back`` (``malloc_trim(0)``) returns the free pages of every arena, run
by housekeeping after each retention round.  Elsewhere than glibc (musl,
macOS) both do nothing.  ``MALLOC_ARENA_MAX`` set in the environment wins.

    memory.limit_arenas()      # syncd run, first thing
    memory.give_back()         # now and then
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

ARENAS = 2
M_ARENA_MAX = -8  # glibc's malloc.h


def _libc():  # noqa: ANN202
    try:  # the process's own symbols: glibc's, with no ldconfig run (find_library's way)
        own = ctypes.CDLL(None)
        own.mallopt, own.malloc_trim  # noqa: B018 - glibc only
        return own
    except (OSError, AttributeError):
        pass
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt, libc.malloc_trim  # noqa: B018 - glibc only
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas; True when set here."""
    if _LIBC is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(_LIBC.mallopt(M_ARENA_MAX, arenas))


def give_back() -> bool:
    """Return free heap pages to the system; True when any went."""
    if _LIBC is None:
        return False
    return bool(_LIBC.malloc_trim(0))
