"""Russian given names: the full name behind a diminutive, a colloquial form or a variant.

Each line is a full name, then its spelling variants, diminutives and the
usual forms in other languages (Alexander, Eugene, Helen …), in either script.
Everything is looked up by its canonical Latin form (``spelling.transliterate``),
so ``Саша``, ``Sasha`` and ``Shura`` find the same roots.  A diminutive of two
names finds both (``Саша`` -> Александр and Александра, ``Слава`` -> all the
-славы): the caller compares sets of roots.  An affectionate suffix not listed
(``Сашенька``, ``Танечка``, ``Димка``) is taken off and the rest looked up.

    roots_of("Shura")   # frozenset({"aleksandr", "aleksandra"})
    roots_of("Дима")    # frozenset({"dmitri"})
    gender_of("dmitri") # "m"
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz.distance import OSA

from syncd.identity.spelling import canonical, folded, normalise, transliterate

MALE = """
Александр: Саша Шура Саня Санек Шурик Алекс Alexander Alexandre Aleksander Alex Sasha
Алексей: Алеша Леша Леха Алекс Alexis Alex
Анатолий: Толя Толик
Андрей: Андрюша Андрюха Andrew Andre Andreas
Антон: Антоша Тоша Anthony Antoine
Аркадий: Аркаша
Арсений: Арсюша Сеня
Артем: Тема Артемка Artyom
Артемий: Тема
Артур
Богдан: Бодя
Борис: Боря
Вадим: Вадик
Валентин: Валя Valentine
Валерий: Валера
Василий: Вася Basil
Виктор: Витя Витек Victor
Виталий: Виталик Витя
Владимир: Вова Володя Вован
Владислав: Влад Владик Слава
Всеволод: Сева
Вячеслав: Слава Славик
Геннадий: Гена
Георгий: Гоша Жора Гога George Georg Georges
Глеб
Григорий: Гриша Gregory Grigori
Даниил: Даня Данила Данил Daniel Danila
Денис: Дениска Denis
Дмитрий: Дима Митя Димон Dmitri Dimitri
Евгений: Женя Eugene Evgeni
Егор: Егорка Гоша
Иван: Ваня Ванюша John Johann Jean
Игорь: Игорек Гоша
Илья: Илюша Elias
Кирилл: Кирюша Киря Cyril
Константин: Костя Constantine
Лев: Лева Leo Leon
Леонид: Леня
Лука
Максим: Макс Maxime Max
Марк: Mark Marc Marcus
Матвей: Матюша Мотя Matthew Matthias
Михаил: Миша Мишаня Michael Michel Michail
Никита: Никитка
Николай: Коля Колян Nicholas Nicolas Nikolas Nicola
Олег: Олежка
Павел: Паша Павлик Paul Paolo Pablo
Петр: Петя Петруша Peter Pierre Piotr Pietro
Роман: Рома Ромка
Ростислав: Ростик Слава
Руслан
Святослав: Свят Слава
Семен: Сема Сеня Simon Semion
Сергей: Сережа Серега Serge Sergio
Станислав: Стас Слава
Степан: Степа Stephen Stefan Steven
Тимофей: Тима Тимоша Timothy
Тимур: Тима
Федор: Федя Theodore Fedor Feodor
Филипп: Филя Philip Philippe
Эдуард: Эдик Edward
Юрий: Юра Юрик Yuri Iouri
Яков: Яша Jacob Jakob Jacques
Ярослав: Ярик Слава
Ян
"""

FEMALE = """
Александра: Саша Шура Саня Аля Alexandra Alexandrina Sasha
Алена: Аленка
Алина: Аля
Алиса
Алла: Аля
Анастасия: Настя Стася Ася Anastasia
Ангелина: Геля Angelina
Анна: Аня Анюта Нюра Нюша Ann Anne Anna Annie
Антонина: Тоня
Арина: Ариша
Валентина: Валя Valentina
Валерия: Лера Valeria Valerie
Варвара: Варя Barbara
Василиса: Вася
Вера: Верочка
Вероника: Ника Veronica Veronique
Виктория: Вика Victoria
Галина: Галя
Дарья: Даша Дария Daria Dasha
Диана
Ева: Eve Eva
Евгения: Женя Eugenia
Екатерина: Катя Катерина Катюша Catherine Katherine Kate Katharina Caterina
Елена: Лена Helen Helena Helene Elena
Елизавета: Лиза Лизавета Elizabeth Elisabeth Elisabetta
Жанна: Jeanne
Зинаида: Зина
Зоя
Инна
Ирина: Ира Иришка Irene Irina
Карина
Кира
Клавдия: Клава
Кристина: Christina Christine Kristina
Ксения: Ксюша Аксинья Xenia
Лариса: Лара
Лидия: Лида Lydia
Любовь: Люба
Людмила: Люда Мила Ludmila
Маргарита: Рита Margaret Marguerite
Марина: Marina
Мария: Маша Маня Марья Mary Marie Maria
Милана: Мила
Надежда: Надя
Наталья: Наташа Ната Natalie Nathalie Natasha
Нина
Оксана
Ольга: Оля Olga
Полина: Поля Pauline Paulina
Раиса: Рая
Светлана: Света
София: Соня Софья Sophia Sophie Sofia
Таисия: Тася
Тамара: Тома
Татьяна: Таня Tatiana
Ульяна: Уля
Юлия: Юля Юлья Julia Julie Juliette
Яна
"""

_LINE = re.compile(r"^(?P<full>[^:\n]+?)(?::(?P<forms>.*))?$", re.MULTILINE)
# affectionate endings a listed form may carry, and what it ends in without them
_PET = re.compile(r"(?:ochka|echka|enka|onka|iushka|ushka|ka)$")


def _table() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]], dict[str, str]]:
    """Canonical form -> roots; canonical and as-typed (``folded``) forms -> roots; genders."""
    roots: dict[str, set[str]] = {}
    typed: dict[str, set[str]] = {}
    gender: dict[str, str] = {}
    for block, sex in ((MALE, "m"), (FEMALE, "f")):
        for line in _LINE.finditer(block.strip()):
            root = transliterate(line["full"])
            gender[root] = sex
            for form in [line["full"], *(line["forms"] or "").split()]:
                roots.setdefault(transliterate(form), set()).add(root)
                for spelt in (transliterate(form), folded(normalise(form))):
                    typed.setdefault(spelt, set()).add(root)
    freeze = lambda table: {form: frozenset(found) for form, found in table.items()}  # noqa: E731
    return freeze(roots), freeze(typed), gender


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


ROOTS, TYPED, GENDER = _table()
NONE: frozenset[str] = frozenset()
# every listed form and each form with one letter deleted -> the forms: a typo in O(length)
NEAR: dict[str, set[str]] = {}
for _form in TYPED:
    for _key in {_form, *_deletions(_form)}:
        NEAR.setdefault(_key, set()).add(_form)
NEAR_FROM = 4  # letters: a shorter unknown name is too near too many listed ones


def roots_of(name: object) -> frozenset[str]:
    """The full names (canonical Latin) a given name is a form of; empty when not known.

    Looked up whole, then without an affectionate ending (``Сашенька`` ->
    ``Саша``), then part by part (``Анна-Мария`` -> Анна and Мария).
    """
    return roots_of_canonical(transliterate(name))


@lru_cache(maxsize=4096)
def roots_of_canonical(latin: str) -> frozenset[str]:
    """``roots_of`` a name already in its canonical form (``spelling.canonical``)."""
    if found := ROOTS.get(latin):
        return found
    if (pet := _PET.search(latin)) and len(latin) - len(pet.group(0)) >= 2:
        base = latin[: pet.start()]
        for ending in ("a", "ia", ""):
            if found := ROOTS.get(base + ending):
                return found
    parts = latin.replace("-", " ").split()
    if len(parts) > 1:
        return frozenset().union(*(ROOTS.get(p, NONE) for p in parts))
    return NONE


@lru_cache(maxsize=4096)
def near_roots(normalised: str) -> frozenset[str]:
    """The roots of the listed forms one typo from a name not listed (``spelling.normalise``d).

    ``Свта`` (Света, a letter dropped) -> {svetlana}; ``Ivamn`` -> {ivan}.  The
    name as typed and in its canonical form are each looked up in the deletion
    neighbourhood, and each candidate checked: one edit or transposition.
    """
    found: set[str] = set()
    for spelt in {folded(normalised), canonical(normalised)}:
        if len(spelt) < NEAR_FROM:
            continue
        forms = set().union(*(NEAR.get(key, ()) for key in {spelt, *_deletions(spelt)}))
        for form in forms:
            if OSA.distance(spelt, form, score_cutoff=1) <= 1:
                found |= TYPED[form]
    return frozenset(found) if found else NONE


def gender_of(root: str) -> str:
    """``"m"`` or ``"f"`` for a full name's canonical form, ``""`` when not known."""
    return GENDER.get(root, "")
