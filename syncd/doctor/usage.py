"""What a configuration uses, read from its parts without building them or connecting.

``syncd check`` checks only what the configured sources, flows and sinks
need: 1C when a 1C part is configured (or ``erp.odata_url`` is set), the CRM
likewise, the mapping files when a flow reads them, an exchange-plan node per
``erp_exchange`` source, the webhook secret when a source takes webhooks.
Part kinds come from the same registry ``syncd run`` builds from, so a
plugin's kinds count too.

    usage = Usage.of(settings)
    usage.erp, usage.crm, usage.mapped_flows, usage.exchange_nodes, usage.webhook_paths
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from syncd.config import Settings

ERP_SOURCE_KINDS = frozenset({"erp_exchange", "erp_window", "erp_soap"})
# what each use of the 1C web service calls (syncd's names: erp.soap.operations)
SOAP_READING = ("describe", "received_no", "select_changes", "notify_changes_received")
ERP_SINK_KINDS = frozenset({"erp"})
CRM_SOURCE_KINDS = frozenset({"retailcrm_history"})
CRM_SINK_KINDS = frozenset({"retailcrm"})


@dataclass(frozen=True)
class ExchangeNodeUse:
    source: str
    plan: str
    node: str


@dataclass
class Usage:
    erp: bool = False
    crm: bool = False
    mapped_flows: list[str] = field(default_factory=list)
    exchange_nodes: list[ExchangeNodeUse] = field(default_factory=list)
    erp_sets: dict[str, str] = field(default_factory=dict)  # 1C set -> the source reading it
    erp_systems: set[str] = field(default_factory=set)  # the systems 1C sources store under
    webhook_paths: dict[str, str] = field(default_factory=dict)  # path -> the source
    # the 1C web service: syncd's operation -> the part that calls it; soap_nodes: the
    # node code each erp_soap source reads
    soap_operations: dict[str, str] = field(default_factory=dict)
    soap_nodes: dict[str, str] = field(default_factory=dict)  # source -> node code
    erp_odata: bool = False  # anything reads or writes 1C through OData (not SOAP alone)

    @classmethod
    def of(cls, settings: Settings) -> Usage:
        from syncd.engine.contracts import Flow, Source
        from syncd.engine.pipeline import kinds
        from syncd.flows.mapped import MappedFlow

        source_kinds, flow_kinds = kinds(Source), kinds(Flow)
        usage = cls()
        sources = [s for s in settings.sources if s.enabled]
        sink_kinds = {s.kind for s in settings.sinks.values()}
        usage.erp = bool(
            settings.erp.odata_url
            or any(s.kind in ERP_SOURCE_KINDS for s in sources)
            or sink_kinds & ERP_SINK_KINDS
        )
        usage.crm = bool(
            settings.crm.url
            or any(s.kind in CRM_SOURCE_KINDS for s in sources)
            or sink_kinds & CRM_SINK_KINDS
        )
        usage.mapped_flows = [
            f.name
            for f in settings.flows
            if isinstance(flow_kinds.get(f.kind), type)
            and issubclass(flow_kinds[f.kind], MappedFlow)
        ]
        for source in sources:
            cls_ = source_kinds.get(source.kind)
            options = _options(cls_, source.options)
            if options is None:
                continue  # `configuration` reports the bad options
            if cls_.webhooks is not Source.webhooks:
                for path in _webhook_paths(settings, source, cls_, options):
                    usage.webhook_paths.setdefault(path, source.name)
            if source.kind in ERP_SOURCE_KINDS:
                usage.erp_systems.add(source.system)
            if source.kind == "erp_soap":
                usage.soap_nodes[source.name] = options.node
                for operation in SOAP_READING:
                    usage.soap_operations.setdefault(operation, f"source {source.name}")
                for set_name in options.sets:
                    usage.erp_sets.setdefault(set_name, source.name)
            if source.kind == "erp_exchange":
                usage.exchange_nodes.append(
                    ExchangeNodeUse(source.name, options.plan, options.node)
                )
                for set_name in options.sets:
                    usage.erp_sets.setdefault(set_name, source.name)
            elif source.kind == "erp_window":
                usage.erp_sets.setdefault(options.set, source.name)
        for name, sink in settings.sinks.items():
            if sink.kind == "erp" and (sink.options or {}).get("status_via") == "soap":
                usage.soap_operations.setdefault("set_order_status", f"sink {name}")
                if not settings.erp.odata_url:
                    usage.soap_operations.setdefault("get_object", f"sink {name}")
        # OData is used unless every 1C part goes through the web service and no URL is set
        odata_parts = any(s.kind in ("erp_exchange", "erp_window") for s in sources)
        soap_sinks_only = all(
            (s.options or {}).get("status_via") == "soap"
            for s in settings.sinks.values()
            if s.kind == "erp"
        )
        usage.erp_odata = usage.erp and bool(
            settings.erp.odata_url or odata_parts or not soap_sinks_only
        )
        return usage


def _options(cls: Any, raw: dict) -> Any:
    if cls is None:
        return None
    try:
        return cls.Options.model_validate(raw)
    except ValidationError:
        return None


def _webhook_paths(settings: Settings, source: Any, cls: Any, options: Any) -> list[str]:
    """The paths the source serves: asked of the source itself (building it connects nowhere)."""
    from syncd.engine.contracts import PartContext

    try:
        part = cls(source.name, source.system, options, PartContext(settings, None))
    except Exception:  # noqa: BLE001 - `configuration` reports why it cannot be built
        return [getattr(options, "webhook_path", None) or f"/webhooks/{source.name}"]
    try:
        return [route.path for route in part.webhooks()]
    finally:
        part.close()
