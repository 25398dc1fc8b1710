"""The synthetic identity population (bench/identity_data.py) and its pairwise scorer.

Small populations, pure: the same seed gives the same rows, duplicates come
0–3 a person, every kind of noise appears and does what its tag says, the
Russian variant's people differ as Russian names do, and the scorer's figures
on hand-made clusterings are the ones worked out by hand.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from datetime import date

import pytest

from bench.identity_data import (
    COLUMNS,
    DUPLICATE_WEIGHTS,
    OUTPUT_COLUMNS,
    main,
    population,
    read_map,
    read_truth,
    score,
    write_csv,
)
from bench.identity_noise import phone_text, typo
from bench.identity_vocab import DIMINUTIVES_RU, feminine, latin, patronymic


def _people(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    people = defaultdict(list)
    for row in rows:
        people[row["person_id"]].append(row)
    return people


@pytest.fixture(scope="module")
def russian() -> list[dict[str, str]]:
    return list(population(6000, "russian", seed=3))


@pytest.fixture(scope="module")
def latin_rows() -> list[dict[str, str]]:
    return list(population(6000, "latin", seed=3))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _national(phone: str) -> str:
    digits = _digits(phone)
    return digits[1:] if len(digits) == 11 and digits[0] in "78" else digits


def test_the_same_seed_gives_the_same_rows_and_another_seed_others() -> None:
    first = list(population(500, "russian", seed=11))
    assert first == list(population(500, "russian", seed=11))
    assert first != list(population(500, "russian", seed=12))
    assert len(first) == 500
    assert [r["id"] for r in first] == [f"r{i}" for i in range(1, 501)]
    assert all(tuple(r) == OUTPUT_COLUMNS for r in first)


def test_rows_are_made_as_they_are_read() -> None:
    rows = population(10**9, "latin", seed=1, window=100)  # never made whole
    taken = [next(rows) for _ in range(300)]
    assert len({r["id"] for r in taken}) == 300


def test_each_person_has_an_original_and_zero_to_three_duplicates(latin_rows) -> None:  # noqa: ANN001
    people = _people(latin_rows)
    sizes = Counter(len(records) for records in people.values())
    assert set(sizes) <= {1, 2, 3, 4}
    for records in people.values():
        assert sum(1 for r in records if not r["noise"]) >= 1  # the original (dups may look alike)
    # the shares follow DUPLICATE_WEIGHTS (0.40, 0.33, 0.16, 0.11) within sampling error
    total = sum(sizes.values())
    for k, weight in enumerate(DUPLICATE_WEIGHTS):
        assert abs(sizes[k + 1] / total - weight) < 0.04, (k, sizes)


def test_a_persons_duplicates_are_not_next_to_each_other(latin_rows) -> None:  # noqa: ANN001
    position = {r["id"]: i for i, r in enumerate(latin_rows)}
    gaps = [
        abs(position[a["id"]] - position[b["id"]])
        for records in _people(latin_rows).values()
        for a, b in zip(records, records[1:], strict=False)
    ]
    assert sum(gaps) / len(gaps) > 50


@pytest.mark.parametrize(
    "tag",
    [
        "typo.insert",
        "typo.delete",
        "typo.substitute",
        "typo.transpose",
        "missing",
        "swap_names",
        "replace:phone",
        "replace:email",
        "replace:card",
        "replace:address",
        "phone_format",
        "street_form",
    ],
)
def test_each_kind_of_noise_appears_in_both_variants(russian, latin_rows, tag) -> None:  # noqa: ANN001
    for rows in (russian, latin_rows):
        assert any(t.startswith(tag) for r in rows for t in r["noise"].split(";")), tag


def test_typos_reach_names_streets_phones_and_cards(russian) -> None:  # noqa: ANN001
    hit = {t.split(":")[1] for r in russian for t in r["noise"].split(";") if t.startswith("typo")}
    assert {"given_name", "surname", "street", "phone", "card"} <= hit


def _edits(a: str, b: str) -> str | None:
    """Which single edit turns a into b, if one does (a transposed capital is lower-cased)."""
    a, b = a.lower(), b.lower()
    if len(b) == len(a) + 1 and any(b[:i] + b[i + 1 :] == a for i in range(len(b))):
        return "insert"
    if len(b) == len(a) - 1 and any(a[:i] + a[i + 1 :] == b for i in range(len(a))):
        return "delete"
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return "substitute"
        if len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]:
            return "transpose"
    return None


def test_a_phone_or_card_typo_is_the_one_edit_its_tag_names(russian, latin_rows) -> None:  # noqa: ANN001
    checked = Counter()
    for rows in (russian, latin_rows):
        for records in _people(rows).values():
            original = records[0] if not records[0]["noise"] else None
            original = original or next((r for r in records if not r["noise"]), None)
            for r in records:
                tags = r["noise"].split(";")
                for field in ("card", "phone"):
                    mine = [t for t in tags if t.endswith(":" + field)]
                    if original is None or len(mine) != 1 or not mine[0].startswith("typo"):
                        continue
                    kind = mine[0].split(".")[1].split(":")[0]
                    if field == "phone":  # a mistyped number's prefix (+7, 8) is ambiguous
                        was, digits = _national(original[field]), _digits(r[field])
                        written = {digits, digits[1:]} if digits[0] in "78" else {digits}
                    else:
                        was, written = original[field], {r[field]}
                    assert kind in {_edits(was, now) for now in written}, (was, written, mine)
                    checked[field, kind] += 1
    assert {k for _, k in checked} == {"insert", "delete", "substitute", "transpose"}


def test_phones_are_written_in_several_ways_of_one_number() -> None:
    written = {phone_text("9123456789", style) for style in range(8)}
    assert len(written) == 8
    assert {_national(w) for w in written} == {"9123456789"}
    assert "8 (912) 345-67-89" in written and "+7 912 345-67-89" in written


def test_typo_kinds_do_what_they_say() -> None:
    rnd = random.Random(1)
    for kind in ("insert", "delete", "substitute", "transpose"):
        for text in ("Александр", "4612345678901", "smith"):
            assert _edits(text, typo(text, kind, rnd, digits=text.isdigit())) == kind


def test_russian_people_have_patronymics_phones_cards_and_towns(russian) -> None:  # noqa: ANN001
    originals = [rs[0] for rs in _people(russian).values() if not rs[0]["noise"]]
    assert sum(1 for r in originals if r["patronymic"]) / len(originals) > 0.6
    phones = [_national(r["phone"]) for r in originals if r["phone"]]
    assert all(len(p) == 10 and p[0] == "9" for p in phones)
    assert all(13 <= len(r["card"]) <= 16 for r in originals if r["card"])
    assert all(re.fullmatch(r"\d{6}", r["postcode"]) for r in originals if r["postcode"])
    assert Counter(r["city"] for r in originals).most_common(1)[0][0] == "Москва"


def test_gendered_surnames_name_different_people(russian) -> None:  # noqa: ANN001
    """Иванов's wife or daughter, Иванова, is a person of her own."""
    relatives = [rs for rs in _people(russian).values() if rs[0]["relation"]]
    by_id = _people(russian)
    gendered = 0
    for records in relatives:
        kind, _, anchor = records[0]["relation"].split()
        base = next(r for r in by_id[anchor] if not r["noise"])
        mine = next((r for r in records if not r["noise"]), None)
        if mine is None or kind not in ("spouse", "child", "twin"):
            continue
        assert mine["person_id"] != base["person_id"]
        assert mine["street"] == base["street"] and mine["house"] == base["house"]
        if mine["surname"] != base["surname"]:
            a, b = mine["surname"], base["surname"]
            assert feminine(a) == b or feminine(b) == a, (a, b)
            gendered += 1
    assert gendered >= 10


def test_hard_negatives_twins_and_shared_phones(russian, latin_rows) -> None:  # noqa: ANN001
    for rows in (russian, latin_rows):
        people = _people(rows)
        twins = shared = 0
        for records in people.values():
            relation = records[0]["relation"]
            if not relation:
                continue
            kind, _, anchor = relation.split()
            mine = next(r for r in records if not r["noise"])
            base = next(r for r in people[anchor] if not r["noise"])
            if kind == "twin" and base["birth_date"]:
                assert mine["birth_date"] == base["birth_date"]
                assert mine["given_name"] != base["given_name"]
                twins += 1
            if mine["phone"] and _national(mine["phone"]) == _national(base["phone"]):
                shared += 1
        assert twins >= 3 and shared >= 10


def test_russian_duplicates_are_transliterated_shortened_and_lose_yo(russian) -> None:  # noqa: ANN001
    seen = Counter()
    for records in _people(russian).values():
        original = next((r for r in records if not r["noise"]), None)
        if original is None:
            continue
        for r in records:
            tags = r["noise"].split(";")
            if "translit" in tags and not any(
                t.endswith(":given_name") or t in ("swap_names", "diminutive") for t in tags
            ):
                assert r["given_name"].isascii()
                assert r["given_name"] in {latin(original["given_name"], s) for s in range(3)}
                seen["translit"] += 1
            if tags == ["diminutive"] or tags == ["diminutive", "phone_format"]:
                assert r["given_name"] in DIMINUTIVES_RU[original["given_name"]]
                seen["diminutive"] += 1
            if "yo_e" in tags and len(tags) == 1:
                changed = [f for f in COLUMNS[1:] if r[f] != original[f]]
                assert changed and all(
                    original[f].replace("ё", "е").replace("Ё", "Е") == r[f] for f in changed
                )
                seen["yo_e"] += 1
    assert seen["translit"] >= 20 and seen["diminutive"] >= 20 and seen["yo_e"] >= 1


def test_names_and_streets_are_zipf_like(latin_rows) -> None:  # noqa: ANN001
    surnames = Counter(r["surname"] for r in latin_rows if not r["noise"])
    top, total = surnames.most_common(1)[0][1], sum(surnames.values())
    assert 0.005 < top / total < 0.05  # a common name is common, not everyone
    assert sum(1 for n in surnames.values() if n == 1) > 100  # and a long tail of rare ones


def test_russian_words() -> None:
    assert feminine("Иванов") == "Иванова" and feminine("Вишневский") == "Вишневская"
    assert feminine("Толстой") == "Толстая" and feminine("Шевченко") == "Шевченко"
    assert patronymic("Илья", female=True) == "Ильинична"
    assert patronymic("Александр", female=False) == "Александрович"
    assert patronymic("Сергей", female=True) == "Сергеевна"
    assert {latin("Юлия", s) for s in range(3)} == {"Iuliia", "Yuliya"}
    assert latin("Дмитрий", 1) == "Dmitry" and latin("Щукин", 2) == "Schukin"


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="variant"):
        next(population(10, "klingon"))


# -- the scorer ----------------------------------------------------------------------------
TRUTH = {"a": "p1", "b": "p1", "c": "p1", "d": "p2", "e": "p2", "f": "p3"}  # 3 + 1 true pairs


def test_a_perfect_clustering() -> None:
    s = score(TRUTH, {"a": "1", "b": "1", "c": "1", "d": "2", "e": "2", "f": "3"})
    assert (s.true_pairs, s.found_pairs, s.correct_pairs) == (4, 4, 4)
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)


def test_everything_merged() -> None:
    s = score(TRUTH, dict.fromkeys(TRUTH, "1"))
    assert (s.true_pairs, s.found_pairs, s.correct_pairs) == (4, 15, 4)
    assert s.precision == pytest.approx(4 / 15) and s.recall == 1.0
    assert s.f1 == pytest.approx(2 * (4 / 15) / (4 / 15 + 1))


def test_everything_split() -> None:
    s = score(TRUTH, {k: k for k in TRUTH})
    assert (s.true_pairs, s.found_pairs, s.correct_pairs) == (4, 0, 0)
    assert (s.precision, s.recall, s.f1) == (1.0, 0.0, 0.0)
    assert s.customers == 6 and s.persons == 3


def test_one_wrong_merge() -> None:
    """f (p3) folded into p2's customer: 2 wrong pairs (d-f, e-f) among 6 found."""
    s = score(TRUTH, {"a": "1", "b": "1", "c": "1", "d": "2", "e": "2", "f": "2"})
    assert (s.true_pairs, s.found_pairs, s.correct_pairs) == (4, 6, 4)
    assert s.precision == pytest.approx(4 / 6) and s.recall == 1.0
    assert s.f1 == pytest.approx(0.8)


def test_a_missed_duplicate_and_records_the_map_does_not_have() -> None:
    s = score(TRUTH, {"a": "1", "b": "1", "d": "2", "e": "2", "f": "3", "zz": "9"})
    assert (s.true_pairs, s.found_pairs, s.correct_pairs) == (4, 2, 2)
    assert (s.unmapped, s.unknown) == (1, 1)  # c alone; zz not in the truth
    assert s.recall == 0.5 and s.precision == 1.0


def test_the_scorer_counts_pairs_as_listing_them_would() -> None:
    rnd = random.Random(4)
    truth = {str(i): f"p{rnd.randrange(40)}" for i in range(300)}
    clusters = {str(i): str(rnd.randrange(60)) for i in range(300)}
    ids = sorted(truth)
    pairs = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]]
    true = {p for p in pairs if truth[p[0]] == truth[p[1]]}
    found = {p for p in pairs if clusters[p[0]] == clusters[p[1]]}
    s = score(truth, clusters)
    assert (s.true_pairs, s.found_pairs, s.correct_pairs) == (
        len(true),
        len(found),
        len(true & found),
    )


def test_generate_then_score_from_the_command_line(tmp_path, capsys) -> None:  # noqa: ANN001
    pop = tmp_path / "pop.csv"
    assert main(["generate", "--records", "400", "--variant", "russian", "--out", str(pop)]) == 0
    truth = read_truth(pop)
    assert len(truth) == 400
    people = Counter(truth.values())
    mapping = tmp_path / "map.csv"
    perfect = ({"record_id": r, "customer_id": f"c{p}"} for r, p in truth.items())
    write_csv(perfect, mapping, ("record_id", "customer_id"))
    assert read_map(mapping) == {r: f"c{p}" for r, p in truth.items()}
    capsys.readouterr()
    assert main(["score", "--truth", str(pop), "--map", str(mapping)]) == 0
    out = capsys.readouterr().out
    true_pairs = sum(n * (n - 1) // 2 for n in people.values())
    assert f"true pairs {true_pairs:,}  found pairs {true_pairs:,}" in out
    assert "precision 1.0000  recall 1.0000  F1 1.0000" in out


def test_a_map_without_its_columns_is_refused_by_name(tmp_path) -> None:  # noqa: ANN001
    bad = tmp_path / "map.csv"
    bad.write_text("record,customer\nr1,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"map\.csv: no column record_id, customer_id"):
        read_map(bad)
    bad.write_text("record_id,customer_id\nr1,1\n,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"map\.csv:3: empty"):
        read_map(bad)


def test_a_record_no_customer_was_found_for_is_its_own(tmp_path) -> None:  # noqa: ANN001
    # customers import writes an empty customer for a record with nothing to match by
    mapping = tmp_path / "map.csv"
    mapping.write_text("record_id,customer_id\nr1,1\nr2,\nr3,\nr4,1\n", encoding="utf-8")
    got = read_map(mapping)
    assert got["r1"] == got["r4"] == "1" and len({got["r2"], got["r3"], "1"}) == 3


def test_birth_dates_are_dates(latin_rows) -> None:  # noqa: ANN001
    for r in latin_rows:
        if r["birth_date"]:
            date.fromisoformat(r["birth_date"])
