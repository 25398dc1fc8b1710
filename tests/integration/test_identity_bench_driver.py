"""The identity bench's driver of syncd's resolver (bench/identity_score.resolve_with_syncd).

On both stores: every record gets its final customer, a customer folded into
another by a later record is followed to the one it went into, and a record
nothing identifies is a customer of its own.
"""

from __future__ import annotations

from bench.identity_data import population, score
from bench.identity_score import resolve_with_syncd


def _row(rid: str, name: str, phone: str = "", card: str = "") -> dict[str, str]:
    given, surname = name.split()
    return {"id": rid, "given_name": given, "surname": surname, "phone": phone, "card": card}


def test_final_customers_after_a_merge_in_a_later_batch(db_url: str) -> None:
    rows = [
        _row("a", "Анна Иванова", phone="+79123456789"),
        _row("b", "Анна Иванова", phone="8 (912) 345-67-89"),
        _row("c", "Анна Иванова", card="2700123456789"),
        _row("x", "Пётр Петров", phone="+79990000000"),
        _row("d", "Анна Иванова", phone="89123456789", card="2700123456789"),  # joins a and c
        _row("e", "Некто Без", phone="", card=""),
    ]
    found = resolve_with_syncd(rows, db_url, batch=2)
    assert set(found) == {"a", "b", "c", "d", "e", "x"}
    assert found["a"] == found["b"] == found["c"] == found["d"]
    assert found["x"] != found["a"]
    assert found["e"] == "alone:e"


def test_a_small_population_is_mapped_whole_and_scored(db_url: str) -> None:
    rows = list(population(300, "russian", seed=5))
    found = resolve_with_syncd(rows, db_url, batch=64)
    assert set(found) == {r["id"] for r in rows}
    result = score({r["id"]: r["person_id"] for r in rows}, found)
    assert result.unmapped == 0 and result.records == 300
    assert result.correct_pairs > 0  # exact phones and cards alone find many duplicates
