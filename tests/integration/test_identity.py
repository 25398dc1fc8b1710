"""Identity resolution on both databases: keys, blocks, names, merges, explanations."""

from __future__ import annotations

from syncd.identity import index
from syncd.identity.keys import Record, keys_of, phone
from syncd.identity.resolver import Resolver


def resolve(store, *records: Record):  # noqa: ANN001, ANN201
    with store.begin() as conn:
        return Resolver().resolve(conn, list(records))


def test_the_four_ways_of_writing_a_russian_mobile_are_one_number():
    forms = ["8 (912) 345-67-89", "+7 912 3456789", "79123456789", "89123456789"]
    assert {phone(f) for f in forms} == {"+79123456789"}
    assert phone("12345") is None and phone("") is None


def test_the_four_phone_forms_give_one_customer(store):
    forms = ["8 (912) 345-67-89", "+7 912 3456789", "79123456789", "89123456789"]
    first = resolve(store, Record("pos:msk", "r-1", "Анна Иванова", phones=[forms[0]]))
    rest = resolve(
        store, *[Record("pos:msk", f"r-{i}", phones=[f]) for i, f in enumerate(forms[1:], 2)]
    )
    ids = {a.identity for a in first + rest}
    assert len(ids) == 1 and first[0].created and not any(a.created for a in rest)
    assert rest[0].reason == ["same phone +79123456789"]
    with store.read() as conn:
        assert index.count(conn) == 1


def test_an_unknown_phone_makes_a_new_customer_and_no_key_makes_none(store):
    known = resolve(store, Record("erp", "partner-1", "Пётр Петров", phones=["+79160000001"]))
    new, anonymous = resolve(
        store,
        Record("pos:msk", "r-9", phones=["+79160000002"]),
        Record("pos:msk", "r-10", "Без Контактов"),
    )
    assert new.created and new.identity != known[0].identity
    assert anonymous.identity is None


def test_a_card_links_the_purchase_to_the_cards_owner(store):
    (owner,) = resolve(
        store,
        Record("crm", "c-1", "Мария Смирнова", cards=["0012 3456 78"], phones=["+79161111111"]),
    )
    (purchase,) = resolve(store, Record("pos:spb", "r-1", cards=["001234-5678"]))
    assert purchase.identity == owner.identity
    assert purchase.reason == ["same card 0012345678"]


def test_two_customers_with_the_same_name_and_different_phones_stay_apart(store):
    a, b = resolve(
        store,
        Record("pos:msk", "r-1", "Иван Иванов", phones=["+79161234567"]),
        Record("pos:msk", "r-2", "Иван Иванов", phones=["+79167654321"]),
    )
    assert a.identity != b.identity and a.created and b.created


def test_keys_of_two_customers_with_the_same_name_merge_them_with_a_reason(store):
    (a,) = resolve(store, Record("erp", "p-1", "Ольга Попова", phones=["+79170000001"]))
    (b,) = resolve(store, Record("pos:msk", "r-1", "Попова Ольга", emails=["olga@example.ru"]))
    (both,) = resolve(
        store,
        Record("crm", "c-9", "Ольга Попова", phones=["+79170000001"], emails=["OLGA@example.ru"]),
    )
    assert a.identity != b.identity
    assert both.identity in (a.identity, b.identity)
    assert any(r.startswith("merged #") for r in both.reason)
    with store.read() as conn:
        told = index.explain(conn, both.identity)
        assert index.count(conn) == 1
    assert {r["id"] for r in told["records"]} == {"p-1", "r-1", "c-9"}
    assert told["keys"] == ["e:olga@example.ru", "p:+79170000001"]
    assert told["golden"]["phones"][0] == {"value": "+79170000001", "source": "erp"}


def test_keys_of_two_customers_with_other_names_do_not_merge_them(store):
    (a,) = resolve(store, Record("erp", "p-1", "Ольга Попова", phones=["+79170000001"]))
    (b,) = resolve(store, Record("pos:msk", "r-1", "Сергей Соколов", emails=["s@example.ru"]))
    (c,) = resolve(
        store, Record("crm", "c-1", "", phones=["+79170000001"], emails=["s@example.ru"])
    )
    assert c.identity == a.identity  # the phone is the stronger key
    assert any("kept apart" in r for r in c.reason)
    with store.read() as conn:
        assert index.count(conn) == 2


def test_the_stronger_key_wins_even_when_it_points_to_the_newer_customer(store):
    """A card outweighs a phone, a phone an e-mail, whoever was known first (the older
    customer winning a tie must not be what makes this hold)."""
    (by_email,) = resolve(store, Record("pos:msk", "r-1", "Сергей Соколов", emails=["s@x.ru"]))
    (by_phone,) = resolve(store, Record("erp", "p-1", "Ольга Попова", phones=["+79170000001"]))
    (by_card,) = resolve(store, Record("crm", "c-1", "Иван Петров", cards=["7788 9900"]))
    assert by_email.identity < by_phone.identity < by_card.identity  # known in this order
    (phone_over_email,) = resolve(
        store, Record("pos:spb", "r-2", "", phones=["+79170000001"], emails=["s@x.ru"])
    )
    assert phone_over_email.identity == by_phone.identity
    (card_over_phone,) = resolve(
        store, Record("pos:spb", "r-3", "", cards=["77889900"], phones=["+79170000001"])
    )
    assert card_over_phone.identity == by_card.identity
    with store.read() as conn:
        assert index.count(conn) == 3  # other names: nobody merged


def test_resolving_the_same_record_again_changes_nothing(store):
    record = Record("pos:msk", "r-1", "Анна", phones=["+79123456789"])
    first = resolve(store, record)
    again = resolve(store, record)
    assert first[0].identity == again[0].identity and not again[0].created
    with store.read() as conn:
        assert index.count(conn) == 1
        told = index.explain(conn, first[0].identity)
    assert len(told["records"]) == 1


def test_two_receipts_of_a_new_person_in_one_batch_make_one_customer(store):
    a, b = resolve(
        store,
        Record("pos:msk", "r-1", phones=["89001112233"]),
        Record("pos:msk", "r-2", phones=["+7 900 111-22-33"]),
    )
    assert a.identity == b.identity and a.created and not b.created


def test_emails_and_cards_are_normalised():
    keys = keys_of(Record("x", "1", emails=[" Anna@Example.RU "], cards=["ab-12 34"]))
    assert keys == ["c:AB1234", "e:anna@example.ru"]


def test_a_fuller_name_renames_the_customer_and_a_record_seen_again_keeps_its_why(store):
    (receipt,) = resolve(store, Record("pos:msk", "r-1", "Анна", phones=["89123456789"]))
    (partner,) = resolve(
        store, Record("erp", "p-1", "Иванова Анна Сергеевна", phones=["+7 912 345-67-89"])
    )
    assert partner.identity == receipt.identity
    (again,) = resolve(store, Record("pos:msk", "r-1", "Анна", phones=["89123456789"]))
    assert again.identity == receipt.identity
    with store.read() as conn:
        told = index.explain(conn, receipt.identity)
    assert told["golden"]["name"] == {"value": "Иванова Анна Сергеевна", "source": "erp"}
    why = {r["id"]: r["why"] for r in told["records"]}
    assert why["r-1"] == ["new: no known card, phone or e-mail"]  # how it joined, kept
    assert why["p-1"] == ["same phone +79123456789"]


def test_a_repeat_receipt_is_matched_but_only_a_receipt_that_changes_the_customer_is_kept(store):
    def receipt(number: str, **keys: list[str]) -> Record:
        return Record("pos:msk", number, receipt=True, **keys)

    (first,) = resolve(store, receipt("r-1", phones=["+79123456789"]))
    (repeat,) = resolve(store, receipt("r-2", phones=["89123456789"]))
    (new_mail,) = resolve(store, receipt("r-3", phones=["89123456789"], emails=["a@b.ru"]))
    (by_mail,) = resolve(store, receipt("r-4", emails=["A@B.RU"]))
    assert first.created and not repeat.created
    assert first.identity == repeat.identity == new_mail.identity == by_mail.identity
    assert repeat.reason == ["same phone +79123456789"]
    with store.read() as conn:
        told = index.explain(conn, first.identity)
    # r-1 made the customer, r-3 brought the e-mail; r-2 and r-4 only matched
    assert {r["id"] for r in told["records"]} == {"r-1", "r-3"}
    assert told["golden"]["emails"] == [{"value": "a@b.ru", "source": "pos:msk"}]
    (again,) = resolve(store, receipt("r-2", phones=["89123456789"]))
    assert again.identity == first.identity and not again.created  # a replay: the same answer
