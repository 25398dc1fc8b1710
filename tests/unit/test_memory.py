"""The daemon's heap: glibc's arenas capped, freed pages handed back (syncd/memory.py)."""

from __future__ import annotations

import pytest

from syncd import memory

glibc = pytest.mark.skipif(memory._LIBC is None, reason="glibc's malloc only")


@glibc
def test_the_arenas_are_capped_unless_the_environment_says_otherwise(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert memory.limit_arenas() is True
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert memory.limit_arenas() is False  # the admin's setting stays


@glibc
def test_freed_heap_pages_go_back_to_the_system():
    held = [bytes(200) for _ in range(300_000)]  # ~70 MB in small blocks, in the heap
    del held
    assert memory.give_back() is True


def test_without_glibc_both_do_nothing(monkeypatch):
    monkeypatch.setattr(memory, "_LIBC", None)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert memory.limit_arenas() is False and memory.give_back() is False
