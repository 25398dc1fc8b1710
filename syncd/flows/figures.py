"""A customer's figures, pure: what each purchase adds, and what is written to the CRM.

- redemption rate = completed / (completed + cancelled) online orders, the share
  of orders brought to the end (or, with ``redemption: completed_to_cancelled``,
  completed / cancelled, the seed's words taken literally: no value without a
  cancelled order);
- LTV = completed online orders + offline purchases (returns deducted);
- online and offline order counts, average check, last purchase date.

Kept per customer (identity) in its facts, bounded whatever the customer buys:

- ``online`` and ``offline``: the *live* entries, one per online order (its
  stage, total, date) and per receipt (total, negative for a return, date);
- ``settled``: everything folded out of them, as counts, sums in kopecks
  and the dates the last purchase needs.

At most ``keep`` (customers.yaml ``figures.live_entries``) entries stay live.
Beyond that the oldest (by date, then online before offline, then key) of
those that are final — every receipt, every online order completed or
cancelled — are folded into ``settled``; only when those are not enough, the
oldest online orders still under way too (a shop whose CRM never marks its
orders complete would otherwise keep every order of a customer live: its
figures, read and written at each of her orders, grew by ~90 bytes an
order).  An order under way adds to the online order count only, so that is
all its folding keeps.  Each purchase also records what it contributed (its entry and
the customer) with itself — an order in its own facts, a receipt on its CRM
order's binding — so a folded one that changes later (a completed order
cancelled, a total edited, a corrected receipt) is taken out of ``settled``
exactly (``was``) and counted live again: nothing counts twice.

The figures are exact: counts and sums are kept in integers.  The last
purchase date is a maximum, which a removal cannot undo from a sum; so
``settled`` keeps the dates of its purchases exactly for its ``keep`` newest
dates (``dates``) and, below them, the newest date with how many purchases
share it (``below``, ``below_n``).  Only when a folded purchase older than
every tracked date is taken out while it was the last one of ``below``'s day
does ``below`` become an upper bound (``below_exact`` false); the last
purchase is off only if no live or tracked purchase is newer than it.

The cost of an event is O(``keep``): nothing is ever recomputed over every
purchase a customer made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["online", "offline"]


@dataclass(frozen=True)
class Rules:
    """The stages that count (statuses.yaml) and how many entries stay live."""

    completed: frozenset[str]
    cancelled: frozenset[str]
    keep: int
    redemption: str = "completed_share"  # or "completed_to_cancelled" (customers.yaml)

    def final(self, stage: str | None) -> bool:
        return stage in self.completed or stage in self.cancelled


def online_entry(stage: str | None, total: float, at: str) -> dict[str, Any]:
    """What an online order counts for: its stage, total and day."""
    return {"stage": stage, "total": round(float(total or 0), 2), "at": at[:10]}


def offline_entry(total: float, at: str, is_return: bool) -> dict[str, Any]:
    """What a receipt counts for: its total (negative for a return) and day."""
    sign = -1 if is_return else 1
    return {"total": sign * round(float(total or 0), 2), "at": at[:10]}


def is_legacy(figs: dict) -> bool:
    """Facts written before entries were folded: none of them carries a record yet."""
    return "settled" not in figs and bool(figs.get("online") or figs.get("offline"))


def may_hold(figs: dict, kind: Kind) -> bool:
    """Could a purchase of this kind be folded in ``settled``?  (No: no need to look.)"""
    settled = figs.get("settled") or {}
    return bool(settled.get("online" if kind == "online" else "receipts"))


def count(figs: dict, kind: Kind, key: str, entry: dict, was: dict | None, rules: Rules) -> dict:
    """The figures with ``key``'s entry set to ``entry`` (a new dict; ``figs`` is untouched).

    ``was`` is what ``key`` recorded it counted for, if it ever counted: when
    it is no longer live it is in ``settled``, and is taken out of it first.
    """
    settled = settled_of(figs)
    settled["dates"] = dict(settled["dates"])
    figs = {
        **figs,
        "online": dict(figs.get("online", {})),
        "offline": dict(figs.get("offline", {})),
    }
    figs["settled"] = settled
    live = figs[kind]
    if key not in live and was is not None and _settled_holds(settled, kind, was, rules):
        _settle(settled, kind, was, rules, -1)
    live[key] = entry
    _fold(figs, rules)
    if not _untracked(settled):  # nothing below the tracked days (any more)
        settled.update(below=None, below_n=0, below_exact=True)
    figs["settled"] = {k: v for k, v in settled.items() if v != _EMPTY[k]}  # stored sparse
    return figs


def settled_of(figs: dict) -> dict:
    """The settled totals, every one of them (they are stored without the empty ones)."""
    return {**_EMPTY, **figs.get("settled", {})}


def compute(figs: dict, rules: Rules) -> dict[str, Any]:
    """The figures written to the CRM, from the live entries and ``settled``."""
    s = settled_of(figs)
    online = figs.get("online", {}).values()
    offline = figs.get("offline", {}).values()
    done = [o for o in online if o["stage"] in rules.completed]
    sales = [o for o in offline if o["total"] > 0]
    n_done = len(done) + s["done"]
    n_lost = sum(1 for o in online if o["stage"] in rules.cancelled) + s["lost"]
    n_sales = len(sales) + s["sales"]
    cents = sum(_cents(o["total"]) for o in done) + sum(_cents(o["total"]) for o in offline)
    counted = n_done or offline or s["receipts"]  # else 0, an int, as it always was
    ltv = (cents + s["done_cents"] + s["offline_cents"]) / 100 if counted else 0
    purchases = n_done + n_sales
    dates = [o["at"] for o in done] + [o["at"] for o in sales]
    newest = _settled_last(s)
    if newest is not None:
        dates.append(newest)
    return {
        "redemption_rate": _redemption(n_done, n_lost, rules.redemption),
        "ltv": ltv,
        "online_orders": len(figs.get("online", {})) + s["online"],
        "offline_orders": n_sales,
        "average_check": round(ltv / purchases, 2) if purchases else None,
        "last_purchase": max(dates) if dates else None,
    }


def _redemption(done: int, lost: int, formula: str) -> float | None:
    if formula == "completed_to_cancelled":
        return round(done / lost, 4) if lost else None
    return round(done / (done + lost), 4) if done or lost else None


def custom_fields(values: dict[str, Any], codes: dict[str, str]) -> dict[str, Any]:
    return {codes[name]: value for name, value in values.items() if name in codes}


# -- settled ---------------------------------------------------------------------

_EMPTY: dict[str, Any] = {
    "online": 0,  # online orders folded (completed, cancelled or still under way)
    "done": 0,  # of which completed
    "done_cents": 0,  # their totals
    "lost": 0,  # of which cancelled
    "receipts": 0,  # receipts folded (returns included)
    "sales": 0,  # of which with a positive total
    "offline_cents": 0,  # every folded receipt's total (returns negative)
    "dates": {},  # day -> purchases folded that day, for the `keep` newest days
    "below": None,  # the newest day of the folded purchases not in `dates`
    "below_n": 0,  # how many of them that day
    "below_exact": True,  # false: `below` is only an upper bound (see the module)
}


def _cents(total: float) -> int:
    return round(total * 100)


def _fold(figs: dict, rules: Rules) -> None:
    online, offline = figs["online"], figs["offline"]
    excess = len(online) + len(offline) - rules.keep
    if excess <= 0:
        return
    # the final ones first, then those under way; each oldest first
    order = [(not rules.final(e["stage"]), e["at"], 0, k) for k, e in online.items()]
    order += [(False, e["at"], 1, k) for k, e in offline.items()]
    for _, _, side, key in sorted(order)[:excess]:
        kind: Kind = "online" if side == 0 else "offline"
        _settle(figs["settled"], kind, figs[kind].pop(key), rules, +1)


def _settle(s: dict, kind: Kind, entry: dict, rules: Rules, sign: int) -> None:
    """Fold ``entry`` into ``settled`` (sign +1) or take it out again (-1)."""
    if kind == "online":
        completed = entry["stage"] in rules.completed
        if completed:  # the day first: it reads the counts as they were
            (_add_date if sign > 0 else _remove_date)(s, entry["at"], rules.keep)
            s["done"] += sign
            s["done_cents"] += sign * _cents(entry["total"])
        elif entry["stage"] in rules.cancelled:
            s["lost"] += sign
        s["online"] += sign
        return
    if entry["total"] > 0:
        (_add_date if sign > 0 else _remove_date)(s, entry["at"], rules.keep)
        s["sales"] += sign
    s["receipts"] += sign
    s["offline_cents"] += sign * _cents(entry["total"])


def _settled_holds(s: dict, kind: Kind, was: dict, rules: Rules) -> bool:
    """Can ``was`` be in ``settled`` at all?  (Not after the facts were lost or reset.)"""
    if kind == "offline":
        return s["receipts"] > 0 and (was["total"] <= 0 or s["sales"] > 0)
    if was["stage"] in rules.completed:
        return s["done"] > 0
    if was["stage"] in rules.cancelled:
        return s["lost"] > 0
    return s["online"] - s["done"] - s["lost"] > 0  # orders folded under way


def _untracked(s: dict) -> int:
    """How many folded purchases are below the tracked days."""
    return s["done"] + s["sales"] - sum(s["dates"].values())


def _add_date(s: dict, day: str, keep: int) -> None:
    dates = s["dates"]
    if not _untracked(s):  # nothing below: whatever `below` said is gone
        s["below"], s["below_n"], s["below_exact"] = None, 0, True
    below = s["below"]
    if below is not None and day <= below:
        if day == below and s["below_exact"]:
            s["below_n"] += 1
        elif day == below:  # the upper bound is a real day again
            s["below_n"], s["below_exact"] = 1, True
        return  # an older day: the newest below stays what it was
    dates[day] = dates.get(day, 0) + 1
    if len(dates) > keep:  # the oldest tracked day goes below, newer than all there
        oldest = min(dates)
        s["below"], s["below_n"], s["below_exact"] = oldest, dates.pop(oldest), True


def _remove_date(s: dict, day: str, keep: int) -> None:
    dates = s["dates"]
    if day in dates:
        dates[day] -= 1
        if not dates[day]:
            del dates[day]
    elif day == s["below"] and s["below_exact"]:
        s["below_n"] -= 1
        if not s["below_n"]:
            s["below_exact"] = False  # the next older day is not known: an upper bound


def _settled_last(s: dict) -> str | None:
    if s["dates"]:
        return max(s["dates"])
    return s["below"] if _untracked(s) > 0 else None
