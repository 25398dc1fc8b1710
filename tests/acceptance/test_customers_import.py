"""``syncd customers import | split | train`` on a store configured to match by the model."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from tests.support.daemon import ROOT, syncd, write_config

HEADER = "id,given_name,surname,patronymic,birth_date,phone,email,card,street,house,postcode,city"
ROWS = [
    "L1,Анна,Иванова,Сергеевна,1985-03-07,+79123456789,anna@example.ru,4276380012345678,"
    "ул. Ленина,12,620014,Екатеринбург",
    # the same woman: the cashier swapped two digits of her card; no phone, no e-mail
    "L2,Анна,Иванова,,07.03.1985,,,4276380012345687,,,,",
    # a namesake born elsewhere on another day, with her own card
    "L3,Анна,Иванова,Петровна,1990-11-30,,,5536910000000001,ул. Мира,3,101000,Москва",
    # nothing to match her by
    "L4,Мария,,,,,,,,,,",
    # no id: rejected; a birth date that is no date: left out, the row matched without it
    ",Игорь,Петров,,,,,,,,,",
    "L6,Игорь,Петров,,31.02.85,+79160000001,,,,,,",
    "L6,Игорь,Петров,,,+79160000001,,,,,,",  # its id again: rejected
]


def setup(tmp_path: Path) -> Path:
    mappings = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", mappings)
    text = (mappings / "customers.yaml").read_text(encoding="utf-8")
    (mappings / "customers.yaml").write_text(
        text + "\nmatching:\n  method: model\n  threshold: 0.99\n", encoding="utf-8"
    )
    return write_config(
        tmp_path, f"sqlite:///{tmp_path}/i.db", sources=[], extra={"mappings_dir": str(mappings)}
    )


def read_map(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8") as f:
        return {row["record_id"]: row["customer_id"] for row in csv.DictReader(f)}


def test_import_maps_every_record_to_its_final_customer_and_again_changes_nothing(tmp_path):
    config = setup(tmp_path)
    source = tmp_path / "cards.csv"
    source.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    out = tmp_path / "map.csv"
    done = syncd("customers", "import", str(source), "--out", str(out), "--config", str(config))
    assert done.returncode == 0, done.stderr
    first = read_map(out)
    assert list(first) == ["L1", "L2", "L3", "L4", "L6"]
    assert first["L1"] == first["L2"] and first["L3"] not in ("", first["L1"])
    assert first["L4"] == "" and first["L6"] not in ("", first["L1"], first["L3"])
    assert (
        "6 rows: " not in done.stdout and "7 records: 3 customers (3 new, 0 merges)" in done.stdout
    )
    assert "1 with nothing to match by, 2 rejected, 1 fields left out" in done.stdout
    rejects = (tmp_path / "map.rejects.csv").read_text(encoding="utf-8")
    assert "line 6: field id: empty" in rejects
    assert "line 7: record L6: field birth_date: '31.02.85' is not a date" in rejects
    assert "line 8: record L6: field id: seen before in this file" in rejects
    assert "cards.csv: line 6: field id: empty" in done.stderr

    again = syncd("customers", "import", str(source), "--out", str(out), "--config", str(config))
    assert again.returncode == 0, again.stderr
    assert read_map(out) == first and "3 customers (0 new, 0 merges)" in again.stdout

    explained = syncd("customers", "explain", first["L1"], "--config", str(config))
    told = json.loads(explained.stdout)
    why = {r["id"]: r["why"] for r in told["records"]}
    assert why["L2"][0].startswith("match ") and any(w.startswith("card +") for w in why["L2"])
    assert {g["value"] for g in told["golden"]["cards"]} == {"4276380012345678", "4276380012345687"}


def test_import_reads_json_lines_too(tmp_path):
    config = setup(tmp_path)
    source = tmp_path / "people.jsonl"
    lines = [
        {"id": "J1", "given_name": "Anna", "surname": "Ivanova", "phone": "+79123456789"},
        {"id": "J2", "name": "Иванова Анна", "phone": "8 912 345-67-89"},
    ]
    source.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    out = tmp_path / "map.csv"
    done = syncd("customers", "import", str(source), "--out", str(out), "--config", str(config))
    assert done.returncode == 0, done.stderr
    mapped = read_map(out)
    assert mapped["J1"] == mapped["J2"] != ""  # Latin and Cyrillic spellings, one phone


def test_split_moves_records_to_a_new_customer_kept_apart(tmp_path):
    config = setup(tmp_path)
    source = tmp_path / "cards.csv"
    source.write_text("\n".join([HEADER, *ROWS[:2]]) + "\n", encoding="utf-8")
    out = tmp_path / "map.csv"
    assert syncd("customers", "import", str(source), "--out", str(out),
                 "--config", str(config)).returncode == 0  # fmt: skip
    customer = read_map(out)["L1"]
    done = syncd("customers", "split", customer, "--record", "import:L2", "--config", str(config))
    assert done.returncode == 0, done.stderr
    moved = read_map(out)  # unchanged file; the store changed
    again = syncd("customers", "import", str(source), "--out", str(out), "--config", str(config))
    assert again.returncode == 0, again.stderr
    after = read_map(out)
    assert after["L1"] == moved["L1"] and after["L2"] not in (moved["L1"], "")
    # a third record that is both is not allowed to merge them again
    bridge = tmp_path / "bridge.csv"
    bridge.write_text(
        HEADER + "\nB1,Анна,Иванова,,1985-03-07,+79123456789,,4276380012345687,,,,\n",
        encoding="utf-8",
    )
    bridged = syncd("customers", "import", str(bridge), "--out", str(tmp_path / "b.csv"),
                    "--config", str(config))  # fmt: skip
    assert bridged.returncode == 0 and "0 merges" in bridged.stdout
    refused = syncd("customers", "split", customer, "--record", "import:nope",
                    "--config", str(config))  # fmt: skip
    assert refused.returncode == 1 and "not records of customer" in refused.stderr


def test_train_refuses_a_store_too_small_to_learn_from(tmp_path):
    config = setup(tmp_path)
    done = syncd("customers", "train", "--config", str(config))
    assert done.returncode == 1 and "the shipped model stays" in done.stderr
