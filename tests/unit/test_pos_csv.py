"""A store group's CSV export read line by line: receipts whole, bad rows named (pure)."""

from __future__ import annotations

import io

import pytest

from syncd.connectors.pos.csv_export import decide_encoding, read_csv
from syncd.connectors.pos.receipts import Receipt, Reject
from syncd.mappings.load import load_one
from syncd.mappings.model import PosCsvMapping
from tests.support.paths import ROOT

MAPPING = load_one(ROOT / "mappings" / "pos_csv.yaml", PosCsvMapping)
HEADER = (
    "Чек;Магазин;Дата;Товар;Артикул;Количество;Цена;Сумма;Телефон;Email;Карта;Покупатель;Операция"
)


def read(*lines: str, encoding: str = "utf-8", mapping=MAPPING) -> list:
    return list(read_csv(io.BytesIO("\n".join(lines).encode(encoding)), mapping))


def test_a_receipt_of_two_lines_is_read_whole():
    (receipt,) = read(
        HEADER,
        "R1;Тверская;23.11.2026 10:15:00;Чайник;A-1;2;500,25;1 000,50;"
        "+79123456789;a@b.ru;77;Анна;Продажа",
        "R1;Тверская;23.11.2026 10:15:00;Фен;A-2;;;99,999;;;;;",
    )
    assert isinstance(receipt, Receipt) and receipt.line == 2
    assert receipt.data == {
        "receipt_id": "R1",
        "store": "Тверская",
        "at": "2026-11-23T10:15:00+03:00",
        "operation": "sale",
        "total": 1100.5,  # the amounts summed, to kopecks
        "items": [
            {"sku": "A-1", "name": "Чайник", "quantity": 2.0, "price": 500.25, "amount": 1000.5},
            {"sku": "A-2", "name": "Фен", "quantity": 1.0, "price": None, "amount": 99.999},
        ],
        "buyer": {"phone": "+79123456789", "email": "a@b.ru", "card": "77", "name": "Анна"},
    }


def test_a_total_column_is_taken_over_the_sum_and_a_return_is_named_by_the_mapping():
    mapping = MAPPING.model_copy(update={"columns": {**MAPPING.columns, "total": "Итого"}})
    (receipt,) = read(
        "Чек;Дата;Сумма;Итого;Операция",
        "R2;23.11.2026 11:00;100;90,004;  Возврат ",
        mapping=mapping,
    )
    assert receipt.data["total"] == 90.0 and receipt.data["operation"] == "return"
    assert receipt.data["store"] == "" and receipt.data["items"][0]["sku"] == ""
    (bad,) = read("Чек;Дата;Сумма;Итого", "R3;23.11.2026 11:00;100;много", mapping=mapping)
    assert (bad.field, bad.reason) == ("total", "not a number: 'много'")


def test_receipts_follow_one_another_and_a_bad_line_takes_only_its_own_receipt():
    got = read(
        HEADER,
        "R1;М;23.11.2026 10:00;Чайник;A;1;10;10;;;;;",
        "R2;М;23.11.2026 10:05;Фен;B;x;10;10;;;;;",
        "R2;М;23.11.2026 10:05;Утюг;C;1;10;10;;;;;",
        "R3;М;23.11.2026 10:10;Чайник;A;1;10;10;;;;;",
    )
    assert [type(g).__name__ for g in got] == ["Receipt", "Reject", "Reject", "Receipt"]
    assert got[1].line == 3 and got[1].field == "quantity"
    assert got[2].line == 4 and got[2].field == "receipt"
    assert got[2].reason == "another line of receipt R2 was rejected"
    assert [g.data["receipt_id"] for g in got if isinstance(g, Receipt)] == ["R1", "R3"]


def test_a_date_in_none_of_the_formats_is_named_and_every_format_is_tried():
    (bad,) = read(HEADER, "R1;М;32.13.2026;Чайник;A;1;10;10;;;;;")
    assert bad.field == "datetime"
    assert bad.reason == "not a date in the expected formats: '32.13.2026'"
    for written in ("23.11.2026 10:15", "2026-11-23 10:15:00", "2026-11-23T10:15:00"):
        (ok,) = read(HEADER, f"R1;М;{written};Чайник;A;1;10;10;;;;;")
        assert ok.data["at"].startswith("2026-11-23T10:15:00"), written


def test_date_and_time_in_two_columns_are_read_together():
    columns = {k: v for k, v in MAPPING.columns.items() if k != "datetime"}
    mapping = MAPPING.model_copy(update={
        "columns": {**columns, "date": "Дата", "time": "Время"},
        "required": ["receipt_id", "amount"],
    })  # fmt: skip
    (receipt,) = read("Чек;Дата;Время;Сумма", "R1;23.11.2026;10:15:00;5", mapping=mapping)
    assert receipt.data["at"] == "2026-11-23T10:15:00+03:00"


def test_empty_files_missing_columns_and_empty_required_fields_are_named():
    assert [(r.line, r.field, r.reason) for r in read("", "  ")] == [
        (0, "file", "the file is empty")
    ]
    (missing,) = read("Чек;Магазин", "R1;М")
    assert missing.field == "file"
    assert missing.reason == "missing column(s): datetime ('Дата'), amount ('Сумма')"
    (empty,) = read(HEADER, ";М;23.11.2026 10:00;Чайник;A;1;10;10;;;;;")
    assert (empty.line, empty.field, empty.reason) == (2, "receipt_id", "empty")


def test_the_delimiter_is_the_one_the_header_uses_most():
    (receipt,) = read(HEADER.replace(";", ","), "R1,М,23.11.2026 10:00,Ч,A,1,10,10,,,,,")
    assert receipt.data["items"][0]["amount"] == 10.0
    (tabbed,) = read(
        HEADER.replace(";", "\t"), "R1\tМ\t23.11.2026 10:00\tЧ\tA\t1\t10\t10\t\t\t\t\t"
    )
    assert tabbed.data["store"] == "М"


def test_a_line_that_is_not_text_is_named_with_its_byte_offsets_and_the_rest_goes_on():
    lines = [HEADER.encode(), "R1;М;23.11.2026 10:00;Ч;A;1;10;10;;;;;".encode(),
             b"R2;\xff\xfe;23.11.2026 10:00;X;A;1;10;10;;;;;",
             "R3;М;23.11.2026 10:00;Ч;A;1;10;10;;;;;".encode()]  # fmt: skip
    got = list(read_csv(io.BytesIO(b"\n".join(lines)), MAPPING))
    bad = next(g for g in got if isinstance(g, Reject))
    offset = len(lines[0]) + 1 + len(lines[1]) + 1
    assert (bad.line, bad.field) == (3, "line")
    assert (
        bad.reason == f"not valid utf-8 text at byte 3 of the line (byte {offset + 3} of the file)"
    )
    assert [g.data["receipt_id"] for g in got if isinstance(g, Receipt)] == ["R1", "R3"]


def test_a_bom_means_utf_8_and_is_not_part_of_the_header():
    data = "\ufeff" + HEADER + "\nR1;М;23.11.2026 10:00;Ч;A;1;10;10;;;;;"
    (receipt,) = list(read_csv(io.BytesIO(data.encode("utf-8")), MAPPING))
    assert receipt.data["receipt_id"] == "R1"


def test_a_cp1251_export_is_read_as_cp1251():
    (receipt,) = read(
        HEADER, "R1;Тверская;23.11.2026 10:00;Чайник;A;1;10;10;;;;;", encoding="cp1251"
    )
    assert receipt.data["store"] == "Тверская"


@pytest.mark.parametrize(
    ("sample", "whole", "expected"),
    [
        ("\ufeffЧек".encode(), True, "utf-8-sig"),
        ("Чек\nМагазин\n".encode("cp1251"), True, "cp1251"),
        ("Чек\nМагазин\n".encode(), True, "utf-8"),
        (b"ascii only\n", True, "utf-8"),
        # one damaged line among good ones: still UTF-8 (a tie is UTF-8 too)
        ("Чек\n".encode() + b"\xff\n" + "Магазин\n".encode(), True, "utf-8"),
        ("Чек\n".encode() + b"\xff\n", True, "utf-8"),
        # a sample cut inside a character: its last, partial line does not vote
        ("Чек\n".encode() + "Магазин".encode()[:-1], False, "utf-8"),
    ],
)
def test_the_encoding_is_voted_by_the_non_ascii_lines(sample, whole, expected):
    assert decide_encoding(sample, whole) == expected


def test_only_the_first_50_non_ascii_lines_vote():
    good = "Чек\n".encode() * 50
    bad = b"\xff\n" * 60
    assert decide_encoding(good + bad, True) == "utf-8"
    assert decide_encoding(bad[: 2 * 50] + good, True) == "cp1251"


ASCII_MAPPING = MAPPING.model_copy(
    update={"columns": {"receipt_id": "id", "datetime": "at", "amount": "sum", "store": "store"}}
)


def test_a_rejected_row_keeps_its_line_without_its_end_and_at_most_500_characters():
    long_name = "Ч" * 600
    got = read(HEADER, f"R1;М;32.13.2026;{long_name};A;1;10;10;;;;;\r")
    (bad,) = got
    assert bad.raw == f"R1;М;32.13.2026;{long_name};A;1;10;10;;;;;"[:500]
    (crlf,) = read(HEADER, "R2;М;1.1.1;Ч;A;1;10;10;;;;;\r")
    assert crlf.raw == "R2;М;1.1.1;Ч;A;1;10;10;;;;;"
    (missing,) = read("Чек;Магазин" + ";x" * 150, "R1;М")
    assert missing.raw == ("Чек;Магазин" + ";x" * 150)[:200]


def test_a_line_too_long_is_skipped_named_and_the_rest_read():
    data = "\n".join([HEADER, "R1;М;23.11.2026 10:00;" + "Ч" * 300 + ";A;1;10;10;;;;;",
                      "R2;М;23.11.2026 10:00;Ч;A;1;10;10;;;;;"]).encode()  # fmt: skip
    got = list(read_csv(io.BytesIO(data), MAPPING, max_line_bytes=300))
    assert (got[0].line, got[0].field, got[0].reason) == (
        2,
        "line",
        "longer than 300 bytes: skipped",
    )
    assert got[1].data["receipt_id"] == "R2"


def test_a_row_that_is_not_csv_is_named_and_the_rest_read():
    huge = "x" * 200_000  # over the csv module's field limit
    got = read(HEADER, f'R1;М;23.11.2026 10:00;"{huge};A;1;10;10;;;;;',
               "R2;М;23.11.2026 10:00;Ч;A;1;10;10;;;;;")  # fmt: skip
    assert (got[0].line, got[0].field) == (2, "line") and got[0].reason.startswith("not CSV: ")
    assert got[0].raw == f'R1;М;23.11.2026 10:00;"{huge}'[:500]
    assert got[1].data["receipt_id"] == "R2"


def test_a_rejected_receipt_s_other_lines_carry_their_own_text():
    got = read(
        HEADER, "R1;М;23.11.2026 10:00;Ч;A;x;10;10;;;;;", "R1;М;23.11.2026 10:00;Ф;B;1;10;10;;;;;"
    )
    assert got[1].raw == "R1;М;23.11.2026 10:00;Ф;B;1;10;10;;;;;"


def test_a_short_row_has_its_missing_columns_empty():
    (receipt,) = read(HEADER, "R1;М;23.11.2026 10:00;Ч;A;1;10;10")
    assert receipt.data["buyer"] == {"phone": "", "email": "", "card": "", "name": ""}
    assert receipt.data["operation"] == "sale"


def test_an_ascii_header_does_not_vote_and_a_last_line_without_its_newline_does():
    data = "id;at;sum;store\nR1;23.11.2026 10:00;5;Тверская".encode("cp1251")
    (receipt,) = list(read_csv(io.BytesIO(data), ASCII_MAPPING))
    assert receipt.data["store"] == "Тверская"


def test_the_vote_stops_at_50_lines_and_counts_each_line_once():
    good, bad = "Чек\n".encode(), "Чек\n".encode("cp1251")
    assert decide_encoding(bad * 25 + good * 25 + bad * 10, True) == "utf-8"  # a tie at 50
    assert decide_encoding(good * 20 + bad * 30, True) == "cp1251"
    assert decide_encoding(b"ascii\n" + bad * 2, True) == "cp1251"


def test_a_sample_cut_short_loses_only_its_last_partial_line():
    good, bad = "Чек\n".encode(), "Чек\n".encode("cp1251")
    cut = "Чек".encode("cp1251")  # the start of a line the sample cut
    assert decide_encoding(bad + good + cut, False) == "utf-8"  # 1 to 1: the cut one left out
    assert decide_encoding(bad + good + cut, True) == "cp1251"  # whole: it votes
