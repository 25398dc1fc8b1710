"""End to end on the real shapes: a 1C that sends exchange packages the way a real УТ 11
does (no m:type on scalars: ``<d:Отменено>false</d:Отменено>``) and the sandbox CRM.

Fed three live orders (``Статус`` = ``КОбеспечению``, goods lines not cancelled), an
earlier syncd created three CRM orders in ``cancel-other`` with no goods, because it
read the text "false" as true.  Here the CRM must get the three orders in the mapped
live status with their goods lines, and a posted order with one cancelled line keeps
its other lines.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from tests.conftest import wait_until
from tests.support.daemon import start_daemon, stop
from tests.support.e2e import CRM_KEY, crm_order, e2e_env, order_config
from tests.support.recorded_erp import FIXTURES, NODE, recorded_erp
from tests.support.serve import serving

pytestmark = pytest.mark.slow

ORDERS = json.loads((FIXTURES / "orders.json").read_text(encoding="utf-8"))["value"]


def test_three_live_orders_in_real_packages_reach_the_crm_live_with_their_goods(tmp_path, db_url):
    from syncd_sandbox.crm_app import SandboxCrm

    crm = SandboxCrm([CRM_KEY], requests_per_second=None)
    with recorded_erp() as (erp, erp_url), serving(crm) as crm_url:
        config = order_config(tmp_path, db_url, SimpleNamespace(node=NODE))
        daemon = start_daemon(config, env=e2e_env(erp_url, crm_url))
        try:
            created = wait_until(
                lambda: (
                    (found := [crm_order(crm, o["Ref_Key"]) for o in ORDERS])
                    and all(found)
                    and found
                ),
                what="the three orders in the CRM",
            )
            wait_until(lambda: 1 in erp.confirmed, what="the package confirmed")
        finally:
            assert stop(daemon) == 0
    assert [o["status"] for o in created] == ["client-confirmed"] * 3  # КОбеспечению: agreed
    goods = [[(i["offer"]["externalId"], i["quantity"]) for i in o["items"]] for o in created]
    lamp, rug, chair, table = (
        "c3314aea-6899-11ef-8780-00155d0a1c01",
        "bd72d913-55bc-11ef-848a-00155d0a1c01",
        "f06588ab-7924-11ef-b33a-00155d0a1c01",
        "dff7f6fa-7a0b-11ef-b33a-00155d0a1c01",
    )
    assert goods[0] == [(chair, 2), (table, 1)]
    assert goods[1] == [(lamp, 1), (chair, 4)]  # the cancelled rug line is not sold
    assert goods[2] == [(rug, 3)]
    assert [o["number"] for o in created] == [o["Number"] for o in ORDERS]
    assert created[1]["customer"]["externalId"] == ORDERS[1]["Партнер_Key"]
    assert erp.writes == []  # nothing written back to 1C: its state is what the CRM shows
