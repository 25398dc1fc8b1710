"""The order robot and the call chain in a running daemon against both sandboxes.

``robot_config`` is the e2e order pipeline (``tests.support.e2e.order_config``)
with the robot's parts added: the CRM history source hands back the orders syncd
created (``own_created_as``), and the ``order_robot`` and ``call_chain`` flows
run; the mappings are a copy the test may edit.  Time for timers is moved with
``ClockOffset`` (``SYNCD_CLOCK_OFFSET_FILE``), never slept.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from syncd.store import Store, timers
from tests.support.daemon import ROOT
from tests.support.e2e import order_config
from tests.support.robot_flows import FLOWS

ROBOT_FLOWS = FLOWS  # the order_robot and call_chain flows, as the demo config has them


def robot_config(
    tmp: Path,
    db_url: str,
    erp,  # noqa: ANN001
    *,
    edit_mappings=None,  # noqa: ANN001 - Callable[[Path], None]
    extra_sources: list[dict] | None = None,
    extra_flows: list[dict] | None = None,
    extra_sinks: dict | None = None,
) -> Path:
    config = order_config(tmp, db_url, erp)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    for source in data["sources"]:
        if source["kind"] == "retailcrm_history":
            source["options"]["own_created_as"] = "order_created"
    data["sources"] += extra_sources or []
    data["flows"] += ROBOT_FLOWS + (extra_flows or [])
    data["sinks"].update(extra_sinks or {})
    mappings = tmp / "mappings"
    if not mappings.exists():
        shutil.copytree(ROOT / "mappings", mappings)
    if edit_mappings is not None:
        edit_mappings(mappings)
    data["mappings_dir"] = str(mappings)
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return config


def edit_yaml(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


class ClockOffset:
    """The daemon's clock for timers: real time plus what the test moved it by."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "clock-offset"
        self.seconds = 0.0
        self.path.write_text("0", encoding="utf-8")

    @property
    def env(self) -> dict[str, str]:
        return {"SYNCD_CLOCK_OFFSET_FILE": str(self.path)}

    def forward(self, seconds: float) -> None:
        self.seconds += seconds
        self.path.write_text(str(self.seconds), encoding="utf-8")


def timer_states(db_url: str) -> dict[str, list[str]]:
    """Timer keys by state, as the store holds them."""
    store = Store.open(db_url)
    try:
        with store.read() as conn:
            rows = timers.listing(conn, ("pending", "fired", "cancelled"))
    finally:
        store.dispose()
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.state, []).append(row.key)
    return found


def status_moves_by_syncd(crm, order_id: int, status: str) -> int:  # noqa: ANN001
    """How many times syncd's key set ``status`` on the order (the CRM's history)."""
    return sum(
        1
        for r in crm.state.history["order"]
        if r["order"]["id"] == order_id
        and r.get("field") == "status"
        and (r.get("newValue") or {}).get("code") == status
        and r.get("source") == "api"
    )
