"""POS drop folders: CSV and fiscal JSON; each bad line rejected with a reason, no good one lost."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from syncd.metrics import Metrics
from tests.support.daemon import ROOT, parts_of

HEADER = (
    "Чек;Магазин;Дата;Товар;Артикул;Количество;Цена;Сумма;Телефон;Email;Карта;Покупатель;Операция"
)


def pos_source(tmp_path: Path, **options):  # noqa: ANN201
    spec = {
        "name": "pos_msk",
        "kind": "pos_drop",
        "system": "pos",
        "options": {
            "path": str(tmp_path / "drop"),
            "group": "msk",
            "settle_seconds": 0,
            "batch_receipts": 2,
            **options,
        },
    }
    metrics = Metrics()
    extra = {"mappings_dir": str(ROOT / "mappings"), "flows": [], "sinks": {}}
    parts = parts_of(tmp_path, sources=[spec], extra=extra, metrics=metrics)
    return parts.sources["pos_msk"], metrics


def drop(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / "drop" / "incoming" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def run(source, cursor=None, rounds: int = 2):  # noqa: ANN001, ANN201
    """Poll until the folder is drained (a file is claimed once its size held for a scan)."""
    events = []
    for _ in range(rounds):
        for batch in source.poll(cursor):
            events += batch.events
            cursor = batch.cursor
            if batch.after_commit:
                batch.after_commit()
    return events, cursor


def rejects_of(tmp_path: Path, name: str) -> list[dict]:
    path = tmp_path / "drop" / "done" / f"{name}.rejects.csv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter=";"))


def test_a_cp1251_csv_with_decimal_commas_becomes_receipts(tmp_path):
    source, _ = pos_source(tmp_path)
    rows = [
        HEADER,
        "R1;Тверская;23.11.2026 10:15:00;Чайник;A-1;1;1 990,00;1 990,00;"
        "8 (912) 345-67-89;;;Анна;Продажа",
        "R1;Тверская;23.11.2026 10:15:00;Фен;A-2;2;500,50;1001,00;8 (912) 345-67-89;;;Анна;Продажа",
        "R2;Тверская;23.11.2026 11:00:00;Утюг;A-3;1;750;750;;ivan@example.ru;7700123;;Возврат",
    ]
    drop(tmp_path, "sales.csv", "\r\n".join(rows).encode("cp1251"))
    events, _ = run(source)
    assert [e.external_id for e in events] == ["msk:R1", "msk:R2"]
    first, second = (e.payload for e in events)
    assert first["total"] == 2991.0 and len(first["items"]) == 2
    assert (
        first["at"] == "2026-11-23T10:15:00+03:00"
        and first["buyer"]["phone"] == "8 (912) 345-67-89"
    )
    assert second["operation"] == "return" and second["buyer"]["card"] == "7700123"
    assert (tmp_path / "drop" / "done" / "sales.csv").exists()
    assert rejects_of(tmp_path, "sales.csv") == []


def test_bad_rows_are_rejected_with_line_field_and_reason_and_good_ones_kept(tmp_path):
    source, metrics = pos_source(tmp_path)
    rows = [
        HEADER.replace(";", ","),  # a comma export, UTF-8 with BOM
        "R1,М1,23.11.2026 10:00:00,Чайник,A-1,1,100,100,+79123456789,,,,",
        "R2,М1,31.02.2026 10:00:00,Фен,A-2,1,100,100,,,,,",
        "R3,М1,23.11.2026 10:00:00,Утюг,A-3,1,100,сто,,,,,",
        "R3,М1,23.11.2026 10:00:00,Фен,A-2,1,100,100,,,,,",
        ",М1,23.11.2026 10:00:00,Фен,A-2,1,100,100,,,,,",
        "R4,М1,23.11.2026 12:00:00,Тостер,A-4,1,300,300,,,,,",
    ]
    content = b"\xef\xbb\xbf" + "\n".join(rows).encode("utf-8") + b"\nR5,\xff\xfe broken\n"
    drop(tmp_path, "day.csv", content)
    events, _ = run(source)
    assert [e.external_id for e in events] == ["msk:R1", "msk:R4"]
    found = {(r["line"], r["field"]) for r in rejects_of(tmp_path, "day.csv")}
    assert found == {
        ("3", "datetime"),
        ("4", "amount"),
        ("5", "receipt"),
        ("6", "receipt_id"),
        ("8", "line"),
    }
    reasons = {r["line"]: r["reason"] for r in rejects_of(tmp_path, "day.csv")}
    assert "сто" in reasons["4"] and "utf-8" in reasons["8"]
    assert metrics.pos_rows_rejected.labels("pos_msk", "amount")._value.get() == 1


def test_a_word_for_a_quantity_or_price_and_a_short_row_reject_their_receipts_only(tmp_path):
    """Quantity and price are numbers too: a cashier's "два" or a cut-off line costs its
    own receipt, named by line and field, never the file's other receipts."""
    source, _ = pos_source(tmp_path)
    rows = [
        HEADER,
        "R1;М1;23.11.2026 10:00:00;Чайник;A-1;два;100;200;;;;;",
        "R2;М1;23.11.2026 10:05:00;Фен;A-2;1;сто;100;;;;;",
        "R3;М1;23.11.2026 10:10:00;Утюг;A-3;1;100;100;;;;;",
        "R4;М1;23.11.2026 10:15:00;Тостер;A-4",
        "R5;М1;23.11.2026 10:20:00;Миксер;A-5;1;250;250;;;;;",
    ]
    drop(tmp_path, "cut.csv", "\n".join(rows).encode("utf-8"))
    events, _ = run(source)
    assert [e.external_id for e in events] == ["msk:R3", "msk:R5"]
    found = {(r["line"], r["field"]) for r in rejects_of(tmp_path, "cut.csv")}
    assert found == {("2", "quantity"), ("3", "price"), ("5", "amount")}


def test_a_missing_column_rejects_the_file_naming_the_column(tmp_path):
    source, _ = pos_source(tmp_path)
    drop(tmp_path, "odd.csv", "Чек;Дата\nR1;23.11.2026 10:00:00\n".encode())
    events, _ = run(source)
    assert events == []
    (reject,) = rejects_of(tmp_path, "odd.csv")
    assert reject["field"] == "file" and "amount ('Сумма')" in reject["reason"]


def test_empty_and_zero_byte_files_are_finished_with_a_reason(tmp_path):
    source, metrics = pos_source(tmp_path)
    drop(tmp_path, "zero.csv", b"")
    drop(tmp_path, "blank.json", b"   \n")
    events, _ = run(source)
    assert events == []
    assert rejects_of(tmp_path, "zero.csv")[0]["reason"] == "the file is empty"
    (blank,) = rejects_of(tmp_path, "blank.json")
    assert blank["field"] == "file" and "not JSON" in blank["reason"]
    assert not list((tmp_path / "drop" / "incoming").iterdir())


def ofd(number: int, total: int = 12345, contact: str = "+79123456789") -> dict:
    return {
        "fiscalDriveNumber": "9999078900001234",
        "fiscalDocumentNumber": number,
        "dateTime": 1795420800,
        "totalSum": total,
        "operationType": 1,
        "buyerPhoneOrAddress": contact,
        "retailPlace": "Магазин 12",
        "items": [{"name": "Чайник", "price": total, "quantity": 1, "sum": total}],
    }


def test_a_truncated_json_list_keeps_the_receipts_before_the_break(tmp_path):
    source, _ = pos_source(tmp_path)
    text = json.dumps([ofd(1), ofd(2, contact="anna@example.ru"), ofd(3)], ensure_ascii=False)
    drop(tmp_path, "ofd.json", text[: len(text) - 40].encode())
    events, _ = run(source)
    assert [e.external_id for e in events] == ["msk:9999078900001234-1", "msk:9999078900001234-2"]
    assert events[0].payload["total"] == 123.45 and events[1].payload["buyer"]["email"]
    (reject,) = rejects_of(tmp_path, "ofd.json")
    assert "truncated or broken JSON" in reject["reason"]


def test_json_lines_with_a_broken_line_and_a_bad_amount(tmp_path):
    source, _ = pos_source(tmp_path)
    lines = [
        json.dumps(ofd(1)),
        "{not json",
        json.dumps({**ofd(2), "totalSum": "много"}),
        json.dumps({"document": {"receipt": ofd(3)}}),
    ]
    drop(tmp_path, "ofd.jsonl", "\n".join(lines).encode())
    events, _ = run(source)
    assert [e.external_id.rsplit("-", 1)[1] for e in events] == ["1", "3"]
    found = {(r["line"], r["field"]) for r in rejects_of(tmp_path, "ofd.jsonl")}
    assert found == {("2", "line"), ("3", "totalSum")}


def test_a_100_mb_file_with_a_giant_line_keeps_every_good_row(tmp_path):
    source, _ = pos_source(tmp_path)
    path = tmp_path / "drop" / "incoming" / "huge.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write((HEADER + "\n").encode())
        f.write("R1;М;23.11.2026 10:00:00;Чай;A;1;10;10;;;;;\n".encode())
        junk = b"x" * (1 << 20)
        for _ in range(100):  # one line of 100 MB, no newline in it
            f.write(junk)
        f.write(b"\n")
        f.write("R2;М;23.11.2026 10:05:00;Чай;A;1;10;10;;;;;\n".encode())
    events, _ = run(source)
    assert [e.external_id for e in events] == ["msk:R1", "msk:R2"]
    (reject,) = rejects_of(tmp_path, "huge.csv")
    assert reject["line"] == "3" and "longer than" in reject["reason"]


def test_dropping_the_same_file_again_changes_nothing(tmp_path):
    source, metrics = pos_source(tmp_path)
    content = "\n".join([HEADER, "R1;М;23.11.2026 10:00:00;Чай;A;1;10;10;;;;;"]).encode()
    drop(tmp_path, "a.csv", content)
    first, cursor = run(source)
    drop(tmp_path, "a-again.csv", content)
    again, _ = run(source, cursor)
    assert len(first) == 1 and again == []
    assert metrics.pos_files.labels("pos_msk", "duplicate")._value.get() == 1
    assert (tmp_path / "drop" / "done" / "a-again.csv").exists()


def test_a_file_still_being_written_is_not_taken(tmp_path):
    source, _ = pos_source(tmp_path)
    path = drop(tmp_path, "growing.csv", (HEADER + "\n").encode())
    list(source.poll(None))  # first scan: size noted
    with path.open("ab") as f:
        f.write("R1;М;23.11.2026 10:00:00;Чай;A;1;10;10;;;;;\n".encode())
    events = [e for b in source.poll(None) for e in b.events]  # size changed: not yet
    assert events == [] and path.exists()
    events, _ = run(source, rounds=1)
    assert [e.external_id for e in events] == ["msk:R1"]
