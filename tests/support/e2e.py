"""Both sandboxes on loopback and a daemon config wired to them (orders both ways)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

from syncd_sandbox.crm_app import SandboxCrm
from syncd_sandbox.erp_schema import EXCHANGE_PLAN
from tests.conftest import wait_until
from tests.support.daemon import ROOT, order_flows, syncd, write_config
from tests.support.erp import ORDERS, STATES, erp_env, erp_sandbox
from tests.support.serve import serving

CRM_KEY = "e2e-crm-key-0000000000000"
PARTNERS = "Catalog_Партнеры"
DELIVERY = "InformationRegister_СтатусыСборкиИДоставки"


@contextmanager
def both_sandboxes(orders: int = 3, crm_timezone: str = "Europe/Moscow") -> Iterator[tuple]:
    with erp_sandbox(seed=False) as (erp, erp_url):
        erp.trade.seed(customers=5, items=4, orders=orders, seed=7)
        crm = SandboxCrm([CRM_KEY], requests_per_second=None, timezone=crm_timezone)
        with serving(crm) as crm_url:
            yield erp, erp_url, crm, crm_url


def order_config(
    tmp: Path,
    db_url: str,
    erp,
    *,
    interval: float = 0.2,
    pos: Path | None = None,  # noqa: ANN001
    crm_timezone: str | None = None,
) -> Path:
    """The demo's pipeline (customers, orders both ways) against ``erp``'s node."""
    sources = [
        {
            "name": "erp_changes",
            "kind": "erp_exchange",
            "system": "erp",
            "interval_seconds": interval,
            "options": {
                "plan": EXCHANGE_PLAN,
                "node": erp.node,
                "sets": {
                    ORDERS: "order",
                    STATES: "order_state",
                    DELIVERY: "delivery_state",
                    PARTNERS: "customer",
                },
            },
        },
        {
            "name": "crm_orders",
            "kind": "retailcrm_history",
            "system": "crm",
            "interval_seconds": interval,
            "options": {"start": "2000-01-01 00:00:00", "requests_per_second": 200},
        },
    ]
    flows = [
        {
            "name": "customers_from_erp",
            "kind": "customer_sync",
            "source_system": "erp",
            "entities": ["customer"],
            "target": "crm",
        },
        *order_flows(["order", "order_state", "delivery_state"]),
    ]
    if pos is not None:  # a store group's drop folder and its purchase history
        sources.append(
            {
                "name": "pos_msk",
                "kind": "pos_drop",
                "system": "pos",
                "interval_seconds": interval,
                "options": {"path": str(pos), "group": "msk", "settle_seconds": 0},
            }
        )
        flows.append(
            {
                "name": "purchases",
                "kind": "purchase_history",
                "source_system": "pos",
                "entities": ["receipt"],
                "target": "crm",
            }
        )
    sinks = {
        "crm": {"kind": "retailcrm", "system": "crm", "options": {"requests_per_second": 200}},
        "erp": {"kind": "erp", "system": "erp"},
    }
    extra = {
        "mappings_dir": str(ROOT / "mappings"),
        "erp": {"requests_per_second": 200, "max_concurrency": 4},
        "flows": flows,
        "sinks": sinks,
    }
    if crm_timezone:
        extra["crm"] = {"timezone": crm_timezone}
    return write_config(tmp, db_url, sources=sources, extra=extra)


# for configs that are built but never connect: a node Ref_Key of the right shape,
# and both systems at a loopback port nothing listens on
NO_ERP = SimpleNamespace(node="00000000-0000-0000-0000-000000000001")


def unreachable_env() -> dict[str, str]:
    return e2e_env("http://127.0.0.1:9/odata/standard.odata/", "http://127.0.0.1:9")


def e2e_env(erp_url: str, crm_url: str) -> dict[str, str]:
    return {**erp_env(erp_url), "SYNCD_CRM_URL": crm_url, "SYNCD_CRM_API_KEY": CRM_KEY}


def status(config: Path, env: dict) -> dict:
    done = syncd("status", "--json", "--config", str(config), env=env)
    return json.loads(done.stdout)


def crm_order(crm, ref):  # noqa: ANN001, ANN201
    return crm.state.find("order", ref, "externalId", None)


def erp_writes(erp, ref: str) -> list[str]:  # noqa: ANN001
    return [m + " " + p.rsplit("/", 1)[-1] for m, p in erp.requests if ref in p and m != "GET"]


def erp_data_writes(requests: list) -> list:
    """Requests that change data in 1C (reading the exchange plan is not one)."""
    reads = ("SelectChanges", "NotifyChangesReceived")
    return [r for r in requests if r[0] != "GET" and not r[1].endswith(reads)]


def cycles_pass(config, env, n: int = 2) -> None:  # noqa: ANN001
    """Wait until every stream has run ``n`` more times (no sleeping on a guess)."""

    def attempts():  # noqa: ANN202
        streams = status(config, env)["streams"]
        return {name: s.get("last_attempt") or 0 for name, s in streams.items()}

    seen = attempts()
    for _ in range(n):
        before = dict(seen)
        seen = wait_until(
            lambda b=before: (a := attempts()) and all(a[k] > b.get(k, 0) for k in a) and a,
            what="the streams to run again",
        )
