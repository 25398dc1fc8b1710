"""Checking the mappings against the live systems, each problem at its file:line.

Against 1C's ``$metadata``: every set and field the mappings name exists
(goods lines and contacts included), and 1C values the status map names are
members of their enumerations where 1C publishes them.  Against the CRM's
``reference/statuses``: every CRM status the map names exists, and every
active status of the account has a stage (a path through the order's life).

    problems = check_against_erp(mappings, client.metadata())
    problems += check_against_crm(mappings, crm.statuses())
"""

from __future__ import annotations

from syncd.config_errors import ConfigProblem
from syncd.connectors.onec.metadata import Metadata
from syncd.mappings.load import Mappings

ORDER_STATUS_ENUM = "СтатусыЗаказовКлиентов"
ORDER_STATE_ENUM = "СостоянияЗаказовКлиентов"


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
    for i, fm in enumerate(o.fields):
        need("orders.yaml", ["fields", i, "erp"], o.erp_set, fm.erp)
    need("orders.yaml", ["items", "section"], o.erp_set, o.items.section)
    if meta.has_entity(o.erp_set) and o.items.section in meta.entity(o.erp_set).tabular_sections:
        for name in ("offer", "quantity", "price", "cancelled"):
            field = getattr(o.items, name)
            need_row("orders.yaml", ["items", name], o.erp_set, o.items.section, field)
    if o.state_set:
        need("orders.yaml", ["state_set"], o.state_set, "Состояние")
    for stage, write in s.erp_write.items():
        for name in write.fields:
            need("statuses.yaml", ["erp_write", stage, "fields", name], o.erp_set, name)
    for where, enum in (("erp_statuses", ORDER_STATUS_ENUM), ("erp_states", ORDER_STATE_ENUM)):
        members = meta.enums.get(enum)
        for value in getattr(s, where) if members else ():
            if value not in members:
                problems.append(
                    m.problem(
                        "statuses.yaml",
                        [where, value],
                        f"{value!r} is not a value of 1C's {enum}: {', '.join(members)}",
                    )
                )
    need("customers.yaml", ["erp_set"], c.erp_set)
    need("customers.yaml", ["name"], c.erp_set, c.name)
    need("customers.yaml", ["contacts_section"], c.erp_set, c.contacts_section)
    if meta.has_entity(c.erp_set) and c.contacts_section in meta.entity(c.erp_set).tabular_sections:
        for name in ("contact_kind", "contact_value"):
            need_row("customers.yaml", [name], c.erp_set, c.contacts_section, getattr(c, name))
    return problems


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
