"""One person online and offline: one CRM customer, both orders under it, the right figures."""

from __future__ import annotations

import pytest

from tests.conftest import wait_until
from tests.support.daemon import start_daemon, stop
from tests.support.e2e import both_sandboxes, crm_order, e2e_env, order_config
from tests.support.erp import ORDERS

pytestmark = pytest.mark.slow
HEADER = "Чек;Магазин;Дата;Товар;Артикул;Количество;Цена;Сумма;Телефон;Email;Карта;Покупатель"


def test_an_online_order_and_an_offline_receipt_of_one_person_meet_under_one_customer(
    tmp_path, db_url
):
    with both_sandboxes(orders=1) as (erp, erp_url, crm, crm_url):
        env = e2e_env(erp_url, crm_url)
        config = order_config(tmp_path, db_url, erp, pos=tmp_path / "pos")
        order = erp.state.rows(ORDERS)[0]
        ref, partner_ref = order["Ref_Key"], order["Партнер_Key"]
        partner = erp.state.get("Catalog_Партнеры", (partner_ref,))
        written = partner["КонтактнаяИнформация"][0]["Представление"]  # "+7 (9xx) xxx-xx-xx"
        digits = "".join(ch for ch in written if ch.isdigit())
        daemon = start_daemon(config, env=env)
        try:
            wait_until(lambda: crm_order(crm, ref), what="the online order in the CRM")
            # the same person buys in a store; the cashier typed the phone as 8XXXXXXXXXX
            incoming = tmp_path / "pos" / "incoming"
            incoming.mkdir(parents=True, exist_ok=True)
            (incoming / "day.csv").write_bytes(
                "\n".join(
                    [
                        HEADER,
                        f"R1;Тверская;23.11.2026 10:15:00;Чайник;A-1;1;1500;1500;8{digits[1:]};;;",
                    ]
                ).encode("cp1251")
            )
            # and junk beside it: the daemon rejects it and keeps going
            (incoming / "zero.csv").write_bytes(b"")
            (incoming / "junk.json").write_bytes(b'[{"fiscalDriveNumber": 1, "tot')
            offline = wait_until(lambda: crm_order(crm, "pos-msk-R1"), what="the offline order")
            wait_until(
                lambda: (tmp_path / "pos" / "done" / "junk.json.rejects.csv").exists(),
                what="the junk file rejected",
            )
            assert daemon.poll() is None  # still running
            # the online order runs its course: agreed, shipped, closed
            crm.state.edit("order", crm_order(crm, ref), {"status": "client-confirmed"}, "user")
            wait_until(lambda: erp.state.get(ORDERS, (ref,))["Согласован"], what="agreed in 1C")
            erp.trade.ship(ref)
            erp.trade.close(ref)
            wait_until(lambda: crm_order(crm, ref)["status"] == "complete", what="complete")

            def customer():  # noqa: ANN202
                return crm.state.find("customer", partner_ref, "externalId", None)

            total = round(order["СуммаДокумента"] + 1500, 2)
            wait_until(
                lambda: (customer() or {}).get("customFields", {}).get("ltv") == total,
                what="the figures on the customer",
            )
        finally:
            stop(daemon)
    fields = customer()["customFields"]
    assert (
        offline["customer"]["externalId"]
        == partner_ref
        == crm_order(crm, ref)["customer"]["externalId"]
    )
    assert offline["orderMethod"] == "offline" and offline["status"] == "complete"
    assert offline["createdAt"] == "2026-11-23 10:15:00"
    same_phone = [
        c
        for c in crm.state.records["customer"].values()
        if any(digits[1:] in p.get("number", "") for p in c.get("phones") or [])
    ]
    assert len(same_phone) == 1
    assert fields["online_orders"] == 1 and fields["offline_orders"] == 1
    assert fields["redemption_rate"] == 1.0 and fields["ltv"] == total
    assert fields["average_check"] == round(total / 2, 2) and fields["last_purchase"]
