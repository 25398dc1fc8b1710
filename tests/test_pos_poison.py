"""POS poison input: whatever one file does, it is set aside once and the files behind it go on.

Issue 13, case 5: one bad byte sequence in a UTF-8 CSV.
"""

from __future__ import annotations

from tests.test_pos import HEADER, drop, pos_source, rejects_of


def drain(source, cursor=None, rounds: int = 3):  # noqa: ANN001, ANN201
    """Poll ``rounds`` times as the engine does; (events, rejected records, cursor)."""
    events, rejected = [], []
    for _ in range(rounds):
        for batch in source.poll(cursor):
            events += batch.events
            rejected += batch.rejected
            cursor = batch.cursor
            if batch.after_commit:
                batch.after_commit()
    return events, rejected, cursor


def test_one_bad_byte_sequence_in_a_utf8_csv_rejects_only_its_line(tmp_path):
    source, _ = pos_source(tmp_path)
    rows = [HEADER] + [
        f"R{n};Тверская;23.11.2026 10:0{n}:00;Чайник;A-1;1;100;100;;;;Анна;Продажа"
        for n in range(1, 6)
    ]
    lines = [row.encode("utf-8") for row in rows]
    lines[3] = lines[3].replace("Чайник".encode(), b"\xd0\xff\xfe")  # receipt R3, line 4
    content = b"\n".join(lines) + b"\n"
    drop(tmp_path, "day.csv", content)

    events, rejected, _ = drain(source)

    assert [e.external_id for e in events] == ["msk:R1", "msk:R2", "msk:R4", "msk:R5"]
    assert events[0].payload["store"] == "Тверская"  # read as UTF-8, not as cp1251
    assert rejected == []
    (reject,) = rejects_of(tmp_path, "day.csv")
    at_byte = content.index(b"\xd0\xff")
    assert reject["line"] == "4" and reject["field"] == "line"
    assert (
        "not valid utf-8 text" in reject["reason"]
        and f"byte {at_byte} of the file" in (reject["reason"])
    )


def test_a_cp1251_csv_with_a_few_utf8_looking_lines_stays_cp1251(tmp_path):
    source, _ = pos_source(tmp_path)
    rows = [HEADER] + [
        f"R{n};Тверская;23.11.2026 10:0{n}:00;Чайник;A-1;1;100;100;;;;Анна;Продажа"
        for n in range(1, 4)
    ]
    looks_utf8 = "\nR9;РЎ;23.11.2026 11:00:00;Чай;A;1;5;5;;;;;\n".encode()
    content = "\n".join(rows).encode("cp1251") + looks_utf8
    drop(tmp_path, "day.csv", content)
    events, _, _ = drain(source)
    assert [e.payload["store"] for e in events][:3] == ["Тверская"] * 3
