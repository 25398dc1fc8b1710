"""The matching model kept in the store: learnt from the store's own people, no labels.

``syncd customers train`` (and ``syncd customers import`` on a store without a
model) estimates it with ``training.train``: u from random pairs of records, m
by EM over the blocks' candidate pairs, and the share of each common given
name and surname for the term-frequency weights.  It is kept as JSON in
``identity_model``; until one is trained, the shipped model
(``default_model.json``, learnt the same way on a synthetic population with
Russian names, bench/identity_default_model.py) decides.

    with store.begin() as conn:
        save(conn, *learn(people))
    with store.read() as conn:
        model, tf, trained_at = load(conn)
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Connection, func, select

from syncd.identity.comparisons import Person
from syncd.identity.fellegi_sunter import FieldModel, Model
from syncd.identity.linker import RARE
from syncd.identity.people import from_json
from syncd.identity.training import name_frequencies, train
from syncd.store.schema import identity_model, identity_records

SHIPPED = Path(__file__).with_name("default_model.json")
NAME = "fellegi_sunter"
SAMPLE = 50_000  # records trained on: more moves the weights by less than their noise
LEARN_FROM = 1_000  # fewer records than this teach noise: the shipped model stays
TF_KEPT = 20_000  # the commonest names kept for term-frequency weights
TF_FLOOR = 3  # a name seen fewer times in the sample has no share of its own


def learn(people: Sequence[Person], seed: int = 7) -> tuple[Model, dict]:
    """The model and the name shares of these people (a sample of ``SAMPLE`` at most)."""
    if len(people) > SAMPLE:
        people = random.Random(seed).sample(list(people), SAMPLE)
    model = train(people, seed=seed)
    counts = name_frequencies(people)
    floor = TF_FLOOR / max(len(people), 1)
    common = sorted(((share, key) for key, share in counts.items() if share >= floor), reverse=True)
    kept = common[:TF_KEPT]
    rarest = kept[-1][0] if len(kept) == TF_KEPT else floor
    return model, {**{key: share for share, key in kept}, RARE: rarest}


def dumps(model: Model, tf: dict) -> str:
    return json.dumps(
        {
            "prior": model.prior,
            "fields": {n: {"m": list(f.m), "u": list(f.u)} for n, f in model.fields.items()},
            "tf": [[kind, value, share] for (kind, value), share in sorted(tf.items())],
        },
        ensure_ascii=False,
    )


def loads(text: str) -> tuple[Model, dict]:
    body = json.loads(text)
    fields = {n: FieldModel(tuple(f["m"]), tuple(f["u"])) for n, f in body["fields"].items()}
    tf = {(kind, value): share for kind, value, share in body.get("tf", [])}
    return Model(fields, body["prior"]), tf


def load(conn: Connection) -> tuple[Model, dict, float | None]:
    """The store's model, or the shipped one (``trained_at`` None)."""
    row = conn.execute(
        select(identity_model.c.body, identity_model.c.trained_at).where(
            identity_model.c.name == NAME
        )
    ).first()
    if row is None:
        return *loads(SHIPPED.read_text(encoding="utf-8")), None
    return *loads(row.body), row.trained_at


def save(conn: Connection, model: Model, tf: dict) -> None:
    conn.execute(identity_model.delete().where(identity_model.c.name == NAME))
    conn.execute(
        identity_model.insert().values(name=NAME, body=dumps(model, tf), trained_at=time.time())
    )


def people_in_store(conn: Connection, limit: int = SAMPLE) -> list[Person]:
    """Up to ``limit`` people the store's records describe (what ``train`` learns from)."""
    rows = conn.execute(
        select(identity_records.c.person)
        .where(identity_records.c.person.is_not(None))
        .order_by(func.random())  # a sample of the whole store, not its oldest records
        .limit(limit)
    ).scalars()
    return [from_json(text) for text in rows]
