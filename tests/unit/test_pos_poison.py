"""POS poison input: whatever one file does, it is set aside once and the files behind it go on.

Issue 13, cases 3-5: a deeply nested JSON file, a symbolic link to a system
file, one bad byte sequence in a UTF-8 CSV; and any failure of a reader in the
middle of a file (the process killed in the middle: tests/acceptance/test_pos_crash.py).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from syncd.connectors.pos import source as pos_source_module
from tests.unit.test_pos import HEADER, drop, ofd, pos_source, rejects_of

SECRET = "root:$6$Sup3rS3cretHash:19000:0:99999:7:::"


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


def in_order(*paths: Path) -> None:
    """Give the files increasing modification times: they are claimed in this order."""
    for n, path in enumerate(paths):
        os.utime(path, (1_700_000_000 + n, 1_700_000_000 + n), follow_symlinks=False)


def folder(tmp_path: Path, name: str) -> list[str]:
    return sorted(p.name for p in (tmp_path / "drop" / name).iterdir())


def every_file_text(root: Path) -> str:
    """The text of every regular file under ``root``, links not followed."""
    texts = []
    for top, _, files in os.walk(root):
        for name in files:
            path = Path(top) / name
            if path.is_file() and not path.is_symlink():
                texts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(texts)


def row(receipt: str) -> str:
    return f"{receipt};М;23.11.2026 10:00:00;Чай;A;1;10;10;;;;;"


def receipts_file(first: int, count: int) -> bytes:
    return "\n".join(json.dumps(ofd(first + n)) for n in range(count)).encode()


def test_a_deeply_nested_json_file_is_set_aside_once_and_every_file_behind_it_is_read(tmp_path):
    source, metrics = pos_source(tmp_path, files_per_poll=2, batch_receipts=500)
    deep = drop(tmp_path, "0-deep.json", b"[" * 100_000)
    days = [drop(tmp_path, f"{n}-day.jsonl", receipts_file(n * 10_000, 2_000)) for n in (1, 2, 3)]
    in_order(deep, *days)

    events, rejected, cursor = drain(source, rounds=4)
    again, rejected_again, _ = drain(source, cursor, rounds=3)  # more polls: nothing new

    assert len(events) == len({e.external_id for e in events}) == 6_000
    assert again == [] and rejected_again == []
    (letter,) = rejected
    assert letter.subject == "0-deep.json"
    assert "nested deeper than 64 levels" in letter.error and "quarantine/" in letter.error
    assert folder(tmp_path, "quarantine") == ["0-deep.json", "0-deep.json.rejects.csv"]
    assert folder(tmp_path, "incoming") == folder(tmp_path, "processing") == []
    assert metrics.pos_files.labels("pos_msk", "quarantined")._value.get() == 1


def test_a_deeply_nested_json_line_rejects_only_that_line(tmp_path):
    source, _ = pos_source(tmp_path)
    lines = [json.dumps(ofd(1)), "[" * 100_000 + "]" * 100_000, json.dumps(ofd(2))]
    drop(tmp_path, "day.jsonl", "\n".join(lines).encode())
    events, rejected, _ = drain(source)
    assert [e.external_id.rsplit("-", 1)[1] for e in events] == ["1", "2"]
    assert rejected == []
    (reject,) = rejects_of(tmp_path, "day.jsonl")
    assert reject["line"] == "2" and "nested deeper than 64 levels" in reject["reason"]


def test_a_symlink_in_incoming_is_set_aside_without_reading_its_target(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    outside = tmp_path / "outside"
    (outside / "etc").mkdir(parents=True)
    (outside / "shadow").write_text(SECRET + "\n", encoding="utf-8")
    (outside / "etc" / "sales.csv").write_text(SECRET + "\n", encoding="utf-8")
    source, _ = pos_source(tmp_path)
    incoming = tmp_path / "drop" / "incoming"
    (incoming / "accounts.csv").symlink_to(outside / "shadow")
    (incoming / "etc").symlink_to(outside / "etc", target_is_directory=True)
    good = drop(tmp_path, "good.csv", f"{HEADER}\n{row('R1')}\n".encode())
    in_order(incoming / "accounts.csv", incoming / "etc", good)

    events, rejected, _ = drain(source)

    assert "Sup3rS3cret" not in every_file_text(tmp_path / "drop")  # no rejects quote it
    assert "Sup3rS3cret" not in caplog.text
    assert "Sup3rS3cret" not in json.dumps([(r.subject, r.error, r.payload) for r in rejected])
    assert [e.external_id for e in events] == ["msk:R1"]
    assert sorted(r.subject for r in rejected) == ["accounts.csv", "etc"]
    assert all("symbolic link" in r.error and "not read" in r.error for r in rejected)
    quarantine = tmp_path / "drop" / "quarantine"
    assert (quarantine / "accounts.csv").is_symlink() and (quarantine / "etc").is_symlink()
    assert (outside / "shadow").read_text(encoding="utf-8") == SECRET + "\n"  # left as it was


def test_a_link_planted_under_a_rejects_name_is_never_written_through(tmp_path):
    victim = tmp_path / "outside" / "victim.txt"
    victim.parent.mkdir()
    victim.write_text("keep me", encoding="utf-8")
    source, _ = pos_source(tmp_path, max_file_bytes=1024)
    planted = tmp_path / "drop" / "incoming" / "day.jsonl.rejects.csv"
    planted.symlink_to(victim)
    big = drop(tmp_path, "day.jsonl", receipts_file(1, 50))  # set aside: a rejects file beside
    in_order(planted, big)
    drain(source)
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert (tmp_path / "drop" / "quarantine" / "day.jsonl.rejects.csv").is_symlink()
    assert "day.1.jsonl.rejects.csv" in folder(tmp_path, "quarantine")


def test_a_fifo_in_incoming_is_set_aside_without_opening_it(tmp_path):
    source, _ = pos_source(tmp_path)
    incoming = tmp_path / "drop" / "incoming"
    os.mkfifo(incoming / "pipe.csv")  # opening it to read would wait for a writer forever
    events, rejected, _ = drain(source)
    assert events == []
    (letter,) = rejected
    assert letter.subject == "pipe.csv" and "a FIFO" in letter.error
    assert folder(tmp_path, "quarantine") == ["pipe.csv", "pipe.csv.rejects.csv"]


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


@pytest.mark.parametrize(
    ("text", "deeper"),
    [
        ("[[[1]]]", False),
        ("[[[[1]]]]", True),
        ('{"a": "[[[[[[[[[["}', False),  # brackets inside a string do not nest
        ('["\\\\", [[[["]', True),  # an escaped backslash ends the string
        ('["\\"[[[[[["]', False),  # an escaped quote does not
        ('["open [[[[[[', False),  # a string left open to the end
    ],
)
def test_nesting_is_measured_outside_strings(text, deeper):
    from syncd.connectors.pos.ofd_json import nested_deeper_than  # new in this change

    assert nested_deeper_than(text.encode(), 3) is deeper


@pytest.mark.parametrize(
    "failure",
    [
        MemoryError(),
        OSError(5, "Input/output error"),
        RecursionError("maximum recursion depth exceeded"),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
        ValueError("something the reader did not expect"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_whatever_a_reader_raises_sets_its_file_aside_once_and_the_next_files_go_on(
    tmp_path, monkeypatch, failure
):
    real = pos_source_module.read_csv
    calls = []

    def breaks_on_the_first_file(stream, *args, **kwargs):  # noqa: ANN001, ANN202
        calls.append(1)
        items = real(stream, *args, **kwargs)
        yield next(items)
        if len(calls) == 1:
            raise failure
        yield from items

    monkeypatch.setattr(pos_source_module, "read_csv", breaks_on_the_first_file)
    source, metrics = pos_source(tmp_path)
    body = "\n".join(row(f"R{n}") for n in (1, 2, 3))
    bad = drop(tmp_path, "bad.csv", f"{HEADER}\n{body}\n".encode())
    good = drop(tmp_path, "good.csv", f"{HEADER}\n{body.replace('R', 'G')}\n".encode())
    in_order(bad, good)

    events, rejected, cursor = drain(source)
    _, rejected_again, _ = drain(source, cursor)

    assert [e.external_id for e in events] == ["msk:R1", "msk:G1", "msk:G2", "msk:G3"]
    (letter,) = rejected
    assert rejected_again == []
    assert letter.subject == "bad.csv:2" and type(failure).__name__ in letter.error
    assert folder(tmp_path, "quarantine") == ["bad.csv", "bad.csv.rejects.csv"]
    assert folder(tmp_path, "done") == ["good.csv"]
    assert metrics.pos_files.labels("pos_msk", "quarantined")._value.get() == 1


def test_a_file_that_keeps_stopping_the_process_is_set_aside_after_three_tries(tmp_path):
    source, _ = pos_source(tmp_path)
    body = "\n".join(row(f"R{n}") for n in range(1, 8))
    drop(tmp_path, "killer.csv", f"{HEADER}\n{body}\n".encode())
    list(source.poll(None))  # first scan: the size is noted
    cursor = None
    for _ in range(3):  # each time: the read starts, and the process dies before a receipt
        polling = source.poll(cursor)
        cursor = next(polling).cursor  # committed: "reading killer.csv"
        polling.close()  # killed here
        assert folder(tmp_path, "processing") == ["killer.csv"]

    events, rejected, _ = drain(source, cursor, rounds=1)

    assert events == []
    (letter,) = rejected
    assert letter.subject == "killer.csv" and "interrupted 3 times" in letter.error
    assert folder(tmp_path, "quarantine") == ["killer.csv", "killer.csv.rejects.csv"]


def test_a_file_interrupted_while_it_progresses_is_resumed_not_set_aside(tmp_path):
    source, _ = pos_source(tmp_path)  # two receipts a batch
    body = "\n".join(row(f"R{n}") for n in range(1, 8))
    drop(tmp_path, "big.csv", f"{HEADER}\n{body}\n".encode())
    list(source.poll(None))
    cursor, stored = None, []
    for _ in range(3):  # each time one more batch is stored before the process dies
        polling = source.poll(cursor)
        for batch in polling:
            stored += batch.events
            cursor = batch.cursor
            if batch.events:
                break
        polling.close()

    events, rejected, _ = drain(source, cursor, rounds=1)

    assert rejected == []
    assert sorted({e.external_id for e in stored + events}) == [f"msk:R{n}" for n in range(1, 8)]
    assert folder(tmp_path, "done") == ["big.csv"]


def test_a_file_set_aside_just_before_a_crash_is_moved_without_a_second_dead_letter(tmp_path):
    source, _ = pos_source(tmp_path)
    drop(tmp_path, "deep.json", b"[" * 1000)
    list(source.poll(None))
    *_, stored = source.poll(None)  # the dead letter and the cursor stored; killed before the move
    assert len(stored.rejected) == 1 and folder(tmp_path, "processing") == ["deep.json"]

    events, rejected, _ = drain(source, stored.cursor, rounds=1)

    assert events == rejected == []
    assert folder(tmp_path, "processing") == []
    assert "deep.json" in folder(tmp_path, "quarantine")


def test_a_set_aside_file_moved_back_into_incoming_is_read_again(tmp_path):
    source, _ = pos_source(tmp_path, max_json_depth=8)
    nested = {**ofd(1), "extra": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {}}}}}}}}}
    drop(tmp_path, "deep.json", json.dumps([nested]).encode())
    events, rejected, _ = drain(source)
    assert events == [] and len(rejected) == 1

    source, _ = pos_source(tmp_path)  # the admin raised the limit (default 64) and re-queued it
    drop_folder = tmp_path / "drop"
    os.rename(drop_folder / "quarantine" / "deep.json", drop_folder / "incoming" / "deep.json")
    events, rejected, _ = drain(source)
    assert [e.external_id for e in events] == ["msk:9999078900001234-1"] and rejected == []
    assert folder(tmp_path, "done") == ["deep.json"]


def test_a_file_over_the_size_limit_is_set_aside_unread(tmp_path):
    source, _ = pos_source(tmp_path, max_file_bytes=1024)
    drop(tmp_path, "big.jsonl", receipts_file(1, 50))
    events, rejected, _ = drain(source)
    assert events == []
    (letter,) = rejected
    assert "over max_file_bytes (1024)" in letter.error


def test_an_archive_backfill_does_not_follow_links_and_survives_a_poison_file(tmp_path):
    from datetime import datetime

    from syncd.backfill import PosArchiveBackfill

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shadow.csv").write_text(SECRET + "\n", encoding="utf-8")
    archive = tmp_path / "archive"
    (archive / "2026").mkdir(parents=True)
    (archive / "2026" / "deep.json").write_bytes(b"[" * 100_000)
    (archive / "2026" / "day.jsonl").write_bytes(receipts_file(1, 3))
    (archive / "shadow.csv").symlink_to(outside / "shadow.csv")
    (archive / "linked").symlink_to(outside, target_is_directory=True)
    source, _ = pos_source(tmp_path)
    backfill = PosArchiveBackfill("backfill_pos_msk", archive, source, datetime(2000, 1, 1), print)

    events, rejected, cursor = drain(backfill, rounds=1)
    again, rejected_again, _ = drain(backfill, cursor, rounds=1)

    assert len(events) == 3 and again == [] and rejected_again == []
    assert sorted(r.subject.split(":")[0] for r in rejected) == [
        "2026/deep.json",
        "linked",
        "shadow.csv",
    ]
    assert "Sup3rS3cret" not in json.dumps([(r.subject, r.error, r.payload) for r in rejected])
