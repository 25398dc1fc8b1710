"""Which RetailCRM API key scopes the configured parts need, and why.

Derived from the configuration, not from a fixed list: a CRM history source
reads its entity (``order_read`` or ``customer_read``); a flow that writes
into a ``retailcrm`` sink reads and writes what it handles (orders and
customers for ``order_sync``, which also writes the customer's figures);
``crm.merge_duplicates`` combines customers; and any CRM part reads the
references (order statuses, sites).  Scope names as ``/api/credentials``
lists them; ``order_read``, ``customer_read`` and ``reference_read`` are
documented, the ``*_write`` names follow the same pattern and are not
confirmed on a live account.

    needed = required_scopes(settings)     # {"order_write": ["flow orders_from_erp"], ...}
"""

from __future__ import annotations

from syncd.config import Settings
from syncd.doctor.usage import CRM_SINK_KINDS, CRM_SOURCE_KINDS

READ_WRITE = ("read", "write")
FLOW_ENTITIES = {
    "order_sync": ("order", "customer"),
    "customer_sync": ("customer",),
    "purchase_history": ("order", "customer"),
}
CRM_ENTITIES = ("order", "customer")


def required_scopes(settings: Settings) -> dict[str, list[str]]:
    """Scope -> the parts of the configuration that need it, in config order."""
    needed: dict[str, list[str]] = {}

    def need(scope: str, why: str) -> None:
        reasons = needed.setdefault(scope, [])
        if why not in reasons:
            reasons.append(why)

    uses_crm = False
    for source in settings.sources:
        if source.enabled and source.kind in CRM_SOURCE_KINDS:
            uses_crm = True
            entity = str(source.options.get("entity", "order"))
            need(f"{entity}_read", f"source {source.name}")
    crm_sinks = {name for name, sink in settings.sinks.items() if sink.kind in CRM_SINK_KINDS}
    uses_crm = uses_crm or bool(crm_sinks)
    for flow in settings.flows:
        if flow.target not in crm_sinks:
            continue
        entities = FLOW_ENTITIES.get(flow.kind) or tuple(
            e for e in flow.entities if e in CRM_ENTITIES
        )
        for entity in entities:
            for access in READ_WRITE:
                need(f"{entity}_{access}", f"flow {flow.name}")
    if settings.crm.merge_duplicates:
        uses_crm = True
        for access in READ_WRITE:
            need(f"customer_{access}", "crm.merge_duplicates")
    if uses_crm:
        need("reference_read", "order statuses and sites")
    return needed
