"""Batch SQL on both stores: a list bound as one array, a batch inserted as arrays.

On PostgreSQL a lookup by a batch of ids must walk the index however the server
plans it: psycopg prepares a statement it ran five times, and PostgreSQL may then
use one generic plan for any values.  ``IN ($1, …, $500)`` planned generically was
a sequential scan comparing every row with 500 parameters (77 ms a batch at 40k
bindings, the engine bench's largest cost).
"""

from __future__ import annotations

import json
import re
import time

from sqlalchemy import select, text

from syncd.store import bindings, inbox
from syncd.store.schema import bindings as bindings_table
from syncd.store.sql import insert_rows, one_of

REFS = [("crm", "order", f"ORD-{i:05d}") for i in range(2000)]


def _filled(store) -> None:  # noqa: ANN001
    with store.begin() as conn:
        for start in range(0, len(REFS), 500):
            part = REFS[start : start + 500]
            bindings.record_writes(conn, [bindings.Write(ref, f"fp{ref[2]}") for ref in part])


def test_a_batch_lookup_finds_exactly_the_listed_ids(store):
    _filled(store)
    wanted = [REFS[3], REFS[1999], ("crm", "order", "absent"), ("erp", "order", "ORD-00003")]
    with store.read() as conn:
        found = bindings.get_many(conn, wanted)
    assert set(found) == {REFS[3], REFS[1999]}
    assert found[REFS[3]].fingerprint == "fpORD-00003"


def test_a_batch_lookup_walks_the_index_under_a_generic_plan(pg_url):
    from syncd.store import Store

    store = Store.open(pg_url)
    store.truncate_all()
    _filled(store)
    stmt = select(bindings_table.c.id).where(
        bindings_table.c.system == "crm", one_of(bindings_table.c.external_id, "ids")
    )
    with store.engine.connect() as conn:
        compiled = str(stmt.compile(conn))
        assert "= ANY (" in compiled and "IN (" not in compiled
        conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql(
            "PREPARE by_ids(text[]) AS SELECT id FROM bindings "
            "WHERE system = 'crm' AND entity = 'order' AND external_id = ANY($1)"
        )
        ids = "ARRAY[" + ",".join(f"'{r[2]}'" for r in REFS[:500]) + "]"
        plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) EXECUTE by_ids({ids})").scalar()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    assert "Index" in plan[0]["Plan"]["Node Type"], plan[0]["Plan"]
    store.dispose()


def test_insert_rows_skips_taken_keys_and_returns_what_it_wrote(store):
    now = time.time()
    row = {"link": "L1", "system": "crm", "entity": "order", "updated_at": now}
    rows = [row | {"external_id": "A"}, row | {"external_id": "B"}]
    key = ["external_id", "system", "entity"]
    with store.begin() as conn:
        first = insert_rows(conn, bindings_table, rows, key, returning=["external_id"])
        again = insert_rows(
            conn,
            bindings_table,
            [row | {"external_id": "B", "link": "L2"}, row | {"external_id": "C"}],
            key,
            returning=["external_id"],
        )
    assert sorted(r[0] for r in first) == ["A", "B"]
    assert [r[0] for r in again] == ["C"]  # B was taken: skipped, its link kept
    with store.read() as conn:
        assert bindings.get(conn, "crm", "order", "B").link == "L1"


def test_insert_rows_updates_the_named_columns_of_a_taken_key(store):
    now = time.time()
    row = {"link": "L1", "system": "crm", "entity": "order", "external_id": "A"}
    key = ["external_id", "system", "entity"]
    with store.begin() as conn:
        insert_rows(conn, bindings_table, [row | {"fingerprint": "f1", "updated_at": now}], key)
        insert_rows(
            conn,
            bindings_table,
            [row | {"link": "L9", "fingerprint": "f2", "updated_at": now}],
            key,
            update=["fingerprint"],
        )
    with store.read() as conn:
        found = bindings.get(conn, "crm", "order", "A")
    assert (found.fingerprint, found.link) == ("f2", "L1")


def test_insert_rows_carries_nulls_and_unicode_in_each_column(store):
    from syncd.model import Event

    events = [
        Event("erp", "order", "ЗК-1", "v1", {"ф": "ё"}, changed_at=None),
        Event("erp", "order", "ЗК-2", "v1", {"n": None}, changed_at=1.5),
    ]
    with store.begin() as conn:
        assert inbox.add(conn, events) == 2
        assert inbox.add(conn, events) == 0
        stored = conn.execute(text("SELECT external_id, changed_at FROM inbox ORDER BY id")).all()
    assert [tuple(r) for r in stored] == [("ЗК-1", None), ("ЗК-2", 1.5)]


def test_a_claim_probes_each_candidates_object_after_analyze_saw_only_applied_commands(pg_url):
    """Statistics taken while every command was applied make the partial indexes of
    unfinished commands look empty; the claim must still probe each candidate's object
    (ix_outbox_unfinished_object), not read all unfinished commands per candidate."""
    from syncd.model import Command
    from syncd.store import Store, outbox

    store = Store.open(pg_url)
    store.truncate_all()
    commands = [Command("crm", "order", f"K{i}", "upsert", {"i": i}, f"k{i}") for i in range(3000)]
    with store.begin() as conn:
        outbox.enqueue(conn, commands[:2000])
        conn.execute(text("UPDATE outbox SET state = 'done', done_at = 1"))
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE outbox")
    with store.begin() as conn:
        outbox.enqueue(conn, commands[2000:])
    with store.begin() as conn:
        compiled = outbox._candidates().compile(conn)
        params = compiled.params | {"c_target": "crm", "c_owner": "me", "c_now": time.time()}
        plan = conn.exec_driver_sql(
            "EXPLAIN (FORMAT JSON) " + str(compiled), params | {"c_limit": 500}
        ).scalar()
        claimed = outbox.claim(conn, target="crm", owner="me", limit=500, claim_ttl=60)
    plan = plan if isinstance(plan, list) else json.loads(plan)
    probes = _nodes(plan[0]["Plan"], "earlier")
    assert probes and all(n.get("Index Name") == "ix_outbox_unfinished_object" for n in probes)
    assert all("Index Cond" in n and "object_key" in n["Index Cond"] for n in probes), probes
    assert len(claimed) == 500
    store.dispose()


def _nodes(node: dict, alias: str) -> list[dict]:
    found = [node] if node.get("Alias") == alias else []
    for child in node.get("Plans", []):
        found += _nodes(child, alias)
    return found


def test_not_finished_and_unfinished_name_the_same_states():
    """ix_outbox_unfinished and ix_outbox_unfinished_object spell one set two ways."""
    from syncd.store.outbox import BLOCKING
    from syncd.store.schema import FINISHED_SQL, NOT_FINISHED_SQL, UNFINISHED_SQL

    def states(sql: str) -> set[str]:
        return set(re.findall(r"'(\w+)'", sql))

    every = {"pending", "running", "dead", "done", "discarded", "superseded"}
    assert states(UNFINISHED_SQL) == set(BLOCKING)
    assert states(NOT_FINISHED_SQL) == states(FINISHED_SQL) == every - set(BLOCKING)
    assert "NOT IN" in NOT_FINISHED_SQL and "NOT" not in FINISHED_SQL
