"""Which known customer a record belongs to, decided from its keys' owners (pure)."""

from __future__ import annotations

from syncd.identity.match import NEW, decide, names_agree

PHONE, CARD, MAIL = "p:+79123456789", "c:7700:1234", "e:anna@example.ru"


def test_no_key_known_is_a_new_customer_with_the_reason_why():
    d = decide([PHONE, MAIL], "анна", hits={}, names={})
    assert (d.identity, d.merge, d.reason) == (None, [], list(NEW))
    assert decide([], "", hits={PHONE: 7}, names={}).reason == list(NEW)


def test_one_owner_is_that_customer_and_each_key_is_named():
    d = decide([PHONE, MAIL, "p:+70000000000"], "", hits={PHONE: 7, MAIL: 7}, names={})
    assert d.identity == 7 and d.merge == []
    assert d.reason == ["same phone +79123456789", "same e-mail anna@example.ru"]
    card = decide([CARD], "", hits={CARD: 3}, names={})
    assert card.reason == ["same card 7700:1234"]  # the value after the kind, whole


def test_the_stronger_keys_win_a_card_over_a_phone_over_an_e_mail():
    assert decide([CARD, PHONE], "", hits={CARD: 5, PHONE: 4}, names={}).identity == 5
    assert decide([PHONE, MAIL], "", hits={PHONE: 5, MAIL: 4}, names={}).identity == 5
    # a phone and an e-mail together (2 + 1) weigh as much as a card (3): the lower id wins
    both = decide([CARD, PHONE, MAIL], "", hits={CARD: 9, PHONE: 4, MAIL: 4}, names={})
    assert both.identity == 4
    # two keys of one customer add up: two phones (4) beat a card (3)
    two = decide([CARD, PHONE, "p:+79990000000"], "",
                 hits={CARD: 9, PHONE: 4, "p:+79990000000": 4}, names={})  # fmt: skip
    assert two.identity == 4


def test_a_record_seen_before_stays_with_its_customer_whatever_its_keys_say():
    d = decide([CARD], "", hits={CARD: 5}, names={}, bound=8)
    assert d.identity == 8 and d.reason[0] == "the same record, seen before"
    alone = decide([PHONE], "", hits={}, names={}, bound=8)
    assert alone.identity == 8 and alone.reason == ["the same record, seen before"]
    with_key = decide([PHONE], "", hits={PHONE: 8}, names={}, bound=8)
    assert with_key.reason == ["the same record, seen before", "same phone +79123456789"]


def test_another_owner_is_merged_only_when_the_names_agree():
    hits = {CARD: 5, PHONE: 6}
    same = decide([CARD, PHONE], "Анна Иванова", hits,
                  names={5: "Анна Иванова", 6: "Иванова Анна"})  # fmt: skip
    assert same.identity == 5 and same.merge == [6]
    assert same.reason[-1] == "merged #6: same phone +79123456789, and the same name"
    other = decide([CARD, PHONE], "Анна Иванова", hits,
                   names={5: "Анна Иванова", 6: "Пётр Сидоров"})  # fmt: skip
    assert other.merge == []
    assert other.reason[-1] == "#6 also has same phone +79123456789, but another name: kept apart"
    # the record's own name must agree too, when it has one
    stranger = decide([CARD, PHONE], "Пётр Сидоров", hits,
                      names={5: "Анна Иванова", 6: "Анна Иванова"})  # fmt: skip
    assert stranger.merge == []
    nameless = decide([CARD, PHONE], "", hits, names={5: "Анна Иванова", 6: "Анна Иванова"})
    assert nameless.merge == [6]


def test_names_agree_from_the_threshold_up_and_never_when_one_is_empty():
    assert names_agree("анна иванова", "иванова анна")
    assert not names_agree("", "") and not names_agree("анна", "") and not names_agree("", "анна")
    assert names_agree("анна иванова", "анна иванова", same_name=100.0)  # the bound is in
    assert not names_agree("анна иванова", "анна иванов", same_name=100.0)
    # the default threshold is 90, and a ratio of exactly 90 is in
    assert names_agree("анна петро", "анна петра")  # 2 x 9 / 20 = 90.0
    assert names_agree("анна иванова", "анна иванов")
    assert not names_agree("анна иванова", "анн иван")
    d = decide([CARD, PHONE], "", {CARD: 5, PHONE: 6}, {5: "анна иванова", 6: "анна иванов"},
               same_name=96.0)  # fmt: skip
    assert d.merge == []  # the caller's threshold is the one used


def test_a_key_nobody_has_is_passed_over_wherever_it_comes():
    d = decide(["p:+70000000000", PHONE], "", hits={PHONE: 7}, names={})
    assert d.identity == 7 and d.reason == ["same phone +79123456789"]


def test_what_another_customer_shares_is_listed_whole():
    d = decide([CARD, PHONE, MAIL], "", hits={CARD: 5, PHONE: 6, MAIL: 6}, names={})
    assert d.identity == 5  # a card (3) over a phone and an e-mail (3): the lower id
    assert d.reason[-1] == (
        "#6 also has same phone +79123456789, same e-mail anna@example.ru, "
        "but another name: kept apart"
    )


def test_the_names_are_compared_at_the_threshold_given_and_90_by_default():
    hits, names = {CARD: 5, PHONE: 6}, {5: "анна петро", 6: "анна петра"}  # ratio 90.0
    assert decide([CARD, PHONE], "", hits, names).merge == [6]
    assert decide([CARD, PHONE], "", hits, names, same_name=91.0).merge == []
    # the record's own name is held to the same threshold
    twins = {5: "иван иванова", 6: "иван иванова"}
    record = "иван иванов"  # 95.7 against them
    assert decide([CARD, PHONE], record, hits, twins, same_name=96.0).merge == []
    assert decide([CARD, PHONE], record, hits, twins, same_name=95.0).merge == [6]
