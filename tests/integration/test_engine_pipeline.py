"""The engine end to end in one process: feed file → inbox → copy flow → outbox → files."""

from __future__ import annotations

import threading

from click.testing import CliRunner

from cli import main
from syncd.config import load_settings
from syncd.engine.daemon import Engine
from syncd.store import Store, dead_letters, inbox
from tests.conftest import wait_until
from tests.support.daemon import change, journal, outputs, write_config, write_feed


def run_once(config, store: Store) -> int:
    engine = Engine(load_settings(config, {}), config_path=str(config), store=store)
    return engine.run(once=True)


def test_changes_reach_the_sink_and_superseded_versions_are_skipped(tmp_path, store, db_url):
    config = write_config(tmp_path, db_url)
    write_feed(
        tmp_path,
        [
            change("customer", "C1", 1, name="Анна"),
            change("order", "O1", 1, total=10),
            change("order", "O1", 2, total=12),
        ],
    )
    assert run_once(config, store) == 0
    assert outputs(tmp_path / "out") == {"customer/C1": {"name": "Анна"}, "order/O1": {"total": 12}}
    assert len(journal(tmp_path / "out")) == 2  # O1@1 was superseded by O1@2 before planning


def test_replaying_the_whole_inbox_makes_zero_outbound_writes(tmp_path, store, db_url):
    config = write_config(tmp_path, db_url)
    write_feed(
        tmp_path, [change("order", f"O{i}", v, total=i * 10 + v) for i in range(5) for v in (1, 2)]
    )
    assert run_once(config, store) == 0
    writes_before = len(journal(tmp_path / "out"))
    assert writes_before == 5
    with store.begin() as conn:
        assert inbox.replay(conn) == 10
    assert run_once(config, store) == 0
    assert len(journal(tmp_path / "out")) == writes_before
    with store.read() as conn:
        assert inbox.count_pending(conn) == 0


def test_new_versions_after_a_run_are_written(tmp_path, store, db_url):
    config = write_config(tmp_path, db_url)
    write_feed(tmp_path, [change("order", "O1", 1, total=1)])
    run_once(config, store)
    write_feed(tmp_path, [change("order", "O1", 2, total=2)], append=True)
    run_once(config, store)
    assert outputs(tmp_path / "out") == {"order/O1": {"total": 2}}
    assert [w["object"] for w in journal(tmp_path / "out")] == ["out/order/O1", "out/order/O1"]


def test_a_permanently_failing_command_is_dead_lettered_and_retry_runs_it_again(
    tmp_path, store, db_url
):
    config = write_config(tmp_path, db_url, sink_options={"reject_keys": ["BAD"]})
    write_feed(tmp_path, [change("order", "BAD", 1, total=1), change("order", "OK", 1, total=2)])
    assert run_once(config, store) == 0
    assert outputs(tmp_path / "out") == {"order/OK": {"total": 2}}
    with store.read() as conn:
        (letter,) = dead_letters.list_open(conn)
    assert letter.kind == "command" and letter.subject == "out/order/BAD"
    assert "key refused" in letter.error

    # the operator fixes the cause (here: the sink stops refusing) and retries
    config = write_config(tmp_path, db_url)
    result = CliRunner().invoke(main, ["dead-letters", "retry", str(letter.id), "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "queued again" in result.output
    assert run_once(config, store) == 0
    assert outputs(tmp_path / "out")["order/BAD"] == {"total": 1}
    with store.read() as conn:
        assert dead_letters.list_open(conn) == []


def test_transient_failures_retry_then_dead_letter_after_the_last_attempt(tmp_path, store, db_url):
    config = write_config(
        tmp_path,
        db_url,
        engine={
            "retry": {
                "max_attempts": 3,
                "initial_seconds": 0.01,
                "max_seconds": 0.01,
                "jitter_seconds": 0,
            }
        },
    )
    write_feed(tmp_path, [change("order", "O1", 1, total=1)])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "order").write_text("a file where the folder should be")
    settings = load_settings(config, {})

    def dead_after_another_pass():
        Engine(settings, config_path=str(config), store=store).run(once=True)
        with store.read() as conn:
            return dead_letters.list_open(conn)

    # each pass makes the attempts that are due; the backoff is a hundredth of a second
    letters = wait_until(dead_after_another_pass, what="the command to run out of attempts")
    (letter,) = letters
    assert letter.attempts == 3 and "order" in letter.error


def test_bad_feed_lines_are_rejected_with_file_and_line_and_the_rest_goes_on(
    tmp_path, store, db_url
):
    config = write_config(tmp_path, db_url)
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        '{"entity": "order", "id": "O1", "version": "1", "data": {"a": 1}}\n'
        "{not json\n"
        '{"entity": "order", "version": "1", "data": {}}\n'
        '{"entity": "order", "id": "O2", "version": "1", "data": {"a": 2}}\n',
        encoding="utf-8",
    )
    assert run_once(config, store) == 0
    assert set(outputs(tmp_path / "out")) == {"order/O1", "order/O2"}
    with store.read() as conn:
        letters = dead_letters.list_open(conn)
    assert [(d.kind, d.subject) for d in letters] == [
        ("record", "feed.jsonl:2"),
        ("record", "feed.jsonl:3"),
    ]
    assert "'id' is missing" in letters[1].error


def test_a_write_syncd_made_itself_is_recognised_as_an_echo(tmp_path, store, db_url):
    from syncd.model import write_fingerprint
    from syncd.store import bindings

    config = write_config(tmp_path, db_url)
    with store.begin() as conn:  # syncd wrote {"total": 5} to demo/order/E1 earlier
        bindings.record_write(
            conn, ("demo", "order", "E1"), write_fingerprint("upsert", {"total": 5})
        )
    write_feed(tmp_path, [change("order", "E1", 9, total=5)])
    run_once(config, store)
    assert outputs(tmp_path / "out") == {}
    with store.read() as conn:
        row = conn.exec_driver_sql("SELECT outcome FROM inbox").scalar_one()
    assert row == "skipped_echo"


def test_signal_handlers_take_no_lock_the_interrupted_main_thread_may_hold(tmp_path, store, db_url):
    """A handler runs in the main thread between two bytecodes, maybe while it holds the
    loop's wake-up lock; a handler that took that lock again would hang the daemon."""
    config = write_config(tmp_path, db_url)
    write_feed(tmp_path, [])
    engine = Engine(load_settings(config, {}), config_path=str(config), store=store)
    handled = threading.Event()

    def signal_lands() -> None:
        engine.request_reload()
        engine.request_stop()
        handled.set()

    with engine._wake._cond:  # what the main thread holds inside Event.wait/clear/set
        landing = threading.Thread(target=signal_lands, daemon=True)
        landing.start()
        assert handled.wait(5), "a signal handler waited for the lock"
    assert engine.run() == 0  # and the loop sees the stop


def test_an_idle_loop_woken_by_its_sources_claims_only_when_something_may_be_due(
    tmp_path, store, db_url, monkeypatch
):
    """Every source run that ends wakes the loop; claiming (SQLite's write lock) each time
    for nothing cost an idle daemon a quarter of a core.  It claims once a tick then."""
    from syncd.engine import dispatching

    config = write_config(
        tmp_path,
        db_url,
        engine={"tick_seconds": 30, "lease_ttl_seconds": 90},
        sources=[
            {
                "name": "feed",
                "kind": "feed_file",
                "system": "demo",
                "interval_seconds": 0.02,
                "options": {"path": str(tmp_path / "feed.jsonl"), "batch_lines": 3},
            }
        ],
    )
    write_feed(tmp_path, [change("order", "O1", 1, total=10)])
    engine = Engine(load_settings(config, {}), config_path=str(config), store=store)
    claims, iterations = [], []
    real_claim, real_cycle = dispatching.claim_for, engine._cycle_done
    monkeypatch.setattr(dispatching, "claim_for", lambda *a: claims.append(1) or real_claim(*a))
    monkeypatch.setattr(engine, "_cycle_done", lambda: iterations.append(1) or real_cycle())
    runner = threading.Thread(target=engine.run, daemon=True)
    runner.start()
    try:
        wait_until(lambda: outputs(tmp_path / "out") == {"order/O1": {"total": 10}})
        write_feed(tmp_path, [change("order", "O2", 1, total=5)], append=True)
        wait_until(lambda: "order/O2" in outputs(tmp_path / "out"))  # new work is claimed
        wait_until(lambda: len(claims) > 0 and not engine._in_flight())
        before_claims, before_iterations = len(claims), len(iterations)
        wait_until(lambda: len(iterations) >= before_iterations + 20)  # sources keep waking it
        idle_claims = len(claims) - before_claims
    finally:
        engine.request_stop()
        runner.join(10)
    assert idle_claims <= 1  # at most the one a round's end asks for, not one per iteration
