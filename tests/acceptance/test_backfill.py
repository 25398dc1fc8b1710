"""Backfills: history into the inbox under their own stream, resumable, nothing twice."""

from __future__ import annotations

from datetime import datetime

import pytest

from syncd.backfill import ErpOrdersBackfill, run_backfill
from syncd.store import Store
from tests.support.daemon import syncd
from tests.support.e2e import NO_ERP, order_config, unreachable_env
from tests.support.erp import ORDERS, erp_client, erp_sandbox


def inbox(store: Store, stream: str) -> list[str]:
    with store.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT external_id FROM inbox WHERE stream = ? ORDER BY id".replace(
                "?", "%s" if store.engine.dialect.name != "sqlite" else "?"
            ),
            (stream,),
        ).all()
    return [r[0] for r in rows]


def test_an_interrupted_1c_backfill_resumes_and_stores_each_order_once(store):
    with erp_sandbox(seed=False) as (app, url):
        app.trade.seed(customers=5, items=4, orders=25, seed=2)
        client = erp_client(url, page_size=4)
        real = client.entities
        calls = {"n": 0}

        def flaky(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            for row in real(*args, **kwargs):
                calls["n"] += 1
                if calls["n"] == 13:
                    raise ConnectionError("1C went away")
                yield row

        client.entities = flaky
        since = datetime(2000, 1, 1)
        first = ErpOrdersBackfill("backfill_erp", client, since, ORDERS, lambda n: None, batch=5)
        with pytest.raises(RuntimeError, match="went away"):
            run_backfill(store, first, "test")
        part = inbox(store, "backfill_erp")
        assert 0 < len(part) < 25
        again = ErpOrdersBackfill("backfill_erp", client, since, ORDERS, lambda n: None, batch=5)
        run_backfill(store, again, "test")
        done = inbox(store, "backfill_erp")
        assert sorted(done) == sorted(o["Ref_Key"] for o in app.state.rows(ORDERS))
        run_backfill(
            store, ErpOrdersBackfill("backfill_erp", client, since, ORDERS, lambda n: None), "test"
        )
        assert inbox(store, "backfill_erp") == done  # finished: nothing again


def test_pos_backfill_reads_an_archive_in_place_from_a_date(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    header = "Чек;Магазин;Дата;Товар;Артикул;Количество;Цена;Сумма;Телефон;Email;Карта;Покупатель"
    (archive / "old.csv").write_text(
        "\n".join(
            [
                header,
                "R1;М;01.01.2025 10:00:00;Чай;A;1;10;10;89123456789;;;",
                "R2;М;02.02.2026 10:00:00;Чай;A;1;10;10;89123456789;;;",
            ]
        ),
        encoding="utf-8",
    )
    (archive / "new.csv").write_text(
        "\n".join([header, "R3;М;03.03.2026 10:00:00;Чай;A;1;10;10;;;7700123;"]),
        encoding="utf-8",
    )
    config = order_config(tmp_path, f"sqlite:///{tmp_path}/b.db", NO_ERP, pos=tmp_path / "pos")
    env = unreachable_env()
    args = [
        "backfill",
        "pos",
        "--dir",
        str(archive),
        "--group",
        "msk",
        "--from",
        "2026-01-01",
        "--config",
        str(config),
    ]
    first = syncd(*args, env=env)
    again = syncd(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert "done: 2 new receipt(s)" in first.stdout and "done: 0 new" in again.stdout
    assert sorted(p.name for p in archive.iterdir()) == ["new.csv", "old.csv"]  # left in place
    store = Store.open(f"sqlite:///{tmp_path}/b.db")
    try:
        assert sorted(inbox(store, "backfill_pos_msk")) == ["msk:R2", "msk:R3"]
    finally:
        store.dispose()
