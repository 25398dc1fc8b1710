"""Changes through the exchange plan: packages in, confirmation only after the commit."""

from __future__ import annotations

import json
from types import SimpleNamespace

from syncd.engine.sourcing import run_source
from syncd.store import inbox, leases
from syncd_sandbox.erp_schema import EXCHANGE_PLAN
from tests.support.erp import ORDERS, erp_parts, erp_sandbox, exchange_source

PARTNERS = "Catalog_Партнеры"


def stream_lease(store, name="erp_changes"):
    with store.begin() as conn:
        return leases.acquire(conn, f"source:{name}", "test", ttl=60)


def stored(store) -> list[tuple[str, str, str, dict]]:
    with store.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT entity, external_id, version, payload FROM inbox ORDER BY id"
        ).all()
    return [(e, x, v, json.loads(p)) for e, x, v, p in rows]


def test_orders_and_their_states_arrive_and_the_message_is_confirmed_after_the_commit(
    tmp_path, store
):
    with erp_sandbox() as (app, url):
        source = erp_parts(tmp_path, url, sources=[exchange_source(app)]).sources["erp_changes"]
        run = run_source(store, source, stream_lease(store))
        assert run.ok, run.error
        node = app.state.get(EXCHANGE_PLAN, (app.node,))
        left = app.trade.plan.pending(app.node)
    events = stored(store)
    orders = [p for e, _, _, p in events if e == "order"]
    states = [p for e, _, _, p in events if e == "order_state"]
    assert len(orders) == 5 and len(states) == 5 and len(events) == 10  # catalogs not asked for
    assert all(len(p["data"]["Товары"]) >= 1 for p in orders)
    assert {p["data"]["Состояние"] for p in states} == {"ОжидаетсяСогласование"}
    assert states[0]["key"]["Заказ_Type"] == "StandardODATA.Document_ЗаказКлиента"
    assert node["ReceivedNo"] == 1
    assert left == 0


def test_a_package_not_committed_is_read_again_and_nothing_is_lost(tmp_path, store):
    with erp_sandbox() as (app, url):
        source = erp_parts(tmp_path, url, sources=[exchange_source(app)]).sources["erp_changes"]
        first = next(iter(source.poll(None)))  # read, then "crash": no commit, no confirmation
        assert len(first.events) == 10 and first.after_commit is not None
        assert app.trade.plan.pending(app.node) > 0
        run = run_source(store, source, stream_lease(store))
        assert run.ok, run.error
        assert app.trade.plan.pending(app.node) == 0
    ids = [x for _, x, _, _ in stored(store)]
    assert len(ids) == len(set(ids)) == 10


def test_a_change_written_between_select_and_confirm_survives_the_confirmation(tmp_path, store):
    with erp_sandbox() as (app, url):
        source = erp_parts(tmp_path, url, sources=[exchange_source(app)]).sources["erp_changes"]
        order = app.state.rows(ORDERS)[0]
        batches = source.poll(None)
        batch = next(batches)
        app.trade.manager_edit(order["Ref_Key"], {"Комментарий": "позвонить"})  # meanwhile
        batch.after_commit()  # confirms message 1
        assert app.trade.plan.pending(app.node) >= 1
        again = next(iter(source.poll({"message_no": 1})))
    edited = [e for e in again.events if e.external_id == order["Ref_Key"]]
    assert edited and edited[0].payload["data"]["Комментарий"] == "позвонить"
    assert edited[0].version != order["DataVersion"]


def test_a_physically_deleted_object_arrives_as_a_tombstone(tmp_path, store):
    with erp_sandbox() as (app, url):
        sets = {PARTNERS: "customer"}
        spec = exchange_source(app, sets=sets)
        source = erp_parts(tmp_path, url, sources=[spec]).sources["erp_changes"]
        assert run_source(store, source, stream_lease(store)).ok
        partner = app.state.rows(PARTNERS)[0]["Ref_Key"]
        app.state.remove(PARTNERS, (partner,))
        assert run_source(store, source, stream_lease(store)).ok
    tomb = stored(store)[-1]
    assert tomb[1] == partner and tomb[3]["deleted"] is True and tomb[3]["data"] is None


def test_an_empty_package_neither_confirms_nor_moves_the_cursor(tmp_path, store):
    with erp_sandbox(seed=False) as (app, url):
        source = erp_parts(tmp_path, url, sources=[exchange_source(app)]).sources["erp_changes"]
        (batch,) = list(source.poll({"message_no": 7}))
    assert batch.events == [] and batch.cursor == {"message_no": 7} and batch.after_commit is None


def test_a_webhook_nudge_rereads_the_named_object_by_key(tmp_path, store):
    with erp_sandbox() as (app, url):
        spec = exchange_source(app, nudge_rereads_per_poll=10)  # re-read first, by key
        source = erp_parts(tmp_path, url, sources=[spec]).sources["erp_changes"]
        order = app.state.rows(ORDERS)[0]
        (route,) = source.webhooks()
        body = json.dumps({"type": ORDERS, "ref": order["Ref_Key"]}).encode("utf-8-sig")
        assert route.path == "/webhooks/1c"
        intake = route.handler(SimpleNamespace(body=body))
        assert intake.taken == [ORDERS] and intake.events == []
        intake.accept()  # the engine records it once every stream has accepted the call
        other = json.dumps({"type": "Catalog_Номенклатура", "ref": order["Ref_Key"]}).encode()
        ignored = route.handler(SimpleNamespace(body=other))  # not this stream's set
        assert not ignored.takes_part and ignored.ignored == ["Catalog_Номенклатура"]
        nudged = next(iter(source.poll({"message_no": 0})))
    assert [e.external_id for e in nudged.events] == [order["Ref_Key"]]
    assert nudged.events[0].version == order["DataVersion"]
    with store.begin() as conn:
        assert inbox.add(conn, nudged.events, "erp_changes") == 1


def test_by_default_a_nudge_only_makes_the_stream_read_its_package_at_once(tmp_path):
    """A burst of site orders nudges once per order: re-reading each by key, one by one,
    would hold back the package that carries them all."""
    with erp_sandbox() as (app, url):
        source = erp_parts(tmp_path, url, sources=[exchange_source(app)]).sources["erp_changes"]
        (route,) = source.webhooks()
        refs = [o["Ref_Key"] for o in app.state.rows(ORDERS)]
        for ref in refs:
            route.handler(SimpleNamespace(body=json.dumps({"type": ORDERS, "ref": ref}).encode()))
        app.reset_counters()
        batch = next(iter(source.poll(None)))  # the package, first: no nudged batch before it
        reads = [p for m, p in app.requests if m == "GET" and "(guid" in p]
    assert reads == [] or all("ExchangePlan" in p for p in reads)  # no order re-read by key
    assert {e.external_id for e in batch.events if e.entity == "order"} == set(refs)
