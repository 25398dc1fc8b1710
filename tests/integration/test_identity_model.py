"""Matching by the model, on both databases: typos, no identifier, vetoes, merges, replays."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from syncd.identity import index, model_index
from syncd.identity.keys import Record
from syncd.identity.model_resolver import ModelResolver
from syncd.store.schema import identities, identity_blocks, identity_records


def resolve(store, *records: Record, resolver: ModelResolver | None = None):  # noqa: ANN001, ANN201
    with store.begin() as conn:
        return (resolver or ModelResolver()).resolve(conn, list(records))


ANNA = dict(
    surname="Иванова", given="Анна", patronymic="Сергеевна", birth_date="1985-03-07",
    street="ул. Ленина", house="12", postcode="620014", city="Екатеринбург",
)  # fmt: skip


def test_a_card_mistyped_by_one_digit_joins_the_same_person(store):
    (first,) = resolve(store, Record("crm", "c-1", cards=["4276380012345678"], **ANNA))
    (typo,) = resolve(store, Record("pos:msk", "r-1", cards=["4276380012345687"], **ANNA))
    assert first.created and not typo.created and typo.identity == first.identity
    assert typo.reason[0].startswith("match ") and any(r.startswith("card ") for r in typo.reason)


def test_a_shared_card_with_everything_else_different_is_two_people(store):
    (anna,) = resolve(store, Record("crm", "c-1", cards=["4276380012345678"], **ANNA))
    other = dict(surname="Петров", given="Игорь", birth_date="1960-11-30", street="ул. Мира",
                 house="3", postcode="101000", city="Москва")  # fmt: skip
    (igor,) = resolve(store, Record("pos:msk", "r-1", cards=["4276380012345678"], **other))
    assert igor.created and igor.identity != anna.identity


def test_no_identifier_but_name_birth_date_and_address_finds_the_customer(store):
    (anna,) = resolve(store, Record("crm", "c-1", phones=["+79123456789"], **ANNA))
    (again,) = resolve(store, Record("erp", "p-1", "Иванова Анна Сергеевна", **{
        k: v for k, v in ANNA.items() if k not in ("surname", "given", "patronymic")}))  # fmt: skip
    assert again.identity == anna.identity and not again.created


def test_nothing_to_match_by_is_nobody(store):
    (a,) = resolve(store, Record("pos:msk", "r-1", "Анна"))
    assert a.identity is None and a.reason == ["nothing identifies the person"]


def test_a_record_seen_again_is_the_same_customer_and_writes_nothing_new(store):
    record = Record("crm", "c-1", cards=["4276380012345678"], **ANNA)
    (first,) = resolve(store, record)
    with store.read() as conn:
        blocks = conn.execute(select(identity_blocks)).all()
    (again,) = resolve(store, record)
    assert again.identity == first.identity and not again.created
    with store.read() as conn:
        assert conn.execute(select(identity_blocks)).all() == blocks
        assert index.count(conn) == 1


def test_a_record_that_is_two_customers_merges_them_and_the_merge_is_explained(store):
    # made apart under a stricter threshold (name + street + house: p 0.99998), then a
    # record with the phone of one and the card of the other comes under the default
    strict = ModelResolver(threshold=0.99999)
    (by_phone,) = resolve(store, Record("crm", "c-1", phones=["+79123456789"], **ANNA),
                          resolver=strict)  # fmt: skip
    (by_card,) = resolve(store, Record("pos:msk", "r-1", cards=["4276380012345678"],
                                       surname="Иванова", given="Анна", street="ул. Ленина",
                                       house="12"), resolver=strict)  # fmt: skip
    assert by_card.identity != by_phone.identity
    (both,) = resolve(store, Record("erp", "p-1", phones=["+79123456789"],
                                    cards=["4276380012345678"], **ANNA))  # fmt: skip
    assert any(r.startswith("merged customer") for r in both.reason)
    with store.read() as conn:
        owners = {r.source_id: r.identity_id for r in conn.execute(select(identity_records))}
        folded = dict(conn.execute(select(identities.c.id, identities.c.merged_into)).all())
        assert len(set(owners.values())) == 1 and index.count(conn) == 1
        assert sum(1 for v in folded.values() if v) == 1
        keys = model_index.owners(conn, ["c:4276380012345678", "p:+79123456789"])
    assert set(keys["c:4276380012345678"]) == set(keys["p:+79123456789"]) == {both.identity}


def test_customers_kept_apart_are_not_merged_by_a_bridging_record(store):
    (by_phone,) = resolve(store, Record("crm", "c-1", phones=["+79123456789"], **ANNA))
    (by_card,) = resolve(store, Record("pos:msk", "r-1", cards=["4276380012345678"],
                                       surname="Иванова", given="Анна"))  # fmt: skip
    with store.begin() as conn:
        model_index.keep_apart(conn, by_phone.identity, by_card.identity)
    resolve(store, Record("erp", "p-1", phones=["+79123456789"],
                          cards=["4276380012345678"], **ANNA))  # fmt: skip
    with store.read() as conn:
        assert index.count(conn) == 2


def test_two_receipts_of_a_new_person_in_one_batch_make_one_customer(store):
    a, b = resolve(
        store,
        Record("pos:msk", "r-1", cards=["4276380012345678"], **ANNA, receipt=True),
        Record("pos:msk", "r-2", cards=["4276380012345678"], **ANNA, receipt=True),
    )
    assert a.identity == b.identity and a.created and not b.created
    with store.read() as conn:  # the repeat brought nothing new: not kept
        assert [r.source_id for r in conn.execute(select(identity_records))] == ["r-1"]


def test_a_key_shared_by_too_many_is_full_and_finds_nobody(store):
    from syncd.identity.linker import BLOCK_LIMIT

    shared = "+79000000000"  # a shop's own number, typed in for customers with none
    given = ["Anna", "Boris", "Clara", "Denis", "Elena", "Fedor", "Galina", "Hector"]
    family = ["Smirnov", "Kuznetsov", "Popov", "Vasiliev"]
    for i in range(BLOCK_LIMIT + 2):  # people who share nothing but the number
        name = f"{given[i % 8]}{'ina' * (i // 8)}"
        resolve(store, Record("pos:msk", f"r-{i}", phones=[shared], given=name,
                              surname=family[i // 8], street=f"улица {i}", house=str(i),
                              birth_date=f"19{50 + i}-0{1 + i % 9}-1{i % 10}"))  # fmt: skip
    with store.read() as conn:
        owners = model_index.owners(conn, [f"p:{shared}"])[f"p:{shared}"]
    assert len(owners) == BLOCK_LIMIT + 1 and model_index.FULL in owners


def test_the_reason_kept_is_json_with_each_fields_weight(store):
    resolve(store, Record("crm", "c-1", cards=["4276380012345678"], **ANNA))
    resolve(store, Record("pos:msk", "r-1", cards=["4276380012345687"], **ANNA))
    with store.read() as conn:
        why = {r.source_id: json.loads(r.reason) for r in conn.execute(select(identity_records))}
    assert why["c-1"] == ["new: no likely match"]
    assert why["r-1"][0].startswith("match 1.000000") and "birth_date +" in " ".join(why["r-1"])


BORIS = dict(surname="Смирнов", given="Борис", birth_date="1970-05-01", street="ул. Мира",
             house="3", postcode="101000", city="Москва")  # fmt: skip


def test_receipts_with_nothing_in_common_do_not_keep_each_other_from_the_customer(store):
    # a receipt with the e-mail joins Anna, and one with her phone and card though it
    # gives another e-mail; a third, with her phone alone, is hers too: the e-mail
    # receipt compares with nothing of it (no field in common), and the other e-mail is
    # a receipt's (nothing on it tells people apart)
    (anna,) = resolve(store, Record("crm", "c-1", phones=["+79123456789"],
                                    emails=["anna@example.ru"], cards=["4276380012345678"],
                                    **ANNA))  # fmt: skip
    seen = resolve(
        store,
        Record("pos:msk", "r-1", emails=["ANNA@example.ru"], receipt=True),
        Record(
            "pos:msk",
            "r-2",
            phones=["+79123456789"],
            cards=["4276380012345678"],
            emails=["new@mail.ru"],
        ),
        Record("pos:msk", "r-3", phones=["8 912 345-67-89"], receipt=True),
    )
    assert [a.identity for a in seen] == [anna.identity] * 3


def test_a_card_a_keystroke_from_two_peoples_cards_is_neither_s(store):
    # two Anna Ivanovas (another birth date, another town) with cards a keystroke apart
    other_anna = {**ANNA, "birth_date": "1991-08-30", "city": "Москва", "postcode": "101000",
                  "street": "ул. Мира", "house": "3"}  # fmt: skip
    resolve(store, Record("crm", "c-1", cards=["7773569246"], **ANNA),
            Record("crm", "c-2", cards=["7773560264"], **other_anna))  # fmt: skip
    name = {"surname": "Иванова", "given": "Анна"}
    # 7773560246: one digit changed of the first card, two digits swapped of the second
    (torn,) = resolve(store, Record("pos:msk", "r-1", cards=["7773560246"], **name))
    assert torn.created
    # a keystroke from one card only, with her name: that customer's
    (near,) = resolve(store, Record("pos:msk", "r-2", cards=["7773596246"], **name))
    assert not near.created and near.reason[0].startswith("match ")
    # the same mistyped card alone is nobody's: at a million cards one typo in two is a
    # keystroke from a stranger's card too
    (alone,) = resolve(store, Record("pos:msk", "r-3", cards=["1773569246"], receipt=True))
    assert alone.created


def test_a_phone_two_customers_hold_goes_to_the_one_known_longest(store):
    older, younger = resolve(
        store,
        Record("crm", "c-1", phones=["+79123456789"], **ANNA),
        Record("crm", "c-2", phones=["+79123456789"], **BORIS),
    )
    assert older.identity < younger.identity and younger.created
    (receipt,) = resolve(store, Record("pos:msk", "r-1", phones=["+79123456789"], receipt=True))
    assert receipt.identity == older.identity


def test_a_receipt_looked_up_by_its_identifiers_alone_answers_as_the_full_look_up(store):
    # the quick path (exact keys, one holder) and the full one (near keys too) agree:
    # the same customer, the same explanation, and nothing written for a bare receipt
    resolve(store, Record("crm", "c-1", phones=["+79123456789"], cards=["4276380012345678"],
                          **ANNA))  # fmt: skip
    receipt = Record("pos:msk", "r-1", cards=["4276380012345678"], receipt=True)
    with store.read() as conn:
        blocks = conn.execute(select(identity_blocks)).all()
    (quick,) = resolve(store, receipt)
    with store.read() as conn:
        assert conn.execute(select(identity_blocks)).all() == blocks
    # the same receipt with a name is looked up in full
    (full,) = resolve(store, Record("pos:msk", "r-2", cards=["4276380012345678"], receipt=True,
                                    surname="Иванова"))  # fmt: skip
    assert quick.identity == full.identity
    assert quick.reason[0].startswith("match ") and full.reason[0].startswith("match ")


class _Rollback(Exception):
    pass


def _answers(store, records: list[Record], resolver: ModelResolver) -> list[tuple]:  # noqa: ANN001
    """What the resolver answers for these records, the store left as it was."""
    try:
        with store.begin() as conn:
            raise _Rollback([(a.identity, a.created, a.reason) for a in
                             resolver.resolve(conn, records)])  # fmt: skip
    except _Rollback as answered:
        return answered.args[0]


@pytest.mark.parametrize("threshold", [0.99, 1 - 1e-12])
def test_a_receipt_with_one_identifier_is_decided_as_by_its_customers_records(store, threshold):
    # a receipt with one card, phone or e-mail that one customer holds is decided by that
    # identifier's weight alone, without reading the customer's records: the same
    # customer and the same explanation as comparing it with each of them — or, above
    # what one identifier can weigh, a new customer either way
    resolve(store, Record("crm", "c-1", phones=["+79123456789", "+79001112233"],
                          cards=["4276380012345678"], emails=["anna@mail.ru"], **ANNA),
            Record("crm", "c-2", phones=["+79161234567"], emails=["boris@mail.ru"], **BORIS),
            Record("pos:msk", "r-0", phones=["+79001112233"], cards=["7700000001"]))  # fmt: skip
    receipts = [
        Record("pos:msk", "r-1", cards=["4276380012345678"], receipt=True),
        Record("pos:msk", "r-2", phones=["8 (900) 111-22-33"], receipt=True),
        Record("pos:msk", "r-3", emails=["BORIS@mail.ru"], receipt=True),
        Record("pos:msk", "r-4", cards=["7700000001"], receipt=True),
        Record("pos:msk", "r-5", phones=["+79161234567"], emails=["new@mail.ru"], receipt=True),
        Record("crm", "c-3", phones=["+79161234567"]),
    ]
    alone = ModelResolver(threshold=threshold)
    full = ModelResolver(threshold=threshold)
    full.decide_alone = False
    by_records = _answers(store, receipts, full)
    assert _answers(store, receipts, alone) == by_records
    if threshold == 0.99:
        assert [created for _, created, _ in by_records[:4]] == [False] * 4
    else:
        assert all(created for _, created, _ in by_records)


def test_a_record_seen_again_as_it_was_is_answered_and_one_that_says_more_brings_it(store):
    record = Record("crm", "c-1", cards=["4276380012345678"], **ANNA)
    (first,) = resolve(store, record)
    (again,) = resolve(store, record)
    assert again.identity == first.identity and again.reason == ["seen before"]
    # the same record now with a phone: still hers, and the phone finds her from then on
    more = Record("crm", "c-1", cards=["4276380012345678"], phones=["+79123456789"], **ANNA)
    (updated,) = resolve(store, more)
    assert updated.identity == first.identity and not updated.created
    (by_phone,) = resolve(store, Record("pos:msk", "r-1", phones=["+79123456789"], receipt=True))
    assert by_phone.identity == first.identity
    with store.read() as conn:
        said = conn.execute(
            select(identity_records.c.person).where(identity_records.c.source_id == "c-1")
        ).scalar_one()
    assert "+79123456789" in said
