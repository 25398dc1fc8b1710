"""Changes through the SyncdExchange web service: the same events as OData, SOAP alone."""

from __future__ import annotations

import json

from syncd.engine.sourcing import run_source
from syncd.store import dead_letters, leases
from syncd_sandbox.erp_schema import EXCHANGE_PLAN
from tests.support.erp import (
    ORDERS,
    erp_parts,
    erp_sandbox,
    exchange_source,
    soap_parts,
    soap_source,
)


def stream_lease(store, name):  # noqa: ANN001, ANN201
    with store.begin() as conn:
        return leases.acquire(conn, f"source:{name}", "test", ttl=60)


def test_the_same_objects_read_through_odata_and_soap_give_the_same_events(tmp_path):
    (tmp_path / "o").mkdir()
    (tmp_path / "s").mkdir()
    with erp_sandbox() as (app, url):
        app.trade.manager_edit(app.state.rows(ORDERS)[0]["Ref_Key"], {"Комментарий": "«да»\n&"})
        odata = erp_parts(tmp_path / "o", url, sources=[exchange_source(app)])
        through_odata = next(iter(odata.sources["erp_changes"].poll(None)))
        soap = soap_parts(tmp_path / "s", url, sources=[soap_source()])
        through_soap = next(iter(soap.sources["erp_soap"].poll(None)))  # message 1 again

    def by_object(events):  # noqa: ANN001, ANN202
        return {(e.entity, e.external_id): (e.version, e.payload) for e in events}

    assert len(through_odata.events) == 10 and not through_odata.rejected
    assert by_object(through_soap.events) == by_object(through_odata.events)
    an_order = next(e for e in through_soap.events if e.entity == "order")
    assert an_order.payload["data"]["Posted"] in (True, False)  # typed, not "false"
    assert isinstance(an_order.payload["data"]["Товары"][0]["LineNumber"], int)


def test_a_base_reached_by_soap_alone_is_read_and_its_message_confirmed(tmp_path, store):
    with erp_sandbox() as (app, url):
        source = soap_parts(tmp_path, url, sources=[soap_source()]).sources["erp_soap"]
        assert source.client is None  # no OData configured, none used
        run = run_source(store, source, stream_lease(store, "erp_soap"))
        assert run.ok, run.error
        assert app.trade.plan.pending(app.node) == 0
        assert app.state.get(EXCHANGE_PLAN, (app.node,))["ReceivedNo"] == 1
        assert app.syncd_ws.calls["NotifyChangesReceived"] == 1
        odata_reads = [p for _, p in app.requests]
    with store.read() as conn:
        rows = conn.exec_driver_sql("SELECT entity, payload FROM inbox").all()
    assert sorted(e for e, _ in rows) == ["order"] * 5 + ["order_state"] * 5
    assert all(json.loads(p)["data"] for _, p in rows)
    assert odata_reads == []


def test_an_unreadable_message_is_set_aside_once_and_the_stream_goes_on(tmp_path, store):
    with erp_sandbox() as (app, url):
        operation = app.syncd_ws.operations["SelectChanges"]
        poisoned = {"done": False}

        def render(result):  # noqa: ANN001, ANN202 - the first answer carries an entity
            if poisoned["done"]:
                return operation.render(result)
            poisoned["done"] = True
            return "<m:return><m:MessageNo>&lol;</m:MessageNo></m:return>"

        app.syncd_ws.operations["SelectChanges"] = operation.__class__(
            operation.params, operation.handler, render=render
        )
        source = soap_parts(tmp_path, url, sources=[soap_source()]).sources["erp_soap"]
        first = run_source(store, source, stream_lease(store, "erp_soap"))
        app.trade.manager_edit(app.state.rows(ORDERS)[0]["Ref_Key"], {"Комментарий": "снова"})
        second = run_source(store, source, stream_lease(store, "erp_soap"))
        assert first.ok and second.ok, (first.error, second.error)
        assert app.state.get(EXCHANGE_PLAN, (app.node,))["ReceivedNo"] >= 2
    with store.read() as conn:
        letters = dead_letters.list_open(conn)
        orders = conn.exec_driver_sql("SELECT count(*) FROM inbox WHERE entity='order'").scalar()
    assert [(d.subject, "unreadable" in d.error) for d in letters] == [
        ("SelectChanges message 1", True)
    ]
    assert orders == 1  # the stream read the next message: the order written since


def test_a_fault_on_select_fails_the_poll_with_1cs_message_and_moves_nothing(tmp_path, store):
    with erp_sandbox() as (app, url):
        registered = app.trade.plan.pending(app.node)
        source = soap_parts(tmp_path, url, sources=[soap_source(node="нет")]).sources["erp_soap"]
        run = run_source(store, source, stream_lease(store, "erp_soap"))
        left = app.trade.plan.pending(app.node)
    assert not run.ok and "Узел нет плана обмена syncd не найден" in run.error
    assert left == registered > 0  # every registration kept


def soap_only_sink(tmp_path, url):  # noqa: ANN001, ANN201
    sinks = {"erp": {"kind": "erp", "system": "erp", "options": {"status_via": "soap"}}}
    return soap_parts(tmp_path, url, sinks=sinks).sinks["erp"]


def status_command(order: dict, status: str = "КОбеспечению", action: str = "set_status"):  # noqa: ANN201
    from syncd.model import Command

    return Command(
        target="erp",
        entity="order",
        key=order["Ref_Key"],
        action=action,
        payload={"fields": {"Статус": status}, "expected_version": order["DataVersion"]},
        idempotency_key=f"t:{action}",
        id=1,
    )


def waiting(app):  # noqa: ANN001, ANN201
    return next(o for o in app.state.rows(ORDERS) if o["Статус"] == "НеСогласован")


def test_through_soap_alone_the_agreed_status_reaches_1c_posted_and_is_read_back(tmp_path):
    with erp_sandbox() as (app, url):
        order = waiting(app)
        sink = soap_only_sink(tmp_path, url)
        (result,) = sink.apply([status_command(order)])
        stored = app.state.get(ORDERS, (order["Ref_Key"],))
        calls = dict(app.syncd_ws.calls)
        odata_requests = list(app.requests)
    assert result.ok, result.error
    assert stored["Статус"] == "КОбеспечению" and stored["Согласован"] is True and stored["Posted"]
    assert result.version == stored["DataVersion"]
    assert calls["SetOrderStatus"] == 1 and calls["GetObject"] == 2  # before and after
    assert odata_requests == []


def test_a_posting_1c_refuses_through_soap_is_a_permanent_failure_with_1cs_message(tmp_path):
    with erp_sandbox() as (app, url):
        order = waiting(app)
        app.trade.write(ORDERS, (order["Ref_Key"],), {"Товары": []}, data_load=True)
        order = app.state.get(ORDERS, (order["Ref_Key"],))
        (result,) = soap_only_sink(tmp_path, url).apply([status_command(order)])
    assert not result.ok and result.permanent
    assert "Не заполнена" in result.error and "Товары" in result.error


def test_through_soap_alone_writes_other_than_a_status_are_refused_saying_why(tmp_path):
    with erp_sandbox() as (app, url):
        order = waiting(app)
        command = status_command(order, action="update")
        (result,) = soap_only_sink(tmp_path, url).apply([command])
    assert not result.ok and result.permanent and "needs erp.odata_url" in result.error


def test_through_soap_alone_a_cancelled_order_has_every_line_cancelled_in_1c(tmp_path):
    from syncd.model import Command

    with erp_sandbox() as (app, url):
        order = waiting(app)
        payload = {
            "fields": {"Статус": "Закрыт"},
            "expected_version": order["DataVersion"],
            "cancel_lines": {"section": "Товары", "flag": "Отменено"},
        }
        command = Command("erp", "order", order["Ref_Key"], "set_status", payload, "t:c", id=1)
        (result,) = soap_only_sink(tmp_path, url).apply([command])
        stored = app.state.get(ORDERS, (order["Ref_Key"],))
    assert result.ok, result.error
    assert stored["Статус"] == "Закрыт" and all(line["Отменено"] for line in stored["Товары"])


def test_an_integrators_service_without_cancel_parameters_refuses_to_drop_the_cancel(tmp_path):
    from syncd.model import Command

    with erp_sandbox() as (app, url):
        order = waiting(app)
        options = {"status_via": "soap", "soap_status_params": {"ref": "Ref", "status": "Status"}}
        sinks = {"erp": {"kind": "erp", "system": "erp", "options": options}}
        sink = soap_parts(tmp_path, url, sinks=sinks).sinks["erp"]
        payload = {
            "fields": {"Статус": "Закрыт"},
            "cancel_lines": {"section": "Товары", "flag": "Отменено"},
        }
        command = Command("erp", "order", order["Ref_Key"], "set_status", payload, "t:c", id=1)
        (result,) = sink.apply([command])
        calls = app.syncd_ws.calls["SetOrderStatus"]
    assert not result.ok and result.permanent and "cancel_section" in result.error
    assert calls == 0


def test_a_transport_failure_on_select_is_retried_and_the_message_then_read():
    """A 503 without a SOAP answer (a proxy, 1C restarting) is tried again, not set aside."""
    from syncd.connectors.onec.settings import SYNCD_EXCHANGE_OPERATIONS
    from syncd.connectors.onec.soap import ErpSoapClient
    from syncd.connectors.onec.soap_source import SoapExchangeNode
    from syncd_sandbox.erp_app import SandboxErp
    from tests.support.erp import PASSWORD, USER
    from tests.support.serve import serving

    app = SandboxErp(user=USER, password=PASSWORD)
    app.trade.seed(customers=3, items=3, orders=2)
    failures = {"left": 2}

    def flaky(environ, start_response):  # noqa: ANN001, ANN202
        if environ["REQUEST_METHOD"] == "POST" and failures["left"]:
            failures["left"] -= 1
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"busy"]
        return app(environ, start_response)

    flaky.max_body_bytes = 1_000_000
    with serving(flaky) as root:
        client = ErpSoapClient(
            f"{root}/ws/SyncdExchange.1cws?wsdl",
            USER,
            PASSWORD,
            operations=SYNCD_EXCHANGE_OPERATIONS,
            sleep=lambda seconds: None,
        )
        entries = SoapExchangeNode(client, "syncd").changes(1)
    assert failures["left"] == 0 and app.syncd_ws.calls["SelectChanges"] == 1
    assert {s for s, _, _ in entries} >= {ORDERS}
