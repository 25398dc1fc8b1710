"""A person's name in one spelling: normalised in its own script, and a canonical Latin form.

``normalise`` keeps the script (case-folded, ``ё`` as ``е``, dashes as one
``-``, apostrophes dropped, a Latin look-alike inside a Cyrillic word made
Cyrillic and the reverse).  ``transliterate`` gives the canonical Latin form
names are compared on: Cyrillic goes to Latin close to ICAO 9303 (the
Russian passport's scheme), then Cyrillic-made and Latin-written names alike
are folded so that the usual ways of writing one Russian name meet —
ya/ia/ja, yu/iu/ju, kh/h, ts/tc/tz, shch/sch/shh, й as y/i/j, ye/je/ie as e,
yo/jo as e, x as ks, w as v, doubled letters once:

    transliterate("Юлия Щербакова")        # "iulia shcherbakova"
    transliterate("Yuliya Scherbakova")    # "iulia shcherbakova"
    transliterate("Iuliia Shcherbakova")   # "iulia shcherbakova"

The canonical form is a comparison key, not a spelling to show anyone.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_DROP = dict.fromkeys(map(ord, "'’ʼ`´‘ʹ\u00ad\u200b"), None)  # apostrophes, soft hyphen
_DASH = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212_"), "-")
_CLEAN = {**_DROP, **_DASH}
_NOT_NAME = re.compile(r"[^\w\-\s]|[\d_]")  # digits and punctuation: a space
_HYPHEN = re.compile(r"\s*-[\s-]*")
_SEGMENT = re.compile(r"[^\s-]+")
_HAS_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_HAS_LATIN = re.compile(r"[a-z]")

# letters that look alike, case-folded: a mistyped script inside one word
_LATIN_LOOKALIKE = dict(zip("aeopcyxkmthb", "аеорсухкмтнв", strict=True))
_CYRILLIC_LOOKALIKE = {c: latin for latin, c in _LATIN_LOOKALIKE.items()} | {"і": "i", "ј": "j"}


def _cyrillic(char: str) -> bool:
    return "\u0400" <= char <= "\u04ff"


def _one_script(match: re.Match) -> str:
    """A word written in two scripts, all of one made of look-alikes: in the other."""
    word = match.group(0)
    cyrillic = sum(map(_cyrillic, word))
    latin = sum(c.isascii() and c.isalpha() for c in word)
    if not (cyrillic and latin):
        return word
    if cyrillic >= latin and all(c in _LATIN_LOOKALIKE for c in word if c.isascii()):
        return "".join(_LATIN_LOOKALIKE.get(c, c) for c in word)
    if all(c in _CYRILLIC_LOOKALIKE for c in word if _cyrillic(c)):
        return "".join(_CYRILLIC_LOOKALIKE.get(c, c) for c in word)
    return word


@lru_cache(maxsize=4096)
def normalise(text: object) -> str:
    """Case-folded, ``ё`` as ``е``, one ``-`` between the parts of a double name, one space.

    ``"  Римский – Корсаков "`` -> ``"римский-корсаков"``; ``"O'Brien"`` ->
    ``"obrien"``; ``"Иванов  И."`` -> ``"иванов и"``.  Each word stays in its
    own script; digits and punctuation go.
    """
    t = unicodedata.normalize("NFC", str(text or "")).casefold().replace("ё", "е")
    t = _NOT_NAME.sub(" ", t.translate(_CLEAN))
    t = _HYPHEN.sub("-", t)
    if _HAS_CYRILLIC.search(t) and _HAS_LATIN.search(t):
        t = _SEGMENT.sub(_one_script, t)
    return " ".join(w for w in (w.strip("-") for w in t.split()) if w)


# Cyrillic to Latin, close to ICAO 9303 (ъ and ь dropped; Ukrainian and Belarusian letters too)
_CYRILLIC_TO_LATIN = str.maketrans(
    {
        **dict(zip("абвгдезийклмнопрстуфыэ", "abvgdeziiklmnoprstufye", strict=True)),
        "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
        "ъ": "", "ь": "", "ю": "iu", "я": "ia",
        "і": "i", "ї": "i", "є": "ie", "ґ": "g", "ў": "u",
        # Latin letters the schemes for Russian use, and a few others
        "š": "sh", "č": "ch", "ž": "zh", "ŝ": "shch", "ł": "l", "ø": "o",
        "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "þ": "th",
    }
)  # fmt: skip

# the variant spellings, longest first; capitals stand for one sound until the end
_VARIANTS = {
    "shch": "Q", "sch": "Q", "shh": "Q",
    "tsch": "C", "tch": "C", "cz": "C", "ch": "C",
    "sh": "S", "sz": "S", "zh": "Z", "kh": "h",
    "ts": "T", "tz": "T", "tc": "T",
    "ck": "k", "ph": "f", "ou": "u", "yo": "e", "jo": "e",
    "x": "ks", "w": "v", "c": "k", "q": "k", "y": "i", "j": "i",
}  # fmt: skip
_VARIANT = re.compile("|".join(sorted(_VARIANTS, key=lambda v: (-len(v), v))))
_SOUNDS = str.maketrans({"Q": "shch", "C": "ch", "S": "sh", "Z": "zh", "T": "ts"})
_IE = re.compile(r"i+e")  # ye, je, ie, ие: e (Валериевна = Валерьевна, Yelena = Elena)
_IU = re.compile(r"(?<=[bdfgklmnprstvzQCSZT])iu")  # Lyudmila = Ludmila, Lyubov = Lubov
_DOUBLE = re.compile(r"(\w)\1+")


def _latin(text: str) -> str:
    text = text.translate(_CYRILLIC_TO_LATIN)
    if text.isascii():
        return text
    # other accents (é, ü, ï): the base letter; letters of other scripts stay as they are
    return "".join(c if c.isascii() else unicodedata.normalize("NFKD", c)[0] for c in text)


@lru_cache(maxsize=4096)
def transliterate(text: object) -> str:
    """The canonical Latin form of a name, whatever script and scheme it was written in."""
    return canonical(normalise(text))


@lru_cache(maxsize=4096)
def canonical(normalised: str) -> str:
    """``transliterate`` of a name already normalised (not normalised again)."""
    return _DOUBLE.sub(r"\1", folded(normalised))


@lru_cache(maxsize=4096)
def folded(normalised: str) -> str:
    """``canonical`` with its doubled letters kept: nearer the letters typed, for typos.

    ``Анна`` -> ``"anna"`` (canonical ``"ana"``): a typo ``Анена`` is one edit from it.
    """
    t = _VARIANT.sub(lambda m: _VARIANTS[m.group(0)], _latin(normalised))
    return _IU.sub("u", _IE.sub("e", t)).translate(_SOUNDS)
