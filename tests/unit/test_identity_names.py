"""Russian and Latin personal names compared the right way (pure; speed: bench/names.py).

Each rule with Cyrillic and Latin examples: ё = е, transliteration variants,
gendered surnames, non-inflecting surnames, double surnames, diminutives,
patronymics, initials, missing values and swapped given name / surname.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncd.identity.given_names import GENDER, near_roots, roots_of
from syncd.identity.names import (
    CLOSE_AT,
    Gender,
    Level,
    NameKey,
    compare_given,
    compare_patronymic,
    compare_surname,
    given_name_root,
    given_part,
    names_swapped,
    normalise,
    surname_gender,
    surname_stem,
    transliterate,
)

# --- normalise: one spelling in its own script ------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  АЛЁНА ", "алена"),  # case, ё
        ("Алёна", "алена"),
        ("Римский – Корсаков", "римский-корсаков"),  # any dash, spaces around it
        ("Римский--Корсаков", "римский-корсаков"),
        ("-Иванов-", "иванов"),
        ("O'Brien", "obrien"),  # apostrophes go
        ("Д’Артаньян", "дартаньян"),
        ("Иванов  И.И.", "иванов и и"),  # punctuation is a space, one space
        ("Анна\tМария", "анна мария"),
        ("Иван2", "иван"),  # digits go
        ("IVANOV", "ivanov"),  # Latin stays Latin
        ("Müller", "müller"),
        ("ИВAНОВ", "иванов"),  # a Latin A typed in a Cyrillic word
        ("Ivanоv", "ivanov"),  # a Cyrillic о typed in a Latin word
        (None, ""),
        ("  -  ", ""),
    ],
)
def test_normalise_folds_case_yo_dashes_and_stray_letters_but_keeps_the_script(raw, normalised):
    assert normalise(raw) == normalised


def test_a_word_mixing_scripts_beyond_look_alikes_is_left_as_written():
    assert normalise("Жuk") == "жuk"  # u has no Cyrillic twin: not guessed


# --- transliterate: one canonical Latin form -------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["Юлия Щербакова", "Yulia Shcherbakova", "Iuliia Shcherbakova", "Yuliya Scherbakova",
     "Julija Ščerbakova", "Julia Shherbakova", "ЮЛИЯ ЩЕРБАКОВА", "Юлья Щербакова"],
)  # fmt: skip
def test_the_ways_of_writing_one_name_have_one_canonical_form(spelling):
    assert transliterate(spelling) == "iulia shcherbakova"


@pytest.mark.parametrize(
    "spellings",
    [
        ("Михаил", "Mikhail", "Mihail"),  # kh / h
        ("Цветков", "Tsvetkov", "Tcvetkov", "Tzvetkov"),  # ts / tc / tz
        ("Татьяна", "Tatyana", "Tatiana", "Tatjana"),  # ya / ia / ja, ь
        ("Дмитрий", "Dmitry", "Dmitriy", "Dmitrii", "Dmitrij"),  # й as y / i / j
        ("Алексей", "Aleksey", "Alexei", "Alexej"),  # x / ks
        ("Елена", "Yelena", "Jelena", "Elena"),  # ye / je / e
        ("Сергеев", "Sergeyev", "Sergeev"),
        ("Пётр", "Петр", "Pyotr", "Petr", "Pjotr"),  # ё: yo / jo / e
        ("Фёдор", "Fyodor", "Fedor"),
        ("Иванов", "Iwanow"),  # w / v
        ("Кирилл", "Kirill", "Kiril"),  # doubled letters
        ("Людмила", "Lyudmila", "Ludmila"),  # yu / u after a consonant
        ("Илья", "Ilya", "Il'ya", "Ilja"),
        ("Наталья", "Наталия", "Natalya", "Nataliya", "Natalia"),
        ("Валерьевна", "Валериевна", "Valeryevna", "Valerievna"),
        ("Ксения", "Kseniya", "Xenia"),
        ("Хрущёв", "Khrushchev", "Hrushchev"),
        ("Жуков", "Zhukov", "Žukov"),
        ("Чайковский", "Chaikovsky", "Tchaikovsky", "Čajkovskij"),
    ],
)
def test_common_transliteration_variants_fold_to_one_spelling(spellings):
    assert len({transliterate(s) for s in spellings}) == 1, [transliterate(s) for s in spellings]


def test_different_names_keep_different_canonical_forms():
    names = ["Иван", "Иванов", "Ирина", "Инна", "Анна", "Алла", "Марина", "Мария", "Шура", "Щукин",
             "Жуков", "Зуев", "Чернов", "Цыганов", "Шевченко", "Сергей", "Сергеев"]  # fmt: skip
    assert len({transliterate(n) for n in names}) == len(names)


# --- surnames: stem and gender ----------------------------------------------------------


@pytest.mark.parametrize(
    ("surnames", "stem"),
    [
        (("Иванов", "Иванова", "Ivanov", "Ivanova"), "ivanov"),
        (("Сергеев", "Сергеева", "Sergeyeva"), "sergev"),
        (("Петровский", "Петровская", "Petrovsky", "Petrovskiy", "Petrovskaya", "Petrovskaja"),
         "petrovsk"),
        (("Сорокин", "Сорокина", "Sorokina"), "sorokin"),
        (("Ильин", "Ильина"), "ilin"),
        (("Толстой", "Толстая", "Tolstoy", "Tolstaya", "Tolstaia"), "tolst"),
        (("Высоцкий", "Высоцкая", "Vysotskaya"), "visotsk"),
        (("Римский-Корсаков", "Римская-Корсакова"), "rimsk-korsakov"),
    ],
)  # fmt: skip
def test_gendered_forms_of_a_surname_share_a_stem(surnames, stem):
    assert {surname_stem(s) for s in surnames} == {stem}


@pytest.mark.parametrize(
    ("surname", "gender"),
    [("Иванов", Gender.MALE), ("Иванова", Gender.FEMALE), ("Ivanova", Gender.FEMALE),
     ("Толстой", Gender.MALE), ("Tolstaya", Gender.FEMALE), ("Петровский", Gender.MALE),
     ("Римская-Корсакова", Gender.FEMALE), ("Шевченко", Gender.UNKNOWN), ("Гёте", Gender.UNKNOWN),
     ("Ли", Gender.UNKNOWN), ("Цой", Gender.UNKNOWN), ("Черных", Gender.UNKNOWN),
     ("Дюма", Gender.UNKNOWN), ("Церетели", Gender.UNKNOWN), ("", Gender.UNKNOWN)],
)  # fmt: skip
def test_the_ending_says_the_gender_and_a_surname_that_does_not_inflect_has_none(surname, gender):
    assert surname_gender(surname) is gender


@pytest.mark.parametrize("surname", ["Шевченко", "Гёте", "Ли", "Цой", "Черных", "Дюма"])
def test_a_surname_that_does_not_inflect_is_its_own_stem(surname):
    assert surname_stem(surname) == transliterate(surname)


# --- given names: diminutives and variants to their full name -------------------------

DIMINUTIVES = {
    "Лена": "Елена", "Дима": "Дмитрий", "Катя": "Екатерина", "Наташа": "Наталья",
    "Таня": "Татьяна", "Серёжа": "Сергей", "Миша": "Михаил", "Коля": "Николай",
    "Вова": "Владимир", "Володя": "Владимир", "Лёша": "Алексей", "Алёша": "Алексей",
    "Настя": "Анастасия", "Маша": "Мария", "Юля": "Юлия", "Оля": "Ольга", "Ира": "Ирина",
    "Света": "Светлана", "Андрюша": "Андрей", "Ваня": "Иван", "Петя": "Пётр", "Паша": "Павел",
    "Костя": "Константин", "Митя": "Дмитрий", "Аня": "Анна", "Даша": "Дарья", "Лиза": "Елизавета",
    "Ксюша": "Ксения", "Надя": "Надежда", "Люба": "Любовь", "Гриша": "Григорий", "Федя": "Фёдор",
    "Юра": "Юрий", "Боря": "Борис", "Гена": "Геннадий", "Толя": "Анатолий", "Стас": "Станислав",
    "Вика": "Виктория", "Рита": "Маргарита", "Соня": "София", "Лера": "Валерия", "Тоня": "Антонина",
    # Latin spellings of the same
    "Sasha": "Александр", "Lyosha": "Алексей", "Seryozha": "Сергей", "Natasha": "Наталья",
    "Katya": "Екатерина", "Dima": "Дмитрий", "Alexander": "Александр", "Eugene": "Евгений",
    "Helen": "Елена", "Catherine": "Екатерина", "Michael": "Михаил", "Peter": "Пётр",
    # affectionate forms not listed: the ending comes off
    "Сашенька": "Александр", "Леночка": "Елена", "Танечка": "Татьяна", "Димка": "Дмитрий",
    "Ванюшка": "Иван", "Максимка": "Максим",
    # spelling variants
    "Наталия": "Наталья", "Юлья": "Юлия", "Алена": "Алёна", "Софья": "София", "Марья": "Мария",
}  # fmt: skip


@pytest.mark.parametrize(("form", "full"), sorted(DIMINUTIVES.items()))
def test_a_diminutive_or_variant_has_the_full_name_as_root(form, full):
    assert transliterate(full) in given_name_root(form)
    assert compare_given(form, full) <= Level.SAME_ROOT  # Алена / Алёна: EXACT


@pytest.mark.parametrize(
    ("form", "roots"),
    [("Саша", {"Александр", "Александра"}), ("Шура", {"Александр", "Александра"}),
     ("Женя", {"Евгений", "Евгения"}), ("Zhenya", {"Евгений", "Евгения"}),
     ("Валя", {"Валентин", "Валентина"}), ("Наташа", {"Наталья"}), ("Наталия", {"Наталья"})],
)  # fmt: skip
def test_a_diminutive_of_names_of_both_genders_gives_both(form, roots):
    assert given_name_root(form) == {transliterate(r) for r in roots}


def test_the_table_holds_the_common_names_of_both_genders():
    assert len(GENDER) >= 80
    assert sum(g == "m" for g in GENDER.values()) >= 40
    assert sum(g == "f" for g in GENDER.values()) >= 40
    assert given_part("Саша").gender is Gender.UNKNOWN  # both
    assert given_part("Катя").gender is Gender.FEMALE
    assert given_part("Dima").gender is Gender.MALE


def test_a_name_not_in_the_table_is_its_own_root_and_no_name_has_none():
    assert given_name_root("Джон") == {"dzhon"}
    assert given_name_root("Zbigniew") == {"zbignev"}
    assert given_name_root("") == frozenset()
    assert roots_of("Лука") == {"luka"}  # a listed name ending in -ка keeps it
    assert roots_of("Ирка") == {"irina"}


def test_a_name_not_listed_finds_the_listed_forms_one_typo_away():
    assert near_roots(normalise("свта")) == {"svetlana"}  # Света, a letter dropped
    assert near_roots(normalise("ivamn")) == {"ivan"}  # a letter typed in
    assert near_roots(normalise("евгени")) == {"evgeni", "evgenia"}  # both, as Женя
    assert near_roots(normalise("катиа")) == {"ekaterina"}  # Катя, a letter changed
    assert near_roots(normalise("зорро")) == frozenset()
    assert near_roots(normalise("ян")) == frozenset()  # too short to guess from
    assert given_part("Светлана").near == frozenset()  # listed: its own roots only


def test_a_double_given_name_has_the_roots_of_its_parts():
    assert given_name_root("Анна-Мария") == {"ana", "maria"}
    assert compare_given("Анна-Мария", "Маша") is Level.SAME_ROOT


# --- compare_given ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("Анна", "анна", Level.EXACT),
        ("Алёна", "Алена", Level.EXACT),  # ё = е
        ("Юлия", "Yulia", Level.SAME_ROOT),  # transliteration
        ("Юлия", "Iuliia", Level.SAME_ROOT),
        ("Yulia", "Julija", Level.SAME_ROOT),
        ("Наталья", "Наталия", Level.SAME_ROOT),  # variant
        ("Саша", "Шура", Level.SAME_ROOT),  # two diminutives of one name
        ("Саша", "Александра", Level.SAME_ROOT),
        ("Sasha", "Александр", Level.SAME_ROOT),
        ("Женя", "Евгения", Level.SAME_ROOT),
        ("Michail", "Михаил", Level.SAME_ROOT),
        ("Ольга", "Ольгв", Level.CLOSE),  # one typo in a short name
        ("Светлана", "Светална", Level.CLOSE),  # a transposition
        ("Радомир", "Родамир", Level.CLOSE),  # not in the table: Jaro-Winkler
        ("Свта", "Светлана", Level.CLOSE),  # a diminutive (Света) with a typo
        ("Ivamn", "Ваня", Level.CLOSE),  # Ivan with a typo, and a diminutive
        ("Анена", "Анна", Level.CLOSE),  # one letter typed in: doubled letters count for typos
        ("Еена", "Elena", Level.CLOSE),
        ("Свта", "Ольга", Level.DIFFERENT),  # a typo of another name
        ("Зорро", "Анна", Level.DIFFERENT),
        ("Анна", "А.", Level.INITIAL),
        ("Yulia", "Ю.", Level.INITIAL),
        ("Анна", "Б", Level.DIFFERENT),
        ("Александр", "Александра", Level.DIFFERENT),  # two known names: however alike
        ("Евгений", "Евгения", Level.DIFFERENT),
        ("Мария", "Марина", Level.DIFFERENT),
        ("Саша", "Алексей", Level.DIFFERENT),
        ("Иван", "Пётр", Level.DIFFERENT),
        ("", "Анна", Level.MISSING),
        ("Анна", None, Level.MISSING),
        ("...", "Анна", Level.MISSING),  # nothing left once normalised
    ],
)
def test_compare_given(a, b, level):
    assert compare_given(a, b) is level
    assert compare_given(b, a) is level


def test_the_close_threshold_is_a_parameter():
    assert compare_given("Радомир", "Родамир") is Level.CLOSE  # Jaro-Winkler 0.957, two edits
    assert compare_given("Радомир", "Родамир", close=0.96) is Level.DIFFERENT
    assert compare_given("Радомир", "Радамер") is Level.DIFFERENT  # 0.867
    assert compare_given("Радомир", "Радамер", close=0.85) is Level.CLOSE
    assert compare_given("Радомир", "Радомер", close=0.99) is Level.CLOSE  # one edit, whatever
    assert NameKey.of("Радомир").compare(NameKey.of("Родамир"), close=0.96)[0] is Level.DIFFERENT


# --- compare_surname --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("Иванов", "ИВАНОВ", Level.EXACT),
        ("Королёв", "Королев", Level.EXACT),
        ("Щербакова", "Shcherbakova", Level.SAME_ROOT),
        ("Щербакова", "Scherbakova", Level.SAME_ROOT),
        ("Шевченко", "Shevchenko", Level.SAME_ROOT),
        ("Иванов", "Иванова", Level.SAME_STEM_OTHER_GENDER),
        ("Иванова", "Ivanov", Level.SAME_STEM_OTHER_GENDER),
        ("Петровский", "Petrovskaya", Level.SAME_STEM_OTHER_GENDER),
        ("Сорокин", "Сорокина", Level.SAME_STEM_OTHER_GENDER),
        ("Толстой", "Толстая", Level.SAME_STEM_OTHER_GENDER),
        ("Tolstoy", "Tolstaia", Level.SAME_STEM_OTHER_GENDER),
        ("Белый", "Белая", Level.SAME_STEM_OTHER_GENDER),
        ("Крайний", "Крайняя", Level.SAME_STEM_OTHER_GENDER),
        ("Иванова", "Ивонов", Level.SAME_STEM_OTHER_GENDER),  # other gender, and a typo
        ("Иванов", "Ивонов", Level.CLOSE),
        ("Кузнецова", "Кузнецво", Level.CLOSE),
        ("Шевченко", "Шевченка", Level.CLOSE),  # does not inflect: a typo, not a gender
        ("Римский-Корсаков", "Римский Корсаков", Level.SAME_ROOT),  # hyphen or space
        ("Rimsky-Korsakov", "Римский-Корсаков", Level.SAME_ROOT),
        ("Водкина-Петрова", "Петрова-Водкина", Level.SAME_ROOT),  # parts in another order
        ("Римский-Корсаков", "Римская-Корсакова", Level.SAME_STEM_OTHER_GENDER),
        ("Петрова-Водкина", "Петрова", Level.CLOSE),  # a double surname and one of its parts
        ("Петрова-Водкина", "Петров", Level.SAME_STEM_OTHER_GENDER),
        ("Иванов", "Петров", Level.DIFFERENT),
        ("Иванова", "Петров", Level.DIFFERENT),
        ("Ли", "Лин", Level.DIFFERENT),
        ("Гёте", "Гете", Level.EXACT),
        ("Иванов", "", Level.MISSING),
    ],
)
def test_compare_surname(a, b, level):
    assert compare_surname(a, b) is level
    assert compare_surname(b, a) is level


# --- compare_patronymic -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("Иванович", "иванович", Level.EXACT),
        ("Фёдорович", "Федорович", Level.EXACT),
        ("Иванович", "Ivanovich", Level.SAME_ROOT),
        ("Сергеевич", "Sergeyevich", Level.SAME_ROOT),
        ("Валерьевна", "Валериевна", Level.SAME_ROOT),
        ("Иванович", "Иваныч", Level.SAME_ROOT),  # colloquial
        ("Иванович", "Ивановна", Level.SAME_STEM_OTHER_GENDER),
        ("Ильич", "Ильинична", Level.SAME_STEM_OTHER_GENDER),
        ("Никитич", "Никитична", Level.SAME_STEM_OTHER_GENDER),
        ("Александрович", "Алексадрович", Level.CLOSE),
        ("Пцвловна", "Павловна", Level.CLOSE),  # one letter in Cyrillic, two in Latin (ц: ts)
        ("Петрович", "П.", Level.INITIAL),
        ("Петрович", "Павлович", Level.DIFFERENT),
        ("Петрович", "И.", Level.DIFFERENT),
        ("", "Петрович", Level.MISSING),
    ],
)
def test_compare_patronymic(a, b, level):
    assert compare_patronymic(a, b) is level
    assert compare_patronymic(b, a) is level


# --- levels, keys, swaps ----------------------------------------------------------------


def test_levels_run_from_best_to_worst_with_stable_values():
    assert [(level.name, level.value) for level in Level] == [
        ("EXACT", 0), ("SAME_ROOT", 1), ("CLOSE", 2), ("INITIAL", 3),
        ("SAME_STEM_OTHER_GENDER", 4), ("DIFFERENT", 5), ("MISSING", 6),
    ]  # fmt: skip
    assert Level.SAME_ROOT < Level.CLOSE  # "at least close": level <= Level.CLOSE
    assert CLOSE_AT == 0.92


def test_a_key_compares_as_the_functions_do():
    a = NameKey.of("Саша", "Иванова", "Петровна")
    b = NameKey.of("Alexander", "Ivanov", "Petrovich")
    assert a.compare(b) == (
        Level.SAME_ROOT, Level.SAME_STEM_OTHER_GENDER, Level.SAME_STEM_OTHER_GENDER
    )  # fmt: skip
    assert a.compare(NameKey.of("Александра", "Иванова")) == (
        Level.SAME_ROOT, Level.EXACT, Level.MISSING
    )  # fmt: skip
    assert compare_given(a.given, b.given) is Level.SAME_ROOT  # a prepared part is accepted
    assert NameKey.of("Саша", "Иванова") == NameKey.of("саша ", "ИВАНОВА")


@pytest.mark.parametrize(
    ("a", "b", "swapped"),
    [
        (("Иван", "Петров"), ("Петров", "Иван"), True),
        (("Иванов", "Иван"), ("Ivan", "Ivanov"), True),  # and another script
        (("Петров", "Саша"), ("Александр", "Петров"), True),  # and a diminutive
        (("Иван", "Петров"), ("Петрова", "Ивн"), True),  # and a typo
        (("Иван", "Петров"), ("Иван", "Петров"), False),  # as written
        (("Иван", "Иванов"), ("Ivan", "Ivanov"), False),
        (("Иван", "Петров"), ("Пётр", "Сидоров"), False),  # another person
        (("Иван", "Петров"), ("Петров", ""), False),  # a half is missing
        (("Иван", "Иван"), ("Иван", "Иван"), False),
    ],
)
def test_names_swapped(a, b, swapped):
    assert names_swapped(*a, *b) is swapped
    assert NameKey.of(*a).swapped(NameKey.of(*b)) is swapped


NAMES = st.sampled_from(
    ["Саша", "Александр", "Александра", "Yulia", "Юлия", "Иванов", "Иванова", "Ivanov",
     "Толстой", "Tolstaya", "Петрова-Водкина", "Петров", "Иванович", "Ивановна", "А.", "",
     "Шевченко", "Белый", "Белая", "Женя", "Евгений", "Олга", "Ольга"]
)  # fmt: skip
TEXT = st.text(alphabet="абвежийклоуцчщъыьэюяabcehijkosuxyz -'.", max_size=12)


@given(a=NAMES | TEXT, b=NAMES | TEXT)
def test_every_comparison_is_symmetric_and_a_name_is_exact_to_itself(a, b):
    for compare in (compare_given, compare_surname, compare_patronymic):
        assert compare(a, b) is compare(b, a)
        assert compare(a, a) is (Level.EXACT if normalise(a) else Level.MISSING)
    assert names_swapped(a, b, a, b) is False
