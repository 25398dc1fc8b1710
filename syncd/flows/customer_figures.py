"""The flows' side of a customer's figures: rules from the mappings, and each purchase's record.

The figures themselves are pure (``figures``); the order and purchase-history
flows share what ties them to the store:

- the customer's figures are the facts of ``("identity", "customer", id)``;
- every purchase records what it counted for (its entry and the customer,
  under ``RECORD``) where its flow finds it again when it changes: an online
  order in its own facts (``("erp", "order", ref)``), a receipt on the
  binding of its CRM order (``("crm", "order", "pos-<group>-<receipt>")``,
  also for a return, which has no CRM order: that binding holds only the
  record).  A purchase that is not live any more but has a record is in the
  customer's ``settled`` totals, and is taken out of them before it counts again;
- figures written before entries were folded (``figures.is_legacy``) have no
  records yet: the first event of such a customer writes one for each of its
  entries (once), before any entry is folded.
"""

from __future__ import annotations

from typing import Any

from syncd.engine.contracts import FlowContext
from syncd.flows import figures
from syncd.mappings.load import Mappings

RECORD = "figures"  # the key of a purchase's record in its facts
Ref = tuple[str, str, str]


def rules_of(mappings: Mappings) -> figures.Rules:
    """Completed = the last stage, cancelled = the terminal ones (statuses.yaml)."""
    statuses = mappings.statuses
    return figures.Rules(
        completed=frozenset({statuses.stages[-1]}),
        cancelled=frozenset(statuses.terminal),
        keep=mappings.customers.figures.live_entries,
        redemption=mappings.customers.figures.redemption,
    )


def fields_of(mappings: Mappings, figs: dict) -> dict[str, Any]:
    """The CRM custom fields of the figures (customers.yaml ``figures``)."""
    values = figures.compute(figs, rules_of(mappings))
    return figures.custom_fields(values, mappings.customers.figures.codes())


def customer_ref(identity: int) -> Ref:
    return ("identity", "customer", str(identity))


def receipt_ref(group: Any, receipt_id: Any) -> Ref:
    """Where a receipt's record is kept: the binding of its CRM order."""
    return ("crm", "order", f"pos-{group}-{receipt_id}")


def record(entry: dict, identity: int) -> dict:
    return {**entry, "customer": identity}


def counted_before(rec: dict | None, identity: int) -> dict | None:
    """The entry a purchase's record (``RECORD`` in its facts) says it counted for
    with this customer, if any."""
    if not isinstance(rec, dict) or rec.get("customer") != identity:
        return None  # never counted, or counted for another customer (left there)
    return {k: v for k, v in rec.items() if k != "customer"}


def legacy_records(
    ctx: FlowContext, identity: int, figs: dict, own: str | None = None
) -> dict[Ref, dict]:
    """Records for every entry of figures written before folding (``Plan.remember``).

    ``own``: the online order being planned, which records itself.  An order
    whose facts already hold a record keeps it.  A receipt's key is
    ``<group>:<receipt>``, read as split at the first colon.
    """
    found: dict[Ref, dict] = {}
    for ref, entry in (figs.get("online") or {}).items():
        if ref == own:
            continue
        facts = ctx.facts("erp", "order", ref)
        if facts is not None and RECORD not in facts:
            found[("erp", "order", ref)] = {**facts, RECORD: record(entry, identity)}
    for key, entry in (figs.get("offline") or {}).items():
        group, _, receipt_id = key.partition(":")
        found[receipt_ref(group, receipt_id)] = {RECORD: record(entry, identity)}
    return found
