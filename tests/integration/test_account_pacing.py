"""One request budget per CRM account: every part shares one pacer at the lowest rate asked.

No timing asserts: the account's pacer runs on a virtual clock (its sleeps move
the clock), and the requests reaching the sandbox CRM are stamped with that
clock, so the spacing checked is the one the pacer handed out.
"""

from __future__ import annotations

from collections import Counter

import pytest

from syncd.config import ConfigError
from syncd.connectors import pacing
from syncd.model import Command
from syncd_sandbox.crm_app import SandboxCrm
from tests.support.crm import history_source
from tests.support.daemon import parts_of
from tests.support.serve import serving

KEY = "pacing-key-0000000000000000"


class VirtualClock:
    """Time that passes only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def crm_parts(tmp_path, url: str, *, source_rate: float | None, sink_rate: float | None, **more):
    """A history source and a CRM sink of one account, built from a config."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    env = {"SYNCD_CRM_URL": url, "SYNCD_CRM_API_KEY": KEY, "SYNCD_CRM_SITE": "main"}
    sources = []
    if source_rate is not None:
        sources.append(history_source(start="2000-01-01 00:00:00", requests_per_second=source_rate))
    sinks = {}
    if sink_rate is not None:
        sinks["crm"] = {
            "kind": "retailcrm",
            "system": "crm",
            "options": {"requests_per_second": sink_rate},
        }
    extra = {"sinks": sinks, "flows": more.pop("flows", [])}
    return parts_of(tmp_path, sources=sources, extra=extra, env=env)


def test_a_source_at_10_and_a_sink_at_5_together_stay_at_5_per_second(tmp_path, monkeypatch):
    crm = SandboxCrm([KEY], requests_per_second=None)
    for n in range(230):  # three history pages of changes by a manager
        crm.state.create("order", {"firstName": f"Клиент {n}"}, None, author="user")
    arrivals: list[float] = []
    clock = VirtualClock()

    def stamped(environ, start_response):  # noqa: ANN001, ANN202
        if environ.get("PATH_INFO", "").startswith("/api/v5/"):
            arrivals.append(clock())
        return crm(environ, start_response)

    stamped.max_body_bytes = crm.max_body_bytes  # type: ignore[attr-defined]

    with serving(stamped) as url:
        pipeline = crm_parts(tmp_path, url, source_rate=10, sink_rate=5)
        source, sink = pipeline.sources["crm_orders"], pipeline.sinks["crm"]
        pacer = pacing.pacer_for(url)
        assert source.client.t.pacer is pacer and sink.client.t.pacer is pacer
        monkeypatch.setattr(pacer, "clock", clock)
        monkeypatch.setattr(pacer, "sleep", clock.sleep)
        try:
            n = 0
            for _ in range(3):  # both parts busy, their requests interleaved
                for batch in source.poll(None):
                    assert batch.events
                    n += 1
                    command = Command("crm", "order", f"E{n}", "upsert", {"status": "new"}, f"i{n}")
                    assert sink.apply([command])[0].ok
        finally:
            pipeline.close()

    assert len(arrivals) >= 25
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert min(gaps) >= 1 / 5 - 1e-9  # never the sum (15/s), nor the source's 10/s
    per_second = Counter(int(t) for t in arrivals)
    assert max(per_second.values()) <= 5


def test_reloads_replace_a_parts_ask_and_a_removed_part_gives_its_rate_back(tmp_path):
    url = "https://reload.retailcrm.test"
    budget = pacing.budget_for(url)
    running = crm_parts(tmp_path / "a", url, source_rate=10, sink_rate=5)
    assert budget.pacer.per_second == 5

    # a reload builds the new parts first: the sink's new ask replaces its old one ...
    reloaded = crm_parts(tmp_path / "b", url, source_rate=10, sink_rate=8)
    assert budget.rates() == {"source crm_orders": 10, "sink crm": 8}
    assert budget.pacer.per_second == 8
    running.close()  # ... and closing the old parts keeps the new asks
    assert budget.pacer.per_second == 8

    # a reload refused (a part that does not build) leaves the running asks as they were
    with pytest.raises(ConfigError):
        crm_parts(
            tmp_path / "c",
            url,
            source_rate=10,
            sink_rate=2,
            flows=[{"name": "x", "kind": "no_such_flow", "source_system": "crm", "target": "crm"}],
        )
    assert budget.pacer.per_second == 8

    # the sink removed from the configuration: its ask goes with it
    without_sink = crm_parts(tmp_path / "d", url, source_rate=10, sink_rate=None)
    reloaded.close()
    assert budget.rates() == {"source crm_orders": 10}
    assert budget.pacer.per_second == 10
    without_sink.close()


def test_the_lowest_live_ask_sets_the_pace_and_a_withdrawn_newer_ask_restores_the_older():
    budget = pacing.AccountBudget(10)
    source = budget.ask("source crm_orders", 10)
    sink = budget.ask("sink crm", 4)
    check = budget.ask("syncd check", 5)
    assert budget.pacer.per_second == 4
    staged = budget.ask("sink crm", 7)  # the same part rebuilt: replaces its own ask
    assert budget.pacer.per_second == 5
    staged.withdraw()  # that rebuild thrown away: the running sink's ask counts again
    assert budget.pacer.per_second == 4
    sink.withdraw()
    check.withdraw()
    check.withdraw()  # twice is harmless
    assert budget.pacer.per_second == 10
    source.withdraw()
    assert budget.rates() == {} and budget.pacer.per_second == 10  # the last rate stays


def test_one_account_however_its_url_is_spelled():
    assert pacing.pacer_for("https://Shop.RetailCRM.test/") is pacing.pacer_for(
        "https://shop.retailcrm.test"
    )
