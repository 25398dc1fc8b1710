"""How two people's names agree, field by field: a ``Level`` for given name, surname, patronymic.

Names are compared on their canonical Latin form (``spelling.transliterate``),
so Cyrillic and Latin spellings of one name meet, and ``ё`` is ``е``.  Each
comparison gives a ``Level``, best first (an ``IntEnum``: a lower value is
stronger agreement; ``MISSING`` last, as it says nothing either way):

- ``EXACT``: the same once normalised (case, ``ё``, spaces and dashes);
- ``SAME_ROOT``: the same name written another way — a transliteration
  (Юлия / Yulia / Iuliia), a variant (Наталья / Наталия), a diminutive or
  colloquial form (Саша / Александр), a colloquial patronymic (Иваныч /
  Иванович), a double surname's parts in another order;
- ``CLOSE``: a typo — Jaro-Winkler on the canonical forms at least ``close``
  (0.92 by default), or one edit or transposition in 4 letters or more; or a
  double surname and one of its parts;
- ``INITIAL``: one side an initial (``А.``) the other begins with;
- ``SAME_STEM_OTHER_GENDER``: Иванов / Иванова, Толстой / Толстая, Иванович /
  Ивановна — one family's name in the other gender; not a mismatch by itself
  (spouses, siblings: the caller decides with the other fields);
- ``DIFFERENT``; two known given names of different roots are different
  however alike they look (Александр / Александра, Мария / Марина);
- ``MISSING``: either side empty.

For speed, a record's names are prepared once (``NameKey.of``, every step
cached) and keys are compared (``NameKey.compare``): a comparison is then a
few attribute looks and at most one Jaro-Winkler.

    compare_given("Саша", "Alexander")      # Level.SAME_ROOT
    compare_surname("Иванова", "Ivanov")    # Level.SAME_STEM_OTHER_GENDER
    names_swapped("Иванов", "Иван", "Ivan", "Ivanov")  # True
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from functools import lru_cache

from rapidfuzz.distance import OSA, JaroWinkler

from syncd.identity.given_names import NONE, gender_of, near_roots, roots_of_canonical
from syncd.identity.spelling import canonical, normalise, transliterate

__all__ = [
    "CLOSE_AT",
    "Gender",
    "Level",
    "NameKey",
    "Part",
    "compare_given",
    "compare_patronymic",
    "compare_surname",
    "given_name_root",
    "names_swapped",
    "normalise",
    "surname_gender",
    "surname_stem",
    "transliterate",
]

CLOSE_AT = 0.92  # Jaro-Winkler on the canonical forms from which two spellings are a typo apart
EDIT_FROM = 4  # canonical letters from which one edit (or transposition) is a typo, not a name


class Level(IntEnum):
    """How far two names agree, best first; a Fellegi-Sunter comparison level (stable values)."""

    EXACT = 0
    SAME_ROOT = 1
    CLOSE = 2
    INITIAL = 3
    SAME_STEM_OTHER_GENDER = 4
    DIFFERENT = 5
    MISSING = 6


class Gender(StrEnum):
    MALE = "m"
    FEMALE = "f"
    UNKNOWN = ""  # falsy: a surname that does not inflect, a name not in the table


# (ending of the canonical form, gender, letters cut off for the stem), longest first
SURNAME_ENDINGS = (
    ("iaia", Gender.FEMALE, 4),  # Крайняя
    ("aia", Gender.FEMALE, 3),  # Петровская, Толстая, Горькая
    ("ova", Gender.FEMALE, 1),
    ("eva", Gender.FEMALE, 1),
    ("ina", Gender.FEMALE, 1),  # Сорокина, Ильина (-ына too: ы is i)
    ("oi", Gender.MALE, 2),  # Толстой, Донской
    ("ki", Gender.MALE, 1),  # Петровский, Высоцкий, Горький
    ("gi", Gender.MALE, 1),  # Долгий
    ("hi", Gender.MALE, 1),  # Тихий
    ("ov", Gender.MALE, 0),
    ("ev", Gender.MALE, 0),
    ("in", Gender.MALE, 0),
)
PATRONYMIC_ENDINGS = (
    ("inichna", Gender.FEMALE, 7),  # Ильинична, Кузьминична (Ильич, Кузьмич)
    ("ovich", Gender.MALE, 5),
    ("evich", Gender.MALE, 5),
    ("ichna", Gender.FEMALE, 5),  # Никитична, Саввична
    ("ovna", Gender.FEMALE, 4),
    ("evna", Gender.FEMALE, 4),
    ("ich", Gender.MALE, 3),  # Ильич, Никитич, and the colloquial Иваныч
)


def _inflection(word: str, endings: tuple, shortest: int) -> tuple[str, Gender]:
    for ending, gender, cut in endings:
        if word.endswith(ending) and len(word) - len(ending) >= 2 and len(word) - cut >= shortest:
            return word[: len(word) - cut], gender
    return word, Gender.UNKNOWN


def _inflected(latin: str, endings: tuple, shortest: int) -> tuple[str, Gender]:
    """Stem and gender of each part of a (double) name; one gender when the parts agree."""
    stems, genders = [], set()
    for word in latin.split("-"):
        stem, gender = _inflection(word, endings, shortest)
        stems.append(stem)
        genders.add(gender)
    genders.discard(Gender.UNKNOWN)
    return "-".join(stems), (genders.pop() if len(genders) == 1 else Gender.UNKNOWN)


@dataclass(frozen=True, slots=True)
class Part:
    """One name field prepared for comparison (made by ``given_part``/``surname_part``/…)."""

    text: str  # normalise()
    latin: str  # transliterate(); a double name's parts joined by "-"
    roots: frozenset[str]  # the full given names it is a form of (any field: for swaps)
    stem: str  # a surname or patronymic without its gendered ending; else == latin
    gender: Gender
    initial: bool  # a single letter (А., J)
    stems: frozenset[str] = frozenset()  # a double surname's parts' stems (two or more)
    near: frozenset[str] = frozenset()  # a given name not listed: the roots one typo away
    cyrillic: bool = False  # written in Cyrillic: a typo is measured on the letters typed


def _latin(text: str) -> str:
    if " " not in text and "-" not in text:
        return canonical(text)
    return "-".join(canonical(w) for w in text.replace(" ", "-").split("-"))


@lru_cache(maxsize=4096)
def given_part(name: object) -> Part:
    text = normalise(name)
    latin = canonical(text)
    roots = roots_of_canonical(latin)
    genders = {gender_of(r) for r in roots}
    gender = Gender(genders.pop()) if len(genders) == 1 else Gender.UNKNOWN
    near = NONE if roots else near_roots(text)
    return Part(text, latin, roots, latin, gender, len(text) == 1, NONE, near, _in_cyrillic(text))


def _in_cyrillic(text: str) -> bool:
    return any("\u0400" <= c <= "\u04ff" for c in text)


@lru_cache(maxsize=4096)
def surname_part(surname: object) -> Part:
    text = normalise(surname)
    latin = _latin(text)
    stem, gender = _inflected(latin, SURNAME_ENDINGS, 3)
    stems = frozenset(stem.split("-")) if "-" in stem else NONE
    roots = roots_of_canonical(latin)
    return Part(text, latin, roots, stem, gender, len(text) == 1, stems, NONE, _in_cyrillic(text))


@lru_cache(maxsize=4096)
def patronymic_part(patronymic: object) -> Part:
    text = normalise(patronymic)
    latin = canonical(text)
    stem, gender = _inflected(latin, PATRONYMIC_ENDINGS, 2)
    return Part(text, latin, NONE, stem, gender, len(text) == 1, NONE, NONE, _in_cyrillic(text))


def surname_stem(surname: object) -> str:
    """Иванов, Иванова, Ivanova -> ``"ivanov"``; Толстой, Tolstaya -> ``"tolst"``.

    A surname that does not inflect (Шевченко, Гёте, Ли) is its own stem.
    """
    return surname_part(surname).stem


def surname_gender(surname: object) -> Gender:
    """The gender a surname's ending says (Иванова: FEMALE); UNKNOWN for Шевченко, Гёте, Ли."""
    return surname_part(surname).gender


def given_name_root(name: object) -> frozenset[str]:
    """The full names a given name is a form of, canonical Latin: Саша -> {aleksandr, aleksandra}.

    A name not in the table is its own root (``{"dzhon"}`` for Джон); empty for no name.
    """
    part = given_part(name)
    return part.roots or (frozenset({part.latin}) if part.latin else NONE)


def _alike(a: str, b: str, close: float) -> bool:
    """A typo apart: Jaro-Winkler >= ``close``, or (4 letters or more) one edit or transposition.

    Jaro-Winkler alone lets a short name's one typo through too rarely (Ольга /
    Ольгв: 0.88); one edit on 4 letters or more catches what it misses.
    """
    if JaroWinkler.similarity(a, b, score_cutoff=close):
        return True
    if abs(len(a) - len(b)) > 1 or min(len(a), len(b)) < EDIT_FROM:
        return False
    return OSA.distance(a, b, score_cutoff=1) <= 1


def _typo(a: Part, b: Part, close: float) -> bool:
    """A typo apart, on the canonical forms or, in one script, on the letters as typed.

    Пцвловна / Павловна is one letter in Cyrillic, two in Latin (ц: ts).
    """
    if _alike(a.latin, b.latin, close):
        return True
    return a.cyrillic == b.cyrillic and _alike(a.text, b.text, close)


def _plain(a: Part, b: Part) -> Level | None:
    """The levels every field shares: missing, exact, initials, one spelling."""
    if not a.text or not b.text:
        return Level.MISSING
    if a.text == b.text:
        return Level.EXACT
    if a.initial or b.initial:
        same = a.text[0] == b.text[0] or a.latin[:1] == b.latin[:1]
        return Level.INITIAL if same else Level.DIFFERENT
    if a.latin == b.latin:
        return Level.SAME_ROOT
    return None


def _given(a: Part, b: Part, close: float) -> Level:
    if (level := _plain(a, b)) is not None:
        return level
    if a.roots & b.roots:
        return Level.SAME_ROOT
    if a.roots and b.roots:  # two names of the table, of different roots
        return Level.DIFFERENT
    if (a.roots or a.near) & (b.roots or b.near):  # a typo in a form of the same name: Свта
        return Level.CLOSE
    return Level.CLOSE if _typo(a, b, close) else Level.DIFFERENT


def _inflecting(a: Part, b: Part, close: float) -> Level:
    """Surnames and patronymics: the plain levels, then stems and genders."""
    if (level := _plain(a, b)) is not None:
        return level
    other_gender = bool(a.gender and b.gender and a.gender != b.gender)
    if a.stem == b.stem:
        return Level.SAME_STEM_OTHER_GENDER if other_gender else Level.SAME_ROOT
    if a.stems or b.stems:  # a double surname: its parts in another order, or one of them
        stems_a, stems_b = a.stems or {a.stem}, b.stems or {b.stem}
        if stems_a <= stems_b or stems_b <= stems_a:
            if other_gender:
                return Level.SAME_STEM_OTHER_GENDER
            return Level.SAME_ROOT if stems_a == stems_b else Level.CLOSE
    if other_gender:
        alike = _alike(a.stem, b.stem, close)
        return Level.SAME_STEM_OTHER_GENDER if alike else Level.DIFFERENT
    if _adjective_pair(a, b) or _adjective_pair(b, a):
        return Level.SAME_STEM_OTHER_GENDER
    return Level.CLOSE if _typo(a, b, close) else Level.DIFFERENT


def _adjective_pair(feminine: Part, other: Part) -> bool:
    """Белая / Белый, Крайняя / Крайний: the masculine -ый/-ий is not tagged (Церетели is not)."""
    return (
        feminine.gender is Gender.FEMALE
        and feminine.latin.endswith("aia")
        and not other.gender
        and other.latin == feminine.stem + "i"
    )


def _part(value: object, make) -> Part:  # noqa: ANN001 - one of the cached part builders
    return value if isinstance(value, Part) else make(value)


def compare_given(a: object, b: object, close: float = CLOSE_AT) -> Level:
    """Given names (a string or a prepared ``Part`` each)."""
    return _given(_part(a, given_part), _part(b, given_part), close)


def compare_surname(a: object, b: object, close: float = CLOSE_AT) -> Level:
    """Surnames, double ones too (Римский-Корсаков / Римская-Корсакова: other gender)."""
    return _inflecting(_part(a, surname_part), _part(b, surname_part), close)


def compare_patronymic(a: object, b: object, close: float = CLOSE_AT) -> Level:
    """Patronymics (Иванович / Иваныч: same root; Иванович / Ивановна: other gender)."""
    return _inflecting(_part(a, patronymic_part), _part(b, patronymic_part), close)


def _swapped(ga: Part, sa: Part, gb: Part, sb: Part, close: float) -> bool:
    """Crossed, both halves agree at least closely, and better than as written.

    Иван Иванов / Ivanov Ivan agree closely as written too (Jaro-Winkler on a
    shared prefix): crossed they agree better, so they are swapped.
    """
    if not (ga.text and sa.text and gb.text and sb.text):
        return False
    straight = max(_given(ga, gb, close), _inflecting(sa, sb, close))
    if straight is Level.EXACT:
        return False  # nothing agrees better (the usual case: one person, written alike)
    crossed = max(_given(ga, sb, close), _given(sa, gb, close))
    return crossed <= Level.CLOSE and crossed < straight


def names_swapped(
    given_a: object, surname_a: object, given_b: object, surname_b: object, close: float = CLOSE_AT
) -> bool:
    """Whether b's given name and surname are a's the other way round.

    Иван Петров / Петров Иван: True; not when they also agree as written.
    """
    return _swapped(
        given_part(given_a), surname_part(surname_a), given_part(given_b), surname_part(surname_b),
        close,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class NameKey:
    """A record's names, prepared once; compare keys, not strings, in a hot loop."""

    given: Part
    surname: Part
    patronymic: Part

    @classmethod
    def of(cls, given: object = "", surname: object = "", patronymic: object = "") -> NameKey:
        return cls(given_part(given), surname_part(surname), patronymic_part(patronymic))

    def compare(self, other: NameKey, close: float = CLOSE_AT) -> tuple[Level, Level, Level]:
        """(given name, surname, patronymic) levels against another record's key."""
        return (
            _given(self.given, other.given, close),
            _inflecting(self.surname, other.surname, close),
            _inflecting(self.patronymic, other.patronymic, close),
        )

    def swapped(self, other: NameKey, close: float = CLOSE_AT) -> bool:
        """``names_swapped`` on prepared keys."""
        return _swapped(self.given, self.surname, other.given, other.surname, close)
