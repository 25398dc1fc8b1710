"""Writes to 1C: compare DataVersion, PATCH, Post, re-read and verify; never blindly."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest
import responses

from syncd.connectors.onec.errors import ErpBusinessRefusal
from syncd.connectors.onec.odata import ODataClient
from syncd.connectors.onec.writes import ErpWriter, NotApplied, ObjectChanged
from syncd.engine.applying import apply_claims, claim_for
from syncd.engine.retry import RetryPolicy
from syncd.model import Command
from syncd.store import outbox
from tests.support.erp import ORDERS, erp_client, erp_parts, erp_sandbox
from tests.support.paths import FIXTURES

ERP_SINK = {"erp": {"kind": "erp", "system": "erp"}}


def writer(url: str) -> ErpWriter:
    return ErpWriter(erp_client(url), ZoneInfo("Europe/Moscow"))


def waiting_order(app) -> dict:
    return next(o for o in app.state.rows(ORDERS) if o["Статус"] == "НеСогласован")


def queue_agreement(store, order: dict) -> None:  # noqa: ANN001
    """The command the CRM's "agreed" plans for the order: status, posted, against its version."""
    payload = {
        "set": ORDERS,
        "fields": {"Статус": "КОбеспечению"},
        "expected_version": order["DataVersion"],
        "post": True,
    }
    with store.begin() as conn:
        command = Command("erp", "order", order["Ref_Key"], "set_status", payload, "t:agree")
        outbox.enqueue(conn, [command])


def agree(url: str, order: dict) -> dict:
    """Put the order into work as the CRM's "agreed" does: status, Post, verify."""
    return writer(url).update(
        ORDERS,
        order["Ref_Key"],
        {"Статус": "КОбеспечению"},
        expected_version=order["DataVersion"],
        post=True,
    )


def test_agreeing_an_order_sets_the_status_posts_and_verifies(tmp_path):
    with erp_sandbox() as (app, url):
        order = waiting_order(app)
        after = agree(url, order)
        stored = app.state.get(ORDERS, (order["Ref_Key"],))
        state = app.state.get(
            "InformationRegister_СостоянияЗаказовКлиентов",
            (order["Ref_Key"], "StandardODATA.Document_ЗаказКлиента"),
        )
        methods = [m for m, _ in app.requests]
    assert after["Статус"] == stored["Статус"] == "КОбеспечению"
    assert stored["Posted"] is True and stored["Согласован"] is True
    assert state["Состояние"] == "ГотовКОбеспечению"
    assert methods == ["GET", "GET", "PATCH", "POST", "GET"]  # $metadata, read, write, Post, verify
    assert app.data_load_headers == 0


def test_an_order_changed_in_1c_meanwhile_is_not_overwritten(tmp_path):
    with erp_sandbox() as (app, url):
        order = waiting_order(app)
        seen = order["DataVersion"]
        app.trade.manager_edit(order["Ref_Key"], {"Комментарий": "клиент передумал"})
        changed = app.state.get(ORDERS, (order["Ref_Key"],))
        with pytest.raises(ObjectChanged) as raised:
            writer(url).update(
                ORDERS,
                order["Ref_Key"],
                {"Статус": "КОбеспечению"},
                expected_version=seen,
                post=True,
            )
        after = app.state.get(ORDERS, (order["Ref_Key"],))
        methods = [m for m, _ in app.requests]
    assert after["DataVersion"] == changed["DataVersion"]  # not a single write
    assert after["Статус"] == "НеСогласован" and after["Комментарий"] == "клиент передумал"
    assert "PATCH" not in methods and "POST" not in methods
    assert raised.value.current["Комментарий"] == "клиент передумал"


def test_the_sink_returns_the_changed_order_to_the_flows_and_closes_the_command(tmp_path, store):
    with erp_sandbox() as (app, url):
        sink = erp_parts(tmp_path, url, sinks=ERP_SINK).sinks["erp"]
        order = waiting_order(app)
        seen = order["DataVersion"]
        app.trade.manager_edit(order["Ref_Key"], {"Комментарий": "правка в 1С"})
        command = Command(
            target="erp",
            entity="order",
            key=order["Ref_Key"],
            action="set_status",
            payload={"fields": {"Статус": "КОбеспечению"}, "expected_version": seen},
            idempotency_key="t:1",
        )
        with store.begin() as conn:
            outbox.enqueue(conn, [command])
        claims = claim_for(store, sink, "test", claim_ttl=60)
        round_ = apply_claims(store, sink, claims, RetryPolicy())
        still = app.state.get(ORDERS, (order["Ref_Key"],))
    assert round_.superseded == 1 and round_.dead == 0 and round_.applied == 0
    assert still["Статус"] == "НеСогласован"
    with store.read() as conn:
        state, error = conn.exec_driver_sql("SELECT state, last_error FROM outbox").one()
        (payload,) = conn.exec_driver_sql("SELECT payload FROM inbox").one()
        dead = conn.exec_driver_sql("SELECT count(*) FROM dead_letters").scalar_one()
        bound = conn.exec_driver_sql("SELECT count(*) FROM bindings").scalar_one()
    assert state == "superseded" and "changed in 1C" in error
    assert json.loads(payload)["data"]["Комментарий"] == "правка в 1С"
    assert dead == 0 and bound == 0  # nothing recorded as written


def test_an_agreement_whose_post_failed_after_its_patch_is_posted_by_the_next_attempt(
    tmp_path, store
):
    """1C took the PATCH, then refused Post (503) past every retry: the next attempt
    must see the new DataVersion as its own, not as someone else's change."""
    with erp_sandbox() as (app, url):
        sink = erp_parts(tmp_path, url, sinks=ERP_SINK).sinks["erp"]
        sink.writer = writer(url)  # its client retries without sleeping
        order = waiting_order(app)
        queue_agreement(store, order)
        app.unavailable_posts = 100  # 1C busy for a while: every Post retry refused
        first = apply_claims(store, sink, claim_for(store, sink, "test", 60), RetryPolicy())
        half = dict(app.state.get(ORDERS, (order["Ref_Key"],)))
        with store.begin() as conn:
            (noted,) = conn.exec_driver_sql("SELECT progress FROM outbox").one()
            conn.exec_driver_sql("UPDATE outbox SET next_attempt_at = 0")  # due now
        app.unavailable_posts = 0
        second = apply_claims(store, sink, claim_for(store, sink, "test", 60), RetryPolicy())
        stored = app.state.get(ORDERS, (order["Ref_Key"],))
        patches = [p for m, p in app.requests if m == "PATCH"]
    assert first.retried == 1 and half["Статус"] == "КОбеспечению" and not half["Согласован"]
    assert json.loads(noted) == {"own_versions": [half["DataVersion"]], "last_step": "patched"}
    assert second.applied == 1 and second.superseded == 0 and second.dead == 0
    assert stored["Posted"] is True and stored["Согласован"] is True  # the warehouse sees it
    assert len(patches) == 1  # what was written is not written again


def test_an_order_someone_else_changed_after_syncds_own_patch_is_not_overwritten(tmp_path, store):
    """Evidence, not versions: after syncd's own PATCH a manager in 1C closed the order;
    the next attempt must hand the order back to the flows, not post over it."""
    with erp_sandbox() as (app, url):
        sink = erp_parts(tmp_path, url, sinks=ERP_SINK).sinks["erp"]
        sink.writer = writer(url)
        order = waiting_order(app)
        queue_agreement(store, order)
        app.unavailable_posts = 100
        apply_claims(store, sink, claim_for(store, sink, "test", 60), RetryPolicy())
        app.unavailable_posts = 0
        app.trade.manager_edit(order["Ref_Key"], {"Статус": "Закрыт"})
        with store.begin() as conn:
            conn.exec_driver_sql("UPDATE outbox SET next_attempt_at = 0")
        second = apply_claims(store, sink, claim_for(store, sink, "test", 60), RetryPolicy())
        stored = app.state.get(ORDERS, (order["Ref_Key"],))
    assert second.superseded == 1 and stored["Статус"] == "Закрыт"


def test_a_posting_refused_by_1c_is_a_permanent_error():
    with erp_sandbox() as (app, url):
        order = waiting_order(app)
        app.trade.refusals[order["Ref_Key"]] = "Недостаточно товара на складе"
        with pytest.raises(ErpBusinessRefusal, match="Недостаточно товара"):
            agree(url, order)


def test_a_value_1c_silently_truncated_is_not_applied():
    with erp_sandbox() as (app, url):
        order = waiting_order(app)
        with pytest.raises(NotApplied, match="НомерПоДаннымКлиента"):
            writer(url).update(
                ORDERS,
                order["Ref_Key"],
                {"НомерПоДаннымКлиента": "S-" + "9" * 80},  # 1C keeps 50 characters
                expected_version=order["DataVersion"],
            )


def test_a_status_that_1c_does_not_keep_is_not_applied(monkeypatch):
    with erp_sandbox() as (app, url):
        order = waiting_order(app)
        original = app.trade.post

        def post_and_revert(set_name, key):  # a configuration handler resets the status
            row = original(set_name, key)
            row["Статус"] = "НеСогласован"
            return row

        monkeypatch.setattr(app.trade, "post", post_and_revert)
        with pytest.raises(NotApplied, match="Статус"):
            agree(url, order)


def test_a_tabular_section_goes_whole_with_line_numbers_from_one():
    with erp_sandbox() as (app, url):
        order = waiting_order(app)
        lines = [{**line, "LineNumber": 7} for line in order["Товары"]][::-1]
        writer(url).update(
            ORDERS, order["Ref_Key"], {"Товары": lines}, expected_version=order["DataVersion"]
        )
        stored = app.state.get(ORDERS, (order["Ref_Key"],))["Товары"]
    assert [line["LineNumber"] for line in stored] == list(range(1, len(lines) + 1))
    assert [line["Номенклатура_Key"] for line in stored] == [
        line["Номенклатура_Key"] for line in lines
    ]


def test_deleting_marks_for_deletion_never_http_delete():
    with erp_sandbox() as (app, url):
        order = app.state.rows(ORDERS)[0]
        writer(url).mark_deleted(ORDERS, order["Ref_Key"])
        stored = app.state.get(ORDERS, (order["Ref_Key"],))
        methods = [m for m, _ in app.requests]
    assert stored["DeletionMark"] is True and stored["Posted"] is False
    assert "DELETE" not in methods and app.state.deletes == 0


@responses.activate
def test_no_write_carries_the_data_load_header():
    base = "https://erp.test/ut/odata/standard.odata/"
    ref = "8d1d7287-0000-0000-0000-000000000001"
    meta = (FIXTURES / "onec_metadata.xml").read_bytes()
    responses.get(base + "$metadata", body=meta, content_type="application/xml")
    row = {
        "Ref_Key": ref,
        "DataVersion": "AAAAAAAAAAE=",
        "Статус": "КОбеспечению",
        "Posted": True,
        "Согласован": True,
    }
    before = {**row, "Статус": "НеСогласован", "Согласован": False}
    responses.get(f"{base}Document_ЗаказКлиента(guid'{ref}')", json=before)  # then `row`
    responses.get(f"{base}Document_ЗаказКлиента(guid'{ref}')", json=row)
    responses.patch(f"{base}Document_ЗаказКлиента(guid'{ref}')", json=row)
    responses.post(f"{base}Document_ЗаказКлиента(guid'{ref}')/Post", json=row)
    w = ErpWriter(ODataClient(base, "u", "p", sleep=lambda s: None, per_second=1000), None)
    w.update(ORDERS, ref, {"Статус": "КОбеспечению"}, expected_version="AAAAAAAAAAE=", post=True)
    sent = [c.request for c in responses.calls]
    assert {r.method for r in sent} == {"GET", "PATCH", "POST"}
    assert not any("DataLoadMode" in name for r in sent for name in r.headers)


def soap_sink(tmp_path, app, url):
    root = url.split("/odata/")[0]
    soap = {
        "wsdl_url": f"{root}/ws/ОбменЗаказами.1cws?wsdl",
        "operations": {"set_order_status": "УстановитьСтатусЗаказа"},
    }
    options = {"status_via": "soap", "soap_status_params": {"ref": "Ссылка", "status": "Статус"}}
    sinks = {"erp": {"kind": "erp", "system": "erp", "options": options}}
    return erp_parts(tmp_path, url, sinks=sinks, erp={"soap": soap}).sinks["erp"]


def status_command(order: dict, expected: str | None = None) -> Command:
    return Command(
        target="erp",
        entity="order",
        key=order["Ref_Key"],
        action="set_status",
        payload={"fields": {"Статус": "КОбеспечению"}, "expected_version": expected},
        idempotency_key="t:soap",
        id=1,
    )


def test_the_status_can_go_through_the_integrators_web_service(tmp_path):
    with erp_sandbox() as (app, url):
        order = waiting_order(app)
        (result,) = soap_sink(tmp_path, app, url).apply([status_command(order)])
        stored = app.state.get(ORDERS, (order["Ref_Key"],))
    assert result.ok, result.error
    assert stored["Статус"] == "КОбеспечению" and stored["Согласован"] is True
    assert app.soap.calls["УстановитьСтатусЗаказа"] == 1


def test_through_the_web_service_too_a_changed_order_is_not_overwritten(tmp_path):
    with erp_sandbox() as (app, url):
        order = waiting_order(app)
        app.trade.manager_edit(order["Ref_Key"], {"Комментарий": "правка"})
        command = status_command(order, expected=order["DataVersion"])
        (result,) = soap_sink(tmp_path, app, url).apply([command])
        stored = app.state.get(ORDERS, (order["Ref_Key"],))
    assert result.superseded and result.event.payload["data"]["Комментарий"] == "правка"
    assert stored["Статус"] == "НеСогласован" and app.soap.calls["УстановитьСтатусЗаказа"] == 0


def test_where_1c_enforces_if_match_a_change_between_read_and_patch_is_caught():
    with erp_sandbox(enforce_if_match=True) as (app, url):
        order = waiting_order(app)
        w = ErpWriter(erp_client(url), ZoneInfo("Europe/Moscow"), if_match=True)
        read = w.client.get_json

        def read_then_someone_edits(path, options=None):
            row = read(path, options)
            app.trade.manager_edit(order["Ref_Key"], {"Комментарий": "в ту же секунду"})
            return row

        w.client.get_json = read_then_someone_edits
        with pytest.raises(ObjectChanged):
            w.update(
                ORDERS,
                order["Ref_Key"],
                {"Статус": "КОбеспечению"},
                expected_version=order["DataVersion"],
            )
        stored = app.state.get(ORDERS, (order["Ref_Key"],))
    assert stored["Статус"] == "НеСогласован" and stored["Комментарий"] == "в ту же секунду"


def test_cancelling_every_line_flags_the_rows_1c_holds_when_the_write_starts(tmp_path):
    with erp_sandbox() as (app, url):
        order = waiting_order(app)
        ref = order["Ref_Key"]
        lines = app.state.get(ORDERS, (ref,))["Товары"]
        assert len(lines) >= 1 and not any(line["Отменено"] for line in lines)
        after = writer(url).update(
            ORDERS,
            ref,
            {"Статус": "Закрыт"},
            expected_version=order["DataVersion"],
            post=True,
            cancel_lines=("Товары", "Отменено"),
        )
        stored = app.state.get(ORDERS, (ref,))["Товары"]
    assert [line["Отменено"] for line in stored] == [True] * len(lines)
    # nothing else of a line moved: the goods, quantities and sums are 1C's own
    keep = ("Номенклатура_Key", "Количество", "Сумма")
    assert [[line[k] for k in keep] for line in stored] == [
        [line[k] for k in keep] for line in lines
    ]
    assert after["Статус"] == "Закрыт"


@pytest.mark.parametrize("bad", [{"section": "Товары"}, ["Товары", "Отменено"], {"flag": ""}])
def test_a_cancel_lines_that_names_no_section_and_flag_is_a_bad_command(tmp_path, store, bad):
    with erp_sandbox() as (app, url):
        sink = erp_parts(tmp_path, url, sinks=ERP_SINK).sinks["erp"]
        order = waiting_order(app)
        payload = {"set": ORDERS, "fields": {}, "cancel_lines": bad}
        with store.begin() as conn:
            outbox.enqueue(
                conn, [Command("erp", "order", order["Ref_Key"], "update", payload, "t")]
            )
        round_ = apply_claims(store, sink, claim_for(store, sink, "test", 60), RetryPolicy())
        writes = [m for m, _ in app.requests if m in ("PATCH", "POST")]
    with store.read() as conn:
        state, error = conn.exec_driver_sql("SELECT state, last_error FROM outbox").one()
    assert round_.dead == 1 and state == "dead" and writes == []
    assert "'update' command's payload: cancel_lines" in error  # the action and the field
