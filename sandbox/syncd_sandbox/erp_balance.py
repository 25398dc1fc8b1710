"""The sandbox 1C's ``Balance`` virtual table of ``AccumulationRegister_ТоварыНаСкладах``.

Stock on hand in УТ 11.5 is the Balance-type register ``ТоварыНаСкладах``
(reference §0 item 25): resources ``ВНаличии`` and ``КОтгрузке``, dimensions
``Номенклатура``, ``Характеристика``, ``Назначение``, ``Склад``, ``Помещение``,
``Серия``.  Its totals are read through the bindable function ``Balance``
(reference §1.5, virtual tables), served here as the live probes saw it:

- ``…/AccumulationRegister_ТоварыНаСкладах/Balance(Period=datetime'…',
  Condition='Склад_Key eq guid''…''',Dimensions='Номенклатура,Склад')`` —
  parameters in the path, string values with ``''`` for a quote; ``Condition``
  filters the register's records on its dimensions before they are summed,
  ``Dimensions`` names the dimensions to group by (default: all), ``Period``
  the moment the balance is taken at (records before it; default: now);
- the answer is a JSON list of rows ``{<dimension>_Key…, ВНаличииBalance,
  КОтгрузкеBalance}`` (the ``…_Balance`` complex type of ``$metadata``), and
  rows whose every resource sums to zero are left out, as the platform does;
- ``$skip`` is refused (400, code 14); ``$orderby`` is ignored; ``$top`` gives
  an arbitrary subset, a different one on each call (not a cursor); ``$filter``
  and ``$select`` work on the result's fields.

A sandbox simplification: the answer is JSON whatever ``$format`` says (syncd
asks for JSON; a real base would answer Atom by default).

    rows = balance(state, "Dimensions='Номенклатура,Склад'", {"$format": "json"}, rng)
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from typing import Any

from syncd_sandbox.erp_query import ODataFault, compile_filter, select_fields
from syncd_sandbox.erp_schema import (
    NAMESPACE,
    STOCK_DIMENSIONS,
    STOCK_RESOURCES,
    ObjectSchema,
)

REGISTER = "AccumulationRegister_ТоварыНаСкладах"
DIMENSIONS = STOCK_DIMENSIONS
RESOURCES = STOCK_RESOURCES
BALANCE_TYPE = f"{REGISTER}_Balance"
# the register's records, as Condition sees them: its dimensions
RECORDS = ObjectSchema(
    f"{REGISTER}_RecordType",
    "accumulation_register",
    {f"{d}_Key": "Edm.Guid" for d in DIMENSIONS},
)
# the Balance rows, as $filter and $select see them
BALANCE = ObjectSchema(
    BALANCE_TYPE,
    "virtual_table",
    {
        **{f"{d}_Key": "Edm.Guid" for d in DIMENSIONS},
        **{f"{r}Balance": "Edm.Double" for r in RESOURCES},
    },
)
VIRTUAL_TABLE = re.compile(rf"^{REGISTER}/Balance(?:\((?P<args>.*)\))?$", re.DOTALL)
PARAMETER = re.compile(
    r"\s*(?P<name>\w+)\s*=\s*(?:'(?P<string>(?:[^']|'')*)'|datetime'(?P<date>[^']*)')\s*(?:,|$)"
)


def metadata_parts() -> tuple[list[str], list[str]]:
    """``$metadata`` for the virtual table: its complex type (schema level) and its
    bindable ``FunctionImport`` (container level)."""
    props = [
        f'<Property Name="{name}" Type="{edm}" Nullable="true"/>'
        for name, edm in BALANCE.fields.items()
    ]
    types = [f'<ComplexType Name="{BALANCE_TYPE}">', *props, "</ComplexType>"]
    function = (
        f'<FunctionImport Name="Balance" IsBindable="true" IsSideEffecting="false" '
        f'ReturnType="Collection({NAMESPACE}.{BALANCE_TYPE})">'
        f'<Parameter Name="bindingParameter" Type="Collection({NAMESPACE}.{REGISTER})"/>'
        '<Parameter Name="Period" Type="Edm.DateTime" Nullable="true"/>'
        '<Parameter Name="Condition" Type="Edm.String" Nullable="true"/>'
        '<Parameter Name="Dimensions" Type="Edm.String" Nullable="true"/>'
        "</FunctionImport>"
    )
    return types, [function]


def parameters(args: str | None) -> dict[str, str]:
    """``Period=datetime'…',Condition='…'`` as a dict; 400/14 when it does not read."""
    found: dict[str, str] = {}
    text = (args or "").strip()
    pos = 0
    while pos < len(text):
        m = PARAMETER.match(text, pos)
        if m is None:
            raise ODataFault(400, 14, f"cannot read the virtual table's parameters at {pos}")
        value = m.group("date") if m.group("date") is not None else m.group("string")
        found[m.group("name")] = value.replace("''", "'")
        pos = m.end()
    unknown = set(found) - {"Period", "Condition", "Dimensions"}
    if unknown:
        raise ODataFault(400, 12, f"unknown parameter of Balance: {', '.join(sorted(unknown))}")
    return found


def balance(records: list[dict], args: str | None, options: dict, rng: random.Random) -> list[dict]:
    """The Balance rows for these register records (every record of every record set)."""
    if options.get("$skip") not in (None, ""):
        raise ODataFault(400, 14, "$skip is not supported for virtual tables")
    given = parameters(args)
    grouped = _dimensions(given.get("Dimensions"))
    keep = compile_filter(given["Condition"], RECORDS) if given.get("Condition") else None
    period = given.get("Period")
    sums: dict[tuple, dict[str, float]] = defaultdict(lambda: dict.fromkeys(RESOURCES, 0.0))
    for record in records:
        if not record.get("Active", True):
            continue
        if period and str(record.get("Period") or "") >= period:
            continue
        if keep is not None and not keep(record):
            continue
        sign = -1.0 if record.get("RecordType") == "Expense" else 1.0
        totals = sums[tuple(record.get(f"{d}_Key") for d in grouped)]
        for resource in RESOURCES:
            totals[resource] += sign * float(record.get(resource) or 0.0)
    rows = [
        {
            **{f"{d}_Key": key for d, key in zip(grouped, dims, strict=True)},
            **{f"{r}Balance": round(totals[r], 3) for r in RESOURCES},
        }
        for dims, totals in sums.items()
        if any(round(v, 3) for v in totals.values())
    ]
    if options.get("$filter"):
        match = compile_filter(options["$filter"], BALANCE)
        rows = [r for r in rows if match(r)]
    top = options.get("$top")
    if top not in (None, ""):
        rng.shuffle(rows)  # an arbitrary subset: not a page of anything
        rows = rows[: int(top)]
    return [select_fields(r, options.get("$select"), BALANCE) for r in rows]


def _dimensions(text: str | None) -> tuple[str, ...]:
    if not text:
        return DIMENSIONS
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    for name in names:
        if name not in DIMENSIONS:
            raise ODataFault(400, 6, f"segment not found: {name} (not a dimension of {REGISTER})")
    return names


def records_of(record_sets: list[dict]) -> list[dict]:
    """Every record of the register's record sets."""
    return [record for rs in record_sets for record in rs.get("RecordSet", [])]


def answer(base: str, rows: list[dict]) -> dict[str, Any]:
    return {"odata.metadata": f"{base}$metadata#{BALANCE_TYPE}", "value": rows}
