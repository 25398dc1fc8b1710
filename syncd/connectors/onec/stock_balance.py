"""Free stock as 1C's stock register's ``Balance`` virtual table gives it.

УТ 11.5 keeps stock on hand in ``AccumulationRegister_ТоварыНаСкладах``
(resources ``ВНаличии``, ``КОтгрузке``; reference §0 item 25).  Its totals come
from the bindable function ``…/Balance(Condition=…,Dimensions=…)``: parameters
in the path (string values quoted, ``''`` for a quote), one answer with every
non-zero row — it cannot be paged (``$skip`` is refused, ``$top`` gives an
arbitrary subset), and it is slow on a live base (~12 s), so it is read whole,
on a schedule.  Rows are typed by the ``…_Balance`` complex type of
``$metadata``, so a number that is not one is an error naming the row and field.

Free stock = the sum of ``plus`` resources − the sum of ``minus`` resources
(default ``ВНаличии − КОтгрузке``), never below zero.  Whether a base nets
the reservations of ``ЗапасыИПотребности`` into it is not verified: the
resources are settings.

    rows, bad = read_free_stock(client, "AccumulationRegister_ТоварыНаСкладах", formula)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from syncd.connectors.onec.edm import BadValue
from syncd.connectors.onec.metadata import Metadata
from syncd.connectors.onec.values import field, literal

DIMENSIONS = ("Номенклатура", "Характеристика", "Склад")
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Formula:
    """Which resources add to free stock and which take from it."""

    plus: tuple[str, ...] = ("ВНаличии",)
    minus: tuple[str, ...] = ("КОтгрузке",)

    def resources(self) -> tuple[str, ...]:
        return self.plus + self.minus


@dataclass(frozen=True)
class FreeStock:
    """One Balance row: an item (and its characteristic) free in one warehouse."""

    item: str  # Номенклатура Ref_Key
    characteristic: str | None  # Характеристика Ref_Key; None when empty
    warehouse: str  # Склад Ref_Key
    free: Decimal


@dataclass(frozen=True)
class BadRow:
    where: str
    error: str
    raw: Any


def balance_path(register: str, dimensions: tuple[str, ...], condition: str | None) -> str:
    """``Register/Balance(Condition='…',Dimensions='…')``: the virtual table's URL path."""
    args = []
    if condition:
        args.append(f"Condition={literal(condition)}")
    args.append(f"Dimensions={literal(','.join(field(d) for d in dimensions))}")
    return f"{field(register)}/Balance({','.join(args)})"


def balance_type(meta: Metadata, register: str) -> Any:
    """The ``…_Balance`` complex type; KeyError naming the register when it is not published."""
    name = f"{register}_Balance"
    if name not in meta.complex_types or "Balance" not in meta.functions:
        raise KeyError(
            f"$metadata has no Balance virtual table of {register!r}: publish the register "
            "(УстановитьСоставСтандартногоИнтерфейсаOData)"
        )
    return meta.complex_types[name]


def free_stock(
    raw_rows: list[dict], row_type: Any, formula: Formula, where: str
) -> tuple[list[FreeStock], list[BadRow]]:
    """Balance rows as free stock; a row that does not read is set aside, naming it."""
    for resource in formula.resources():
        row_type.type_of(f"{resource}Balance")  # KeyError naming a resource it lacks
    rows: list[FreeStock] = []
    bad: list[BadRow] = []
    for number, raw in enumerate(raw_rows, start=1):
        here = f"{where}, row {number}"
        try:
            row = row_type.normalize(raw)
        except BadValue as exc:
            bad.append(BadRow(here, str(exc), raw))
            continue
        item, warehouse = row.get("Номенклатура_Key"), row.get("Склад_Key")
        if not item or item == EMPTY_GUID or not warehouse or warehouse == EMPTY_GUID:
            bad.append(BadRow(here, "no Номенклатура_Key or Склад_Key in the row", raw))
            continue
        total = sum((_amount(row, r) for r in formula.plus), Decimal(0))
        total -= sum((_amount(row, r) for r in formula.minus), Decimal(0))
        characteristic = row.get("Характеристика_Key")
        rows.append(
            FreeStock(
                item=item,
                characteristic=None if characteristic in (None, EMPTY_GUID) else characteristic,
                warehouse=warehouse,
                free=max(total, Decimal(0)),
            )
        )
    return rows, bad


def read_free_stock(
    client: Any, register: str, formula: Formula, condition: str | None = None
) -> tuple[list[FreeStock], list[BadRow]]:
    """Read the register's Balance once (one call, the whole table) as free stock."""
    row_type = balance_type(client.metadata(), register)
    answer = client.get_json(balance_path(register, DIMENSIONS, condition))
    raw_rows = answer.get("value", []) if isinstance(answer, dict) else []
    return free_stock(raw_rows, row_type, formula, f"{register}/Balance")


def _amount(row: dict, resource: str) -> Decimal:
    value = row.get(f"{resource}Balance")
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value or 0)
