#!/usr/bin/env python3
"""Name comparison speed: preparing a record's names once, then comparing keys.

    .venv/bin/python bench/names.py [--records 20000] [--pairs 1000000]

A population of Russian names (given name, surname in the person's gender,
patronymic), a third of them written in Latin as a passport would, some as
diminutives, is prepared into ``NameKey``s — cold (every cache empty) and
warm (the same names again: the caches answer) — then random pairs and pairs
of one person written two ways are compared (``NameKey.compare``: three
levels) and checked for swapped names.  Prints microseconds per operation;
the issue's bench compares millions of candidate pairs, so a comparison
should stay around a microsecond or two.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from syncd.identity import given_names, names, spelling  # noqa: E402
from syncd.identity.names import NameKey  # noqa: E402

# fmt: off
MEN = ["Александр", "Алексей", "Андрей", "Дмитрий", "Евгений", "Иван", "Михаил", "Николай",
       "Сергей", "Владимир", "Пётр", "Юрий", "Павел", "Константин", "Виктор", "Артём"]
WOMEN = ["Александра", "Анна", "Елена", "Екатерина", "Наталья", "Татьяна", "Юлия", "Мария",
         "Ольга", "Ирина", "Светлана", "Анастасия", "Евгения", "Дарья", "Ксения", "Алёна"]
SHORT = {"Александр": "Саша", "Дмитрий": "Дима", "Елена": "Лена", "Мария": "Маша",
         "Екатерина": "Катя", "Наталья": "Наташа", "Сергей": "Серёжа", "Михаил": "Миша"}
STEMS = ["Иванов", "Петров", "Смирнов", "Кузнецов", "Соколов", "Попов", "Лебедев", "Козлов",
         "Новиков", "Морозов", "Волков", "Соловьёв", "Сорокин", "Ильин", "Щербаков", "Жуков"]
# fmt: on
ADJECTIVES = ["Петровск", "Высоцк", "Чайковск", "Толст", "Донск"]
FATHERS = ["Иван", "Пётр", "Сергей", "Михаил", "Николай", "Андрей", "Алексей", "Юрий"]
PASSPORT = str.maketrans(
    {**dict(zip("абвгдезиклмнопрстуфыэ", "abvgdeziklmnoprstufye", strict=True)), "ё": "e",
     "ж": "zh", "й": "i", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "ie",
     "ь": "", "ю": "iu", "я": "ia"}
)  # fmt: skip


def passport(text: str) -> str:
    """ICAO 9303, as a Russian passport writes a name."""
    return text.lower().translate(PASSPORT).title()


def person(rng: random.Random) -> tuple[str, str, str]:
    woman = rng.random() < 0.5
    given = rng.choice(WOMEN if woman else MEN)
    if rng.random() < 0.3:
        stem = rng.choice(ADJECTIVES)
        surname = stem + ("ая" if woman else ("ой" if stem in ("Толст", "Донск") else "ий"))
    else:
        surname = rng.choice(STEMS) + ("а" if woman else "")
    father = rng.choice(FATHERS)
    ending = "овна" if woman else "ович"
    patronymic = (father[:-1] + ("еевна" if woman else "еевич")) if father[-1] == "й" else (
        father + ending
    )  # fmt: skip
    return given, surname, patronymic


def written(rng: random.Random, name: tuple[str, str, str]) -> tuple[str, str, str]:
    """The same person as another record has them: Latin, a diminutive, as written."""
    given, surname, patronymic = name
    if rng.random() < 0.2:
        given = SHORT.get(given, given)
    if rng.random() < 0.33:
        return passport(given), passport(surname), passport(patronymic)
    return given, surname, patronymic


def clear_caches() -> None:
    for cached in (spelling.normalise, spelling.transliterate, spelling.canonical, spelling.folded,
                   given_names.roots_of_canonical, given_names.near_roots,
                   names.given_part, names.surname_part, names.patronymic_part):  # fmt: skip
        cached.cache_clear()


def per(seconds: float, n: int) -> str:
    return f"{seconds / n * 1e6:.2f} µs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = random.Random(17)
    people = [person(rng) for _ in range(args.records)]
    records = [written(rng, p) for p in people]

    clear_caches()
    start = time.perf_counter()
    keys = [NameKey.of(*r) for r in records]
    cold = time.perf_counter() - start
    start = time.perf_counter()
    again = [NameKey.of(*r) for r in records]
    warm = time.perf_counter() - start
    assert again == keys
    distinct = len({field for r in records for field in r})
    print(f"{args.records:,} records ({distinct:,} distinct names in their fields)")
    print(f"  NameKey.of, caches empty at the start: {per(cold, args.records)} a record")
    print(f"  NameKey.of, warm caches: {per(warm, args.records)} a record")
    letters = "абвгдеклмнопрстуя"
    fresh = list({f"{s[:i]}{rng.choice(letters)}{s[i:]}" for s in STEMS for i in range(1, 6)
                  for _ in range(40)})  # fmt: skip
    clear_caches()
    start = time.perf_counter()
    for surname in fresh:
        names.surname_part(surname)
    took = time.perf_counter() - start
    print(f"  a surname never seen (nothing cached): {per(took, len(fresh))} ({len(fresh):,})")

    same = [(k, NameKey.of(*written(rng, p))) for k, p in zip(keys, people, strict=True)]
    random_pairs = [(rng.choice(keys), rng.choice(keys)) for _ in range(min(args.pairs, 200_000))]
    for label, pairs in (("one person, two records", same), ("random pairs", random_pairs)):
        rounds = max(1, args.pairs // len(pairs))
        start = time.perf_counter()
        for _ in range(rounds):
            for a, b in pairs:
                a.compare(b)
        took = time.perf_counter() - start
        n = rounds * len(pairs)
        start = time.perf_counter()
        for a, b in pairs:
            a.swapped(b)
        swapped = time.perf_counter() - start
        print(f"  {label}: compare {per(took, n)} a pair ({n:,} pairs), "
              f"swapped {per(swapped, len(pairs))}")  # fmt: skip

    agree = sum(max(a.compare(b)[:2]) <= names.Level.SAME_STEM_OTHER_GENDER for a, b in same)
    print(f"  one person's two records agree on given name and surname: {agree / len(same):.1%}")
    start = time.perf_counter()
    for given, surname, _ in records[:10_000]:
        names.compare_given(given, surname)
    print(f"  compare_given on strings (cached parts): {per(time.perf_counter() - start, 10_000)}")


if __name__ == "__main__":
    main()
