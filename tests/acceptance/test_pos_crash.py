"""POS files and SIGKILL: a file read when the daemon dies is neither lost nor stuck.

After a crash the file is in ``processing/`` and is read again from the first
receipt not yet stored; a file whose reading kills the daemon every time is
set aside after three tries instead of holding its folder forever.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from syncd.store import Store, dead_letters
from tests.support.daemon import ROOT, syncd, write_config
from tests.unit.test_pos import HEADER
from tests.unit.test_pos_poison import folder, row


def daemon_with_a_file_in_flight(tmp_path: Path) -> tuple[Path, str]:
    """A daemon config with one POS folder, and seven receipts in ``processing/`` — where a
    file is when the process died reading it."""
    url = f"sqlite:///{tmp_path / 'state' / 'syncd.db'}"
    (tmp_path / "state").mkdir()
    store = Store.open(url)
    store.upgrade()
    store.dispose()
    spec = {
        "name": "pos_msk",
        "kind": "pos_drop",
        "system": "pos",
        "interval_seconds": 60,
        "options": {"path": str(tmp_path / "drop"), "group": "msk", "batch_receipts": 2},
    }
    config = write_config(
        tmp_path,
        url,
        sources=[spec],
        engine={"lease_ttl_seconds": 1},  # the killed process's lease lapses at once
        extra={"mappings_dir": str(ROOT / "mappings")},
    )
    processing = tmp_path / "drop" / "processing"
    processing.mkdir(parents=True)
    body = "\n".join(row(f"R{n}") for n in range(1, 8))
    (processing / "day.csv").write_text(f"{HEADER}\n{body}\n", encoding="utf-8")
    return config, url


def stored(url: str) -> tuple[list[str], list]:
    store = Store.open(url)
    try:
        with store.read() as conn:
            ids = [r[0] for r in conn.exec_driver_sql("SELECT external_id FROM inbox")]
            letters = dead_letters.list_open(conn)
    finally:
        store.dispose()
    return ids, letters


@pytest.mark.slow
def test_sigkill_in_the_middle_of_a_file_loses_no_receipt_and_stores_none_twice(tmp_path):
    config, url = daemon_with_a_file_in_flight(tmp_path)
    # stored: "reading day.csv", then R1-R2, then R3-R4 — and the process is killed
    crashed = syncd("run", "--once", "--config", str(config), env=failpoint("after_commit:3"))
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    assert sorted(stored(url)[0]) == ["msk:R1", "msk:R2", "msk:R3", "msk:R4"]

    finished = syncd("run", "--once", "--config", str(config))

    assert finished.returncode == 0, finished.stderr[-2000:]
    ids, letters = stored(url)
    assert sorted(ids) == [f"msk:R{n}" for n in range(1, 8)] and letters == []
    assert folder(tmp_path, "done") == ["day.csv"] and folder(tmp_path, "processing") == []


@pytest.mark.slow
def test_a_file_whose_reading_kills_the_daemon_every_time_is_set_aside_not_retried_forever(
    tmp_path,
):
    config, url = daemon_with_a_file_in_flight(tmp_path)
    for _ in range(3):  # "reading day.csv" stored, then killed before the first receipts are
        crashed = syncd("run", "--once", "--config", str(config), env=failpoint("after_poll:2"))
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]

    finished = syncd("run", "--once", "--config", str(config))
    again = syncd("run", "--once", "--config", str(config))

    assert finished.returncode == again.returncode == 0, finished.stderr[-2000:]
    ids, letters = stored(url)
    assert ids == []
    (letter,) = letters
    assert letter.kind == "record" and letter.subject == "day.csv"
    assert "interrupted 3 times at receipt 1" in letter.error
    assert folder(tmp_path, "quarantine") == ["day.csv", "day.csv.rejects.csv"]


def failpoint(point: str) -> dict:
    return {"SYNCD_FAILPOINT": f"source.{point}"}
