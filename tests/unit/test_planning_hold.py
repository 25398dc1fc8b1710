"""Planning waits for streams polled together, but never longer than cycle_wait_seconds,
even while one stream's runs follow each other back to back."""

from __future__ import annotations

from types import SimpleNamespace

from syncd.engine import daemon
from syncd.engine.daemon import Engine


def engine_with() -> Engine:
    engine = Engine.__new__(Engine)  # the hold's own state only: nothing started
    engine.settings = SimpleNamespace(engine=SimpleNamespace(cycle_wait_seconds=2.0))
    engine._sources_running, engine._source_started, engine._held_since = {}, {}, None
    return engine


def test_back_to_back_runs_hold_planning_at_most_the_cycle_wait(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(daemon.time, "monotonic", lambda: now[0])
    engine = engine_with()
    held = []
    for _ in range(40):  # a stream whose every run takes 0.5 s and starts again at once
        engine._sources_running = {"slow": object()}
        engine._source_started = {"slow": now[0] - (now[0] % 0.5)}
        held.append(engine._hold_planning())
        now[0] += 0.1
    assert False in held  # planning ran within the 4 s played
    runs_of_holds = "".join("h" if h else "." for h in held).split(".")
    assert max(len(r) for r in runs_of_holds) <= 21  # never more than 2 s (and a tick) in a row


def test_no_stream_reading_no_hold(monkeypatch):
    monkeypatch.setattr(daemon.time, "monotonic", lambda: 50.0)
    engine = engine_with()
    assert engine._hold_planning() is False
    engine._sources_running, engine._source_started = {"a": object()}, {"a": 49.5}
    assert engine._hold_planning() is True  # just started: wait for it
