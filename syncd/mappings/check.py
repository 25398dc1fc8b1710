"""Checking the mappings against the live systems, each problem at its file:line.

Against 1C's ``$metadata``: every set and field the mappings name exists
(goods lines and contacts included).  Against the CRM's
``reference/statuses``: every CRM status the map names exists, and every
active status of the account has a stage (a path through the order's life).

The 1C values the status map names (the order's ``Статус``, its state's
``Состояние``, its assembly and delivery ``Статус``) are values
of configuration enums, which a real publication does **not** list in
``$metadata`` (only the platform's own enums are there).  So
``check_erp_values`` says so rather than pass silently, and checks them
against what 1C has actually sent instead (``Observed``: the orders and
states syncd has read): a value 1C sends that the map has no stage for is a
problem; a mapped value never seen is only a note (it may simply not have
happened yet).  Where a base does publish the enum, its members are used.

    problems = check_against_erp(mappings, client.metadata())
    problems += check_against_crm(mappings, crm.statuses())
    more, notes = check_erp_values(mappings, meta, Observed.of(payloads))
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping
from typing import Any, Protocol

from syncd.config_errors import ConfigProblem
from syncd.mappings.load import Mappings
from syncd.mappings.model import CodeMap
from syncd.mappings.observed import Observed

ORDER_STATUS_ENUM = "СтатусыЗаказовКлиентов"
ORDER_STATE_ENUM = "СостоянияЗаказовКлиентов"
DELIVERY_STATUS_ENUM = "СтатусыСборкиИДоставки"


class Metadata(Protocol):
    """What the checks read of 1C's ``$metadata`` (the OData connector's ``Metadata``
    is one; the mappings know no connector): its entity sets, each with its fields
    and tabular sections (``entity(name).tabular(section).type_of(field)``), and the
    enums it publishes."""

    enums: Mapping[str, Any]

    def has_entity(self, set_name: str) -> bool: ...

    def entity(self, set_name: str) -> Any: ...


def check_against_erp(m: Mappings, meta: Metadata) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []

    def need(file: str, path: list, set_name: str, field: str | None = None) -> None:
        if not meta.has_entity(set_name):
            problems.append(
                m.problem(file, path, f"1C publishes no {set_name!r} (check $metadata)")
            )
            return
        if field is not None:
            try:
                entity = meta.entity(set_name)
                if not entity.has(field):
                    entity.type_of(field)  # raises with "did you mean"
            except KeyError as exc:
                problems.append(m.problem(file, path, str(exc).strip("'\"")))

    def need_row(file: str, path: list, set_name: str, section: str, field: str | None) -> None:
        if not meta.has_entity(set_name) or field is None:
            return
        try:
            meta.entity(set_name).tabular(section).type_of(field)
        except KeyError as exc:
            problems.append(m.problem(file, path, str(exc).strip("'\"")))

    o, s, c = m.orders, m.statuses, m.customers
    need("orders.yaml", ["erp_set"], o.erp_set)
    need("orders.yaml", ["customer_field"], o.erp_set, o.customer_field)
    if o.agreed_field:
        need("orders.yaml", ["agreed_field"], o.erp_set, o.agreed_field)
    for i, fm in enumerate(o.fields):
        need("orders.yaml", ["fields", i, "erp"], o.erp_set, fm.erp)
    need("orders.yaml", ["items", "section"], o.erp_set, o.items.section)
    if meta.has_entity(o.erp_set) and o.items.section in meta.entity(o.erp_set).tabular_sections:
        for name in ("offer", "quantity", "price", "cancelled"):
            field = getattr(o.items, name)
            need_row("orders.yaml", ["items", name], o.erp_set, o.items.section, field)
    if o.state_set:
        need("orders.yaml", ["state_set"], o.state_set, "Состояние")
        for name in ("percent", "amount"):
            if getattr(o.payment_state, name):
                path = ["payment_state", name]
                need("orders.yaml", path, o.state_set, getattr(o.payment_state, name))
    if o.delivery_set:
        need("orders.yaml", ["delivery_set"], o.delivery_set, "Статус")
    if o.payments_to_erp is not None:
        need("orders.yaml", ["payments_to_erp", "field"], o.erp_set, o.payments_to_erp.field)
    for stage, write in s.erp_write.items():
        for name in write.fields:
            need("statuses.yaml", ["erp_write", stage, "fields", name], o.erp_set, name)
    need("customers.yaml", ["erp_set"], c.erp_set)
    need("customers.yaml", ["name"], c.erp_set, c.name)
    need("customers.yaml", ["contacts_section"], c.erp_set, c.contacts_section)
    if meta.has_entity(c.erp_set) and c.contacts_section in meta.entity(c.erp_set).tabular_sections:
        for name in ("contact_kind", "contact_value"):
            need_row("customers.yaml", [name], c.erp_set, c.contacts_section, getattr(c, name))
    return problems


def check_erp_values(
    m: Mappings, meta: Metadata, observed: Observed | None
) -> tuple[list[ConfigProblem], list[str]]:
    """The 1C values the status map names: by the enum where 1C publishes it, else by
    what 1C has sent.  Returns problems and notes (what could not be checked, and why)."""
    problems: list[ConfigProblem] = []
    notes: list[str] = []
    o, s = m.orders, m.statuses
    for where, enum, set_name, name in (
        ("erp_statuses", ORDER_STATUS_ENUM, o.erp_set, "Статус"),
        ("erp_states", ORDER_STATE_ENUM, o.state_set, "Состояние"),
        ("erp_delivery", DELIVERY_STATUS_ENUM, o.delivery_set, "Статус"),
    ):
        mapped = getattr(s, where)
        if not mapped or not set_name:
            continue
        members = meta.enums.get(enum)
        if members:
            for value in mapped:
                if value not in members:
                    problems.append(
                        m.problem(
                            "statuses.yaml",
                            [where, value],
                            f"{value!r} is not a value of 1C's {enum}: {', '.join(members)}",
                        )
                    )
            continue
        read = observed.objects.get(set_name, 0) if observed else 0
        if not read:
            notes.append(
                f"enum {enum} is not published in $metadata: the values of statuses.yaml "
                f"{where} were not checked (no {set_name} read yet to check them against)"
            )
            continue
        notes.append(
            f"enum {enum} is not published in $metadata: its values were not checked; they "
            f"are checked against the {read} {set_name} read instead"
        )
        sent = observed.values.get((set_name, name), Counter())  # type: ignore[union-attr]
        for value, count in sorted(sent.items()):
            if value and value not in mapped:
                problems.append(
                    m.problem(
                        "statuses.yaml",
                        [where],
                        f"1C sends {name} {value!r} ({count} of the {read} {set_name} read) "
                        f"and {where} maps no stage for it",
                    )
                )
        for value in mapped:
            if value not in sent:
                close = difflib.get_close_matches(value, list(sent), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                notes.append(
                    f"statuses.yaml {where}: {value!r} was not seen in the {read} {set_name} "
                    f"read{hint}"
                )
    notes += _code_map_notes(m, observed)
    return problems, notes


def _code_map_notes(m: Mappings, observed: Observed | None) -> list[str]:
    """1C values a code map (``{codes: …}``) does not list, as 1C sent them: each
    becomes the map's default, which may not be what the admin meant."""
    notes: list[str] = []
    o = m.orders
    read = observed.objects.get(o.erp_set, 0) if observed else 0
    for i, fm in enumerate(o.fields):
        if not read or not isinstance(fm.transform, CodeMap):
            continue
        sent = observed.values.get((o.erp_set, fm.erp), Counter())  # type: ignore[union-attr]
        for value, count in sorted(sent.items()):
            if value and value not in fm.transform.codes:
                becomes = repr(fm.transform.default) if fm.transform.default else "empty"
                notes.append(
                    f"orders.yaml fields[{i}] ({fm.erp}): 1C sends {value!r} ({count} of the "
                    f"{read} {o.erp_set} read), which the code map does not list: it becomes "
                    f"{becomes} in the CRM"
                )
    return notes


def check_against_crm(m: Mappings, statuses: dict[str, dict]) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    known = set(statuses)
    s = m.statuses
    for code in s.crm:
        if code not in known:
            problems.append(
                m.problem("statuses.yaml", ["crm", code], f"the CRM has no status {code!r}")
            )
    for stage, code in s.crm_write.items():
        if code not in known:
            problems.append(
                m.problem("statuses.yaml", ["crm_write", stage], f"the CRM has no status {code!r}")
            )
    for code, info in sorted(statuses.items()):
        if info.get("active", True) and code not in s.crm:
            problems.append(
                m.problem(
                    "statuses.yaml",
                    ["crm"],
                    f"the CRM status {code!r} has no stage: add it under crm",
                )
            )
    return problems
