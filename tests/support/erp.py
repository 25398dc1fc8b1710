"""Shared 1C fixtures: a sandbox 1C on loopback, settings and parts pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from syncd.connectors.onec.odata import ODataClient
from syncd_sandbox.erp_app import PREFIX, SandboxErp
from syncd_sandbox.erp_schema import EXCHANGE_PLAN
from tests.support.daemon import parts_of
from tests.support.paths import ROOT
from tests.support.serve import serving

USER, PASSWORD = "Обмен", "пароль-1С"
ORDERS = "Document_ЗаказКлиента"
STATES = "InformationRegister_СостоянияЗаказовКлиентов"
# УТ 11.5 enum СтатусыСборкиИДоставки, as shared/reference/1c-erp.md §4.2 records it (the
# tests' own copy: the sandbox's is checked against it, never the other way round)
DELIVERY_STATUSES = [
    "Обрабатывается",
    "КСборке",
    "Собирается",
    "Собран",
    "ГотовКДоставке",
    "Доставляется",
    "Доставлен",
    "Отменен",
    "Возвращен",
]


@contextmanager
def erp_sandbox(seed: bool = True, **options) -> Iterator[tuple[SandboxErp, str]]:
    """A sandbox 1C (sample data unless ``seed=False``) and its OData URL."""
    app = SandboxErp(user=USER, password=PASSWORD, **options)
    if seed:
        app.trade.seed(customers=8, items=6, orders=5)
    with serving(app) as url:
        yield app, url + PREFIX


def erp_client(url: str, **kwargs) -> ODataClient:
    kwargs.setdefault("per_second", 1000)
    kwargs.setdefault("max_concurrency", 4)
    return ODataClient(url, USER, PASSWORD, sleep=lambda s: None, **kwargs)


def erp_env(url: str) -> dict[str, str]:
    return {"SYNCD_ERP_ODATA_URL": url, "SYNCD_ERP_USER": USER, "SYNCD_ERP_PASSWORD": PASSWORD}


def erp_parts(tmp_path: Path, url: str, *, sources=(), sinks=None, erp=None):  # noqa: ANN001
    """The pipeline a config with these ERP sources and sinks builds (fast pacing)."""
    extra = {
        "erp": {"requests_per_second": 1000, "max_concurrency": 4, **(erp or {})},
        "flows": [],
        "sinks": sinks or {},
    }
    return parts_of(tmp_path, sources=list(sources), extra=extra, env=erp_env(url))


def exchange_source(app: SandboxErp, name: str = "erp_changes", **options) -> dict:
    sets = options.pop("sets", {ORDERS: "order", STATES: "order_state"})
    return {
        "name": name,
        "kind": "erp_exchange",
        "system": "erp",
        "options": {"plan": EXCHANGE_PLAN, "node": app.node, "sets": sets, **options},
    }


def window_source(name: str = "erp_orders", **options) -> dict:
    return {
        "name": name,
        "kind": "erp_window",
        "system": "erp",
        "options": {"set": ORDERS, "entity": "order", **options},
    }


def retail_source(tmp_path: Path, url: str, monkeypatch):  # noqa: ANN001, ANN201
    """A store base's 1C:Розница receipts source (``store12``, group ``msk``), its
    password only in the environment."""
    spec = {
        "name": "store12",
        "kind": "retail_receipts",
        "system": "pos",
        "options": {
            "odata_url": url,
            "user": USER,
            "password_env": "SYNCD_STORE12_PASSWORD",
            "group": "msk",
            "requests_per_second": 1000,
        },
    }
    monkeypatch.setenv("SYNCD_STORE12_PASSWORD", PASSWORD)  # the secret only in the environment
    extra = {"mappings_dir": str(ROOT / "mappings"), "flows": [], "sinks": {}}
    return parts_of(tmp_path, sources=[spec], extra=extra).sources["store12"]


def ws_url(odata_url: str, name: str = "SyncdExchange") -> str:
    """The WSDL address of the sandbox's web service ``name`` beside its OData URL."""
    return odata_url.split(PREFIX, 1)[0] + f"/ws/{name}.1cws?wsdl"


def soap_source(name: str = "erp_soap", **options) -> dict:
    sets = options.pop("sets", {ORDERS: "order", STATES: "order_state"})
    return {
        "name": name,
        "kind": "erp_soap",
        "system": "erp",
        "options": {"node": "syncd", "sets": sets, **options},
    }


def soap_parts(tmp_path: Path, url: str, *, sources=(), sinks=None, odata: bool = False):  # noqa: ANN001
    """The pipeline of a base reached through SyncdExchange only (``odata``: OData too)."""
    env = erp_env(url) if odata else {"SYNCD_ERP_USER": USER, "SYNCD_ERP_PASSWORD": PASSWORD}
    extra = {
        "erp": {
            "requests_per_second": 1000,
            "max_concurrency": 4,
            "soap": {"wsdl_url": ws_url(url)},
        },
        "flows": [],
        "sinks": sinks or {},
    }
    return parts_of(tmp_path, sources=list(sources), extra=extra, env=env)
