"""Building the pipeline (sources, flows, sinks) from the configuration.

Each part kind registers itself under a name (``feed_file``, ``copy``,
``directory``, later ``retailcrm_history``, ``onec_odata`` …); the config
names kinds and gives their options, which each kind validates with its own
pydantic model.  Errors point at the config file line of the bad option.

    pipeline = build_pipeline(settings, PartContext(settings, metrics))
    pipeline.sources["erp_orders"].poll(None)
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from syncd.config import ConfigError, ConfigProblem, Settings
from syncd.engine.contracts import Flow, Part, PartContext, Sink, Source

_KINDS: dict[type[Part], dict[str, type[Part]]] = {Source: {}, Flow: {}, Sink: {}}

# Modules whose import registers part kinds; an installed plugin adds its own through
# the ``syncd.parts`` entry point group (syncd-sandbox: the feed_file source and the
# directory sink of the demo and the tests), a config through ``plugins:``.
PART_MODULES = (
    "syncd.connectors.retailcrm.history_source",
    "syncd.connectors.retailcrm.sink",
    "syncd.connectors.onec.exchange_source",
    "syncd.connectors.onec.soap_source",
    "syncd.connectors.onec.window_source",
    "syncd.connectors.onec.sink",
    "syncd.connectors.pos.source",
    "syncd.connectors.onec.retail_source",
    "syncd.connectors.onec.stock_source",
    "syncd.connectors.retailcrm.inventory_sink",
    "syncd.flows.copy",
    "syncd.flows.orders",
    "syncd.flows.robot_agreement",
    "syncd.flows.call_chain",
    "syncd.flows.customers",
    "syncd.flows.purchases",
    "syncd.flows.stock",
)


def register(cls: type[Part]) -> type[Part]:
    """Class decorator: make ``cls`` available to the config under ``cls.kind``."""
    for base, kinds in _KINDS.items():
        if issubclass(cls, base):
            if cls.kind in kinds and kinds[cls.kind] is not cls:
                raise ValueError(f"two {base.__name__} kinds named {cls.kind!r}")
            kinds[cls.kind] = cls
            return cls
    raise TypeError(f"{cls.__name__} is not a Source, Flow or Sink")


PART_ENTRY_POINTS = "syncd.parts"


@functools.cache
def _register_all() -> None:
    """Import what registers the part kinds, once (the installed plugins' entry points
    are read from every distribution's metadata: ~4 ms, per part configured before)."""
    for module in PART_MODULES:
        importlib.import_module(module)
    for plugin in entry_points(group=PART_ENTRY_POINTS):
        importlib.import_module(plugin.value)


def kinds(base: type[Part]) -> dict[str, type[Part]]:
    _register_all()
    return dict(_KINDS[base])


@dataclass
class Pipeline:
    sources: dict[str, Source] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    sinks: dict[str, Sink] = field(default_factory=dict)
    # who is who: the resolver customers.yaml ``matching`` configures (None: by keys)
    resolver: Any = None

    def directions(self) -> dict[str, set[str]]:
        """Source system → the systems its flows write to (for lag per direction)."""
        routes: dict[str, set[str]] = {}
        for flow in self.flows:
            routes.setdefault(flow.source_system, set()).add(self.sinks[flow.target].system)
        return routes

    def sink_system(self, sink_name: str) -> str:
        return self.sinks[sink_name].system

    def close(self) -> None:
        for part in [*self.sources.values(), *self.flows, *self.sinks.values()]:
            if part is not None:  # a part whose construction failed
                part.close()


def build_pipeline(settings: Settings, context: PartContext) -> Pipeline:
    """Instantiate every configured part; raise ConfigError listing every problem."""
    problems: list[ConfigProblem] = []
    pipeline = Pipeline()
    for i, module in enumerate(settings.plugins):
        try:
            importlib.import_module(module)
        except Exception as exc:  # report it with its line like any other config problem
            problems.append(settings.problem(["plugins", i], f"cannot import {module!r}: {exc}"))

    def options_for(base: type[Part], kind: str, where: list, raw: dict):  # noqa: ANN202
        known = kinds(base)
        if kind not in known:
            names = ", ".join(sorted(known)) or "none"
            problems.append(
                settings.problem(
                    [*where, "kind"],
                    f"unknown {base.__name__.lower()} kind {kind!r}; expected one of: {names}",
                )
            )
            return None, None
        cls = known[kind]
        try:
            return cls, cls.Options.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = [*where, "options", *err["loc"]]
                problems.append(settings.problem(loc, err["msg"]))
            return None, None

    for i, s in enumerate(settings.sources):
        if not s.enabled:
            continue
        cls, opts = options_for(Source, s.kind, ["sources", i], s.options)
        if cls is not None:
            pipeline.sources[s.name] = _construct(
                problems, settings, ["sources", i], cls, s.name, s.system, opts, context
            )
    for name, s in settings.sinks.items():
        cls, opts = options_for(Sink, s.kind, ["sinks", name], s.options)
        if cls is not None:
            pipeline.sinks[name] = _construct(
                problems, settings, ["sinks", name], cls, name, s.system, opts, context
            )
    for i, f in enumerate(settings.flows):
        cls, opts = options_for(Flow, f.kind, ["flows", i], f.options)
        if cls is not None:
            pipeline.flows.append(
                _construct(
                    problems,
                    settings,
                    ["flows", i],
                    cls,
                    f.name,
                    f.source_system,
                    f.entities,
                    f.target,
                    opts,
                    context,
                )
            )
    if problems:
        pipeline.close()
        raise ConfigError(problems)
    # the flows that identify people read the mapping files: their customers.yaml says how
    mapped = [f for f in pipeline.flows if getattr(f, "mappings", None) is not None]
    if mapped:
        pipeline.resolver = mapped[0].mappings.customers.resolver()
    return pipeline


def _construct(problems, settings, where, cls, *args):  # noqa: ANN001, ANN202
    """Parts may refuse their options in __init__ with ValueError (e.g. a missing folder)."""
    try:
        return cls(*args)
    except ValueError as exc:
        problems.append(settings.problem([*where, "options"], str(exc)))
        return None
