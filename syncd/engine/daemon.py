"""The daemon: one main loop that schedules sources, plans the inbox, feeds sinks.

Each iteration of the loop:
  1. takes a reload (SIGHUP) in: checks the file, and swaps the new
     configuration in once no read or write is in flight (engine/reloading.py);
  2. takes or renews the leases of its streams and of the inbox;
  3. starts each due source whose lease it holds (in a worker thread);
  4. plans pending inbox events into outbox commands (if it holds ``inbox``);
  5. claims due commands per sink and applies them in worker threads;
  6. pings the systemd watchdog — from this loop's progress, never a timer.
It sleeps only when there is nothing to do, and wakes early for a webhook, a
finished batch or a signal.  SIGTERM/SIGINT stop taking work, wait for the work
in flight up to ``shutdown_timeout_seconds``, give back claims and leases, and
return 0.

    engine = Engine(settings, config_path="config/demo.yaml")
    sys.exit(engine.run())            # or engine.run(once=True)
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures

from syncd.config import Settings
from syncd.engine.contracts import PartContext
from syncd.engine.dispatching import WriteDispatch
from syncd.engine.hints import WorkHints
from syncd.engine.housekeeping import Housekeeping
from syncd.engine.leasing import LeaseKeeper, heartbeat_ttl
from syncd.engine.pipeline import Pipeline, build_pipeline
from syncd.engine.planning import plan_pending
from syncd.engine.reloading import Reloading
from syncd.engine.retry import RetryPolicy
from syncd.engine.schedule import StreamSchedule
from syncd.engine.sourcing import run_source
from syncd.engine.timer_firing import TimerFiring
from syncd.engine.webhooks import WebhookDispatch
from syncd.failures import one_line, traceback_for
from syncd.logs import register_secret
from syncd.metrics import Metrics
from syncd.sdnotify import Notifier
from syncd.store import Store, outbox
from syncd.store.leases import LeaseLost

log = logging.getLogger(__name__)

INBOX_LEASE = "inbox"
PLANNING_BUDGET_SECONDS = 1.0  # leave the loop often enough to renew leases and ping


def instance_id(settings: Settings) -> str:
    if settings.engine.instance_id:
        return settings.engine.instance_id
    return f"{socket.gethostname()}:{os.getpid()}:{random.randbytes(3).hex()}"


class Engine(Reloading):
    def __init__(
        self,
        settings: Settings,
        *,
        config_path: str | None = None,
        dry_run: bool = False,
        store: Store | None = None,
        metrics: Metrics | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.settings = settings
        self.config_path = config_path
        self.dry_run = dry_run
        self.metrics = metrics or Metrics()
        self.notifier = notifier or Notifier()
        self.owner = instance_id(settings)
        self.store = store or Store.open(settings.database_url, pool_size=settings.store.pool_size)
        self.pipeline: Pipeline = build_pipeline(settings, self._context(settings))
        self.policy = RetryPolicy.from_settings(settings.engine.retry)
        self.leases = LeaseKeeper(self.store, self.owner, self.metrics)
        self.housekeeping = Housekeeping(self.store, self.metrics)  # retention, by the planner
        self.timers = TimerFiring(self.store, enabled=not dry_run)
        self.last_cycle_at: float | None = None
        self._wake = threading.Event()
        self._stop_signalled = self._reload_signalled = False
        self._staged: tuple[Settings, Pipeline] | None = None  # a reload waiting for work in flight
        self._sources_running: dict[str, Future] = {}
        self._source_started: dict[str, float] = {}
        self._held_since: float | None = None  # when planning was first held for sources
        self.schedule = StreamSchedule(lambda: self.settings.engine.webhook_gap_seconds)
        self.hints = WorkHints(lambda: self.settings.engine.tick_seconds)
        self.writes = WriteDispatch(
            self.store, self.owner, self.hints, self._wake.set, settings.engine.sink_workers
        )
        self.source_failures = 0
        self._web = None
        self._routes: set[str] = set()
        for secret in settings.secret_values():
            register_secret(secret)
        self.metrics.config_reload_ok.set(1)
        self.metrics.config_reload_time.set(time.time())
        self.metrics.watch_store(self.store, lambda: self.pipeline.directions())

    def _context(self, settings: Settings) -> PartContext:
        return PartContext(
            settings=settings, metrics=self.metrics, dry_run=self.dry_run, store=self.store
        )

    # -- control ---------------------------------------------------------
    # The signal handlers only set a flag: a handler runs in the main thread between
    # two bytecodes, maybe while that thread holds an Event's lock, and taking it
    # again would deadlock.  The loop sees the flags within a tenth of a second.
    def request_stop(self, *_: object) -> None:
        self._stop_signalled = True

    def request_reload(self, *_: object) -> None:
        self._reload_signalled = True

    def _pause(self, seconds: float) -> None:
        """Until woken, signalled, or ``seconds`` pass."""
        deadline = time.monotonic() + seconds
        while not (self._stop_signalled or self._reload_signalled):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._wake.wait(min(0.1, remaining)):
                return

    def nudge(self, stream: str | None = None) -> None:
        """Run ``stream``'s source soon: at once, or webhook_gap_seconds after its last poll."""
        if stream:
            self.schedule.nudge(stream)
        self.hints.inbox_has_more()
        self._wake.set()

    def attach_web(self, app) -> None:  # noqa: ANN001 - syncd.web.WebApp
        """Serve the webhooks of the current sources on ``app`` (again after a reload)."""
        self._web = app
        for source in self.pipeline.sources.values():
            for route in source.webhooks():
                if route.path not in self._routes:
                    self._routes.add(route.path)
                    # every stream serving the path sees the call (engine/webhooks.py)
                    dispatch = WebhookDispatch(
                        route.path, lambda: self.pipeline.sources, self.store, self.nudge
                    )
                    app.add_webhook(route.path, dispatch, allow_query_token=route.allow_query_token)

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGHUP, self.request_reload)

    def readiness(self) -> tuple[bool, dict]:
        self.store.ping()
        age = None if self.last_cycle_at is None else time.time() - self.last_cycle_at
        limit = self.settings.engine.ready_max_cycle_age_seconds
        ready = age is not None and age <= limit
        return ready, {"last_cycle_age_seconds": age, "limit_seconds": limit}

    # -- running ---------------------------------------------------------
    def run(self, *, once: bool = False) -> int:
        """Run until stopped (or one full pass with ``once``); returns the exit code."""
        workers = max(1, len(self.pipeline.sources))
        self._source_pool = ThreadPoolExecutor(workers, thread_name_prefix="source")
        try:
            if once:
                return self._run_once()
            self.notifier.ready(f"running as {self.owner}")
            log.info("syncd started", extra={"instance": self.owner, "dry_run": self.dry_run})
            while not self._stop_signalled:
                try:
                    busy = self._iteration()
                except Exception as exc:  # e.g. the store is briefly unreachable
                    log.error(
                        "engine iteration failed, retrying: %s",
                        one_line(exc),
                        exc_info=traceback_for(exc, log),
                    )
                    busy = False
                if not busy:
                    self._pause(self._until_next_source(self.settings.engine.tick_seconds))
                self._wake.clear()
            return 0
        finally:
            self._shutdown()

    def _run_once(self) -> int:
        """Every source once, then drain the inbox and the due outbox; for cron and tests."""
        missing = self._await_leases()
        for name in self.pipeline.sources:
            self._start_source(name)
        wait_futures(list(self._sources_running.values()))
        while not self._stop_signalled:
            self._reap()
            self.timers.tick(force=True)
            planned = self._plan()
            self._wait_sinks()
            dispatched = self._dispatch_sinks()
            if not (planned or dispatched or self._in_flight()):
                break
        self._wait_sinks()
        lease = self.leases.held(INBOX_LEASE)
        if lease is not None and not self._stop_signalled:
            self.housekeeping.run_round(self.settings.retention, lease)
        self.last_cycle_at = time.time()
        return 1 if self.source_failures or missing else 0

    def _await_leases(self) -> list[str]:
        """Wait (at most one lease TTL) for the leases a crashed predecessor left behind."""
        ttl = self.settings.engine.lease_ttl_seconds
        deadline = time.monotonic() + ttl * 1.5 + 1
        while True:
            self.leases.refresh(self._lease_names(), ttl, heartbeat_ttl(self.settings.engine))
            missing = [n for n in self._lease_names() if self.leases.held(n) is None]
            if not missing or time.monotonic() > deadline or self._stop_signalled:
                break
            self._pause(min(1.0, ttl / 4))
        if missing:
            log.warning("another instance holds %s; skipped in this pass", ", ".join(missing))
        return missing

    def _iteration(self) -> bool:
        if self._reload_signalled:
            self._reload_signalled = False
            self._stage_reload()
        self._refresh_leases()
        self._reap()
        if self._staged is not None:
            if self._sources_running or self._in_flight():
                # the reload waits for reads and writes in flight, starting no more;
                # the loop goes on meanwhile (leases renewed, watchdog fed)
                self._cycle_done()
                return False
            self._swap_in(*self._staged)
        now = time.time()
        for name in self.pipeline.sources:
            if self.schedule.due(name, now):
                self._start_source(name)
        if self.timers.tick():
            self.hints.inbox_has_more()
        busy = False if self._hold_planning() else self._plan_if_hinted()
        busy = self._dispatch_sinks(hinted_only=True) or busy
        # a few short batches, each its own transaction, after planning returned
        self.housekeeping.tick(self.settings.retention, self.leases.held(INBOX_LEASE))
        self._cycle_done()
        return busy

    def _refresh_leases(self) -> None:
        engine = self.settings.engine
        self.leases.refresh(self._lease_names(), engine.lease_ttl_seconds, heartbeat_ttl(engine))

    def _cycle_done(self) -> None:
        self.last_cycle_at = time.time()
        self.metrics.engine_cycle.set(self.last_cycle_at)
        self.notifier.watchdog()

    def _hold_planning(self) -> bool:
        """While streams polled together are still reading (at most engine.cycle_wait_seconds),
        wait for them: changes made on both sides in one cycle are then decided together.
        A hold never lasts longer than that, even when one stream's runs follow each other
        back to back (each starting a new wait would put planning off for good)."""
        started = [
            self._source_started[n] for n in self._sources_running if n in self._source_started
        ]
        wait = self.settings.engine.cycle_wait_seconds
        now = time.monotonic()
        if not started or now - min(started) >= wait:
            self._held_since = None
            return False
        if self._held_since is None:
            self._held_since = now
        if now - self._held_since >= wait:
            self._held_since = None  # held long enough: plan now, then a new hold may start
            return False
        return True

    def _lease_names(self) -> list[str]:
        # the keeper adds "instance:<owner>": while it lives, this instance's claims and
        # streams stay its own; once it lapses, the others take them at once
        return [*(f"source:{n}" for n in self.pipeline.sources), INBOX_LEASE]

    def _start_source(self, name: str) -> None:
        lease = self.leases.held(f"source:{name}")
        if lease is None or name in self._sources_running:
            return
        source = self.pipeline.sources[name]
        interval = next(s.interval_seconds for s in self.settings.sources if s.name == name)
        self.schedule.started(name, interval, time.time())
        self.metrics.stream_last_attempt.labels(name).set(time.time())
        future = self._source_pool.submit(run_source, self.store, source, lease)
        self._sources_running[name] = future
        self._source_started[name] = time.monotonic()
        future.add_done_callback(self._source_run_done)  # plan what it brought at once

    def _until_next_source(self, longest: float) -> float:
        """Seconds until a stream is due to poll again (at most ``longest``)."""
        idle = [n for n in self.pipeline.sources if n not in self._sources_running]
        return self.schedule.seconds_to_next(idle, longest, time.time())

    def _source_run_done(self, _future: Future) -> None:
        self.hints.source_run_ended()
        self._wake.set()

    def _reap(self) -> None:
        """Collect finished source runs and sink batches."""
        for name, fut in list(self._sources_running.items()):
            if fut.done():
                del self._sources_running[name]
                run = fut.result()
                if run.ok:
                    self.metrics.stream_last_success.labels(name).set(time.time())
                else:
                    self.source_failures += 1
        self.writes.reap()

    def _plan_if_hinted(self) -> bool:
        return self.hints.inbox_due() and self._plan()

    def _plan(self) -> bool:
        lease = self.leases.held(INBOX_LEASE)
        if lease is None:
            return False
        deadline = time.monotonic() + PLANNING_BUDGET_SECONDS
        batch = self.settings.engine.batch_size
        planned = 0
        while True:
            try:
                round_ = plan_pending(self.store, self.pipeline, lease, batch, self.metrics)
            except LeaseLost as exc:
                log.warning("inbox lease lost, planning stops here: %s", exc)
                self.leases.forget(INBOX_LEASE)
                return planned > 0
            planned += round_.events
            if round_.commands:
                self.hints.commands_queued(self.pipeline.sinks)
            if round_.events < batch or time.monotonic() >= deadline:
                if round_.events >= batch:
                    self.hints.inbox_has_more()  # the next iteration goes on
                return planned > 0
            self._refresh_leases()  # between batches (it writes only when renewal is due)

    def _dispatch_sinks(self, *, hinted_only: bool = False) -> bool:
        return self.writes.dispatch(
            self.pipeline.sinks,
            self.policy,
            self.metrics,
            claim_ttl=self.settings.engine.claim_ttl_seconds,
            dry_run=self.dry_run,
            hinted_only=hinted_only,
        )

    def _in_flight(self) -> bool:
        return self.writes.in_flight()

    def _wait_sinks(self, timeout: float | None = None) -> bool:
        finished = self.writes.wait(timeout)
        self._reap()
        return finished

    # -- reload and shutdown ---------------------------------------------
    def _wait_sources(self, timeout: float | None = None) -> None:
        wait_futures(list(self._sources_running.values()), timeout=timeout)
        self._reap()

    def _shutdown(self) -> None:
        self.notifier.stopping()
        log.info("stopping: finishing work in flight")
        deadline = time.monotonic() + self.settings.engine.shutdown_timeout_seconds
        self._wait_sources(max(0.0, deadline - time.monotonic()))
        finished = self._wait_sinks(max(0.0, deadline - time.monotonic()))
        if not finished:
            log.warning("work still in flight after the shutdown timeout; giving it back")
        with self.store.begin() as conn:
            released = outbox.release(conn, self.owner)
        if released:
            log.info("gave back %d claimed command(s)", released)
        self.leases.release_all()
        self._source_pool.shutdown(wait=False, cancel_futures=True)
        self.writes.shutdown()
        self.pipeline.close()
        log.info("stopped")
