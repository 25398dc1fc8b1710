#!/usr/bin/env python3
"""Write syncd's shipped matching model (syncd/identity/default_model.json).

    .venv/bin/python bench/identity_default_model.py

Learnt with no labels, as ``syncd customers train`` learns from a store, on a
synthetic population of 40,000 records with Russian names (bench/identity_data.py,
seed 7): what decides until a store has records enough to train its own.  (Learnt
on Russian and Latin populations mixed, EM takes a name in one script and its
spelling in the other for a disagreement, and the "different" weights come out
four times too lenient: a store learns from its own customers.)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from identity_data import population  # noqa: E402
from identity_fs import person  # noqa: E402

from syncd.identity.model_store import SHIPPED, dumps, learn  # noqa: E402


def main() -> int:
    rows = list(population(40000, variant="russian", seed=7))
    model, tf = learn([person(r) for r in rows])
    SHIPPED.write_text(dumps(model, tf) + "\n", encoding="utf-8")
    print(f"wrote {SHIPPED} (λ {model.prior:.4f}, {len(tf)} name shares)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
