"""A customer's figures, pure: what each purchase adds, and what is written to the CRM.

Kept per customer (identity) in its facts: every online order with its stage,
total and date, every offline purchase with its total and date; the figures
are recomputed from them, so a changed order never counts twice.

- redemption rate = completed / (completed + cancelled) online orders;
- LTV = completed online orders + offline purchases (returns deducted);
- online and offline order counts, average check, last purchase date.
"""

from __future__ import annotations

from typing import Any


def with_online(figs: dict, ref: str, stage: str | None, total: float, at: str) -> dict:
    figs = {**figs, "online": {**figs.get("online", {})}}
    figs["online"][ref] = {"stage": stage, "total": round(float(total or 0), 2), "at": at[:10]}
    return figs


def with_offline(figs: dict, key: str, total: float, at: str, is_return: bool) -> dict:
    figs = {**figs, "offline": {**figs.get("offline", {})}}
    sign = -1 if is_return else 1
    figs["offline"][key] = {"total": sign * round(float(total or 0), 2), "at": at[:10]}
    return figs


def compute(figs: dict, completed: set[str], cancelled: set[str]) -> dict[str, Any]:
    online = figs.get("online", {}).values()
    offline = figs.get("offline", {}).values()
    done = [o for o in online if o["stage"] in completed]
    lost = [o for o in online if o["stage"] in cancelled]
    sales = [o for o in offline if o["total"] > 0]
    ltv = round(sum(o["total"] for o in done) + sum(o["total"] for o in offline), 2)
    purchases = len(done) + len(sales)
    dates = [o["at"] for o in done] + [o["at"] for o in sales]
    return {
        "redemption_rate": round(len(done) / (len(done) + len(lost)), 4) if done or lost else None,
        "ltv": ltv,
        "online_orders": len(figs.get("online", {})),
        "offline_orders": len(sales),
        "average_check": round(ltv / purchases, 2) if purchases else None,
        "last_purchase": max(dates) if dates else None,
    }


def custom_fields(values: dict[str, Any], codes: dict[str, str]) -> dict[str, Any]:
    return {codes[name]: value for name, value in values.items() if name in codes}
