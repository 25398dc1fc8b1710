"""Prometheus metrics, all prefixed ``syncd_``, in base units.

Counters and gauges the engine updates as it works live on ``Metrics``; the
figures that describe the store (oldest pending change per direction, outbox
depth, dead letters, open conflicts) are computed at scrape time from the
store by ``StoreCollector``, so every instance reports the truth, not a
cached guess.

    metrics = Metrics()                       # its own CollectorRegistry
    metrics.records.labels("erp_orders", "created").inc()
    metrics.watch_store(store, routes)        # adds the scrape-time figures
"""

from __future__ import annotations

import logging
import platform
from collections.abc import Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from syncd import __version__

log = logging.getLogger(__name__)

# The *_created series (a counter's creation time) only add noise to every scrape.
disable_created_metrics()

TIMER_OVERDUE_SECONDS = 60.0  # a timer this late has not fired: the engine is not running
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 14400)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.stream_last_success = Gauge(
            "syncd_stream_last_success_timestamp_seconds",
            "When the stream last completed a cycle without error.",
            ["stream"],
            registry=r,
        )
        self.stream_last_attempt = Gauge(
            "syncd_stream_last_attempt_timestamp_seconds",
            "When the stream last started a cycle.",
            ["stream"],
            registry=r,
        )
        self.records = Counter(
            "syncd_records",
            "Events planned, by stream and outcome.",
            ["stream", "outcome"],
            registry=r,
        )
        self.commands = Counter(
            "syncd_commands",
            "Commands a sink finished, by sink and outcome (applied, retried, dead).",
            ["sink", "outcome"],
            registry=r,
        )
        self.apply_latency = Histogram(
            "syncd_apply_latency_seconds",
            "From the change at the source to its write applied at the target.",
            ["direction"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.robot_decisions = Counter(
            "syncd_robot_decisions",
            "Order robot decisions made in the CRM, by outcome (agree, needs_agreement, "
            "overtaken: a person moved the order first).",
            ["outcome"],
            registry=r,
        )
        self.robot_failed_conditions = Counter(
            "syncd_robot_failed_conditions",
            "Conditions that kept the order robot from agreeing an order, by condition.",
            ["condition"],
            registry=r,
        )
        self.robot_decision_seconds = Histogram(
            "syncd_robot_decision_seconds",
            "From an order's creation in the CRM to the robot's status in it.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.inventory_offers = Counter(
            "syncd_inventory_offers",
            "Offers' stock sent to the CRM's store/inventories/upload, by sink and outcome "
            "(pushed, not_found: the CRM's catalogue has no such offer).",
            ["sink", "outcome"],
            registry=r,
        )
        self.pos_files = Counter(
            "syncd_pos_files",
            "POS export files finished, by stream and outcome (done, duplicate, empty).",
            ["stream", "outcome"],
            registry=r,
        )
        self.pos_rows_rejected = Counter(
            "syncd_pos_rows_rejected",
            "POS export rows refused (written to the file's .rejects.csv), by stream and field.",
            ["stream", "field"],
            registry=r,
        )
        self.http_requests = Counter(
            "syncd_http_requests",
            "Outgoing HTTP requests, by system and status code (or 'error').",
            ["system", "code"],
            registry=r,
        )
        self.lease_held = Gauge(
            "syncd_lease_held",
            "1 when this instance holds the stream's lease.",
            ["stream"],
            registry=r,
        )
        self.config_reload_ok = Gauge(
            "syncd_config_last_reload_successful",
            "1 when the last configuration (re)load succeeded.",
            registry=r,
        )
        self.config_reload_time = Gauge(
            "syncd_config_last_reload_success_timestamp_seconds",
            "When the configuration was last loaded successfully.",
            registry=r,
        )
        self.engine_cycle = Gauge(
            "syncd_engine_last_cycle_timestamp_seconds",
            "When the engine's main loop last completed an iteration.",
            registry=r,
        )
        self.store_pruned_rows = Counter(
            "syncd_store_pruned_rows",
            "Rows retention pruned, by table.",
            ["table"],
            registry=r,
        )
        self.store_vacuums = Counter(
            "syncd_store_vacuums",
            "PostgreSQL: tables housekeeping vacuumed because autovacuum had left more "
            "than retention.vacuum_dead_ratio of their rows (or TOAST chunks) dead.",
            ["table"],
            registry=r,
        )
        self.store_size = Gauge(
            "syncd_store_size_bytes",
            "The store on disk (SQLite: file and WAL; PostgreSQL: syncd's tables), "
            "measured every retention.every_seconds.",
            registry=r,
        )
        self.build_info = Gauge(
            "syncd_build_info", "Version of syncd and Python.", ["version", "python"], registry=r
        )
        self.build_info.labels(__version__, platform.python_version()).set(1)

    def forget_streams(self, names: set[str]) -> None:
        """Drop the per-stream gauges of sources a reload removed."""
        for name in names:
            for gauge in (self.stream_last_success, self.stream_last_attempt, self.lease_held):
                try:
                    gauge.remove(name)
                except KeyError:  # never had a value
                    pass

    def watch_store(self, store, directions: Callable[[], dict[str, set[str]]]) -> None:  # noqa: ANN001
        """Add the scrape-time figures read from ``store``."""
        self.registry.register(StoreCollector(store, directions))


class StoreCollector(Collector):
    """Reads backlog figures from the store on every scrape."""

    def __init__(self, store, directions: Callable[[], dict[str, set[str]]]) -> None:  # noqa: ANN001
        self.store = store
        self.directions = directions  # source system -> target systems of its flows

    def describe(self) -> list:
        return []  # values come from the database at collect time only

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from syncd import clock
        from syncd.store import conflicts, dead_letters, inbox, outbox, timers

        up = GaugeMetricFamily("syncd_store_up", "1 when the store answered this scrape.")
        try:
            with self.store.read() as conn:
                waiting_events = inbox.oldest_pending_by_system(conn)
                waiting_commands = outbox.oldest_pending_by_route(conn)
                pending = outbox.pending_by_target(conn)
                states = outbox.counts(conn)
                letters = dead_letters.count_open(conn)
                open_conflicts = conflicts.count_open(conn)
                waiting_timers = timers.pending_counts(conn, clock.now(), TIMER_OVERDUE_SECONDS)
        except Exception as exc:  # a broken store must not break /metrics
            log.warning("store unreachable while collecting metrics: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        oldest: dict[str, float] = {}
        targets = self.directions()
        for system, ts in waiting_events.items():
            for target in targets.get(system, {"unrouted"}):
                key = f"{system}_to_{target}"
                oldest[key] = min(ts, oldest.get(key, ts))
        for (origin, target), ts in waiting_commands.items():
            key = f"{origin or 'syncd'}_to_{target}"
            oldest[key] = min(ts, oldest.get(key, ts))
        g = GaugeMetricFamily(
            "syncd_oldest_pending_change_timestamp_seconds",
            "Source time of the oldest change not yet applied, per direction.",
            labels=["direction"],
        )
        for direction, ts in sorted(oldest.items()):
            g.add_metric([direction], ts)
        yield g

        g = GaugeMetricFamily(
            "syncd_outbox_pending", "Commands waiting or running, per sink.", labels=["sink"]
        )
        for target, n in sorted(pending.items()):
            g.add_metric([target], n)
        yield g
        g = GaugeMetricFamily(
            "syncd_outbox_commands", "Commands in the outbox, per state.", labels=["state"]
        )
        for state in ("pending", "running", "retrying", "dead"):
            g.add_metric([state], states.get(state, 0))
        yield g
        g = GaugeMetricFamily("syncd_dead_letters", "Open dead letters, per kind.", labels=["kind"])
        for kind in ("command", "event", "record"):
            g.add_metric([kind], letters.get(kind, 0))
        yield g
        yield GaugeMetricFamily(
            "syncd_conflicts_open", "Conflicts waiting for an operator.", value=open_conflicts
        )
        pending_g = GaugeMetricFamily(
            "syncd_timers_pending", "Timers waiting to fire, per kind.", labels=["kind"]
        )
        overdue_g = GaugeMetricFamily(
            "syncd_timers_overdue",
            f"Timers due over {TIMER_OVERDUE_SECONDS:.0f} s ago and not fired yet, per kind.",
            labels=["kind"],
        )
        for kind, (n, overdue) in sorted(waiting_timers.items()):
            pending_g.add_metric([kind], n)
            overdue_g.add_metric([kind], overdue)
        yield pending_g
        yield overdue_g
