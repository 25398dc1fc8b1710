"""What syncd remembers of an order, typed: each side's last state and the base.

Per order the flow keeps (in the binding of its 1C ref, ``facts``):

- ``erp`` (``ErpSide``): what 1C last showed — its ``DataVersion``, status,
  posted and agreed flags, mapped fields, partner, total, date, the state
  record's value and payment state (``paid_percent``, ``paid_amount``), the
  assembly/delivery status (``delivery``), the inbox ids of the events folded
  in, and the stage all that means (``erp_paid_percent`` reads the percent
  from the stored facts);
- ``crm`` (``CrmSide``): what the CRM last showed — its id, status, mapped
  fields, the history id and event folded in, and the stage;
- ``base`` (``Base``): the stage and fields both sides were last brought to;
- ``created`` (the CRM order exists), ``take`` (an operator's choice on a
  conflict, counted once) and ``counted`` (``Counted``: what the order counts
  for in its customer's figures).

The JSON kept in the store is the same as before this model: a key holds a
value or is absent (``None`` is never stored), keys syncd does not know are
kept as they are (``extra``), and ``order_facts`` leaves out of each side the
fields it shares with the base.

    state = OrderState.from_stored(order_facts.unpack(stored))
    state.erp.stage, state.base.fields["number"]
    stored = order_facts.pack(state.stored())
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Self


@dataclass(slots=True)
class _Part:
    """A JSON object with known keys (the dataclass fields) and any others (``extra``)."""

    extra: dict[str, Any] = field(default_factory=dict, kw_only=True)
    COPIED: ClassVar[tuple[str, ...]] = ()  # dict values copied on load (changed in place)

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> Self:
        known = cls._known()
        values = {k: v for k, v in stored.items() if k in known}
        for k in cls.COPIED:
            if isinstance(values.get(k), dict):
                values[k] = dict(values[k])
        return cls(**values, extra={k: v for k, v in stored.items() if k not in known})

    def stored(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self._known()}
        return {k: v for k, v in out.items() if v is not None} | self.extra

    @classmethod
    def _known(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls) if f.name != "extra")


@dataclass(slots=True)
class ErpSide(_Part):
    """What 1C last showed of the order (``order_mapper.erp_side``), and its stage."""

    version: str | None = None  # DataVersion
    status: str | None = None  # Статус
    posted: bool | None = None
    agreed: bool | None = None
    fields: dict[str, Any] | None = None  # mapped fields, by CRM name
    lines: list[dict] | None = None  # goods lines, kept until the CRM order is created
    all_cancelled: bool | None = None
    customer: str | None = None  # the partner's 1C ref
    total: float | None = None
    date: str | None = None
    stage: str | None = None
    event: int | None = None  # the inbox id of the order event folded in last
    state: str | None = None  # the state record's Состояние
    state_event: int | None = None  # the inbox id of the state event folded in last
    paid_percent: float | None = None  # the state record's ПроцентОплаты, as 1C sent it
    paid_amount: float | None = None  # the state record's СуммаОплаты
    delivery: str | None = None  # СтатусыСборкиИДоставки.Статус
    delivery_event: int | None = None  # the inbox id of the delivery event folded in last
    COPIED: ClassVar[tuple[str, ...]] = ("fields",)

    def take(self, seen: ErpSide) -> None:
        """Take all an order event showed (``order_mapper.erp_side``): the state and
        delivery records' values and the stage are not the order's to say."""
        for k in _ORDER_KEYS:
            setattr(self, k, getattr(seen, k))


@dataclass(slots=True)
class CrmSide(_Part):
    """What the CRM last showed of the order (``order_mapper.crm_side``), and its stage."""

    id: int | None = None
    status: str | None = None
    stage: str | None = None
    fields: dict[str, Any] | None = None
    history_id: int | None = None  # the history record folded in last
    event: int | None = None  # its inbox id
    COPIED: ClassVar[tuple[str, ...]] = ("fields",)


@dataclass(slots=True)
class Base(_Part):
    """The stage and fields both sides were last brought to."""

    stage: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    COPIED: ClassVar[tuple[str, ...]] = ("fields",)


@dataclass(slots=True)
class Counted(_Part):
    """What the order counts for in its customer's figures (``figures.online_entry``)."""

    at: str | None = None
    stage: str | None = None
    total: float | None = None
    customer: int | None = None  # the identity it counted for


# what the state and delivery records say (and the stage) is kept when the order changes
_RECORD_KEYS = {"state", "state_event", "paid_percent", "paid_amount", "delivery", "delivery_event"}
_ORDER_KEYS = ErpSide._known() - {"stage", "event"} - _RECORD_KEYS
_PARTS = {"erp": ErpSide, "crm": CrmSide, "base": Base, "figures": Counted}


@dataclass(slots=True)
class OrderState:
    """The whole of what syncd remembers of one order."""

    erp: ErpSide | None = None
    crm: CrmSide | None = None
    base: Base | None = None
    created: bool = False
    take: str | None = None  # "erp" | "crm": an operator's choice, counted once
    counted: Counted | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> OrderState:
        """From the facts as stored (unpacked: ``order_facts.unpack``)."""
        parts = {
            ("counted" if key == "figures" else key): kind.from_stored(stored[key])
            for key, kind in _PARTS.items()
            if isinstance(stored.get(key), dict)
        }
        known = set(_PARTS) | {"created", "take"}
        return cls(
            **parts,
            created=stored.get("created") is True,
            take=stored.get("take"),
            extra={k: v for k, v in stored.items() if k not in known},
        )

    def stored(self) -> dict[str, Any]:
        """The facts to store (before ``order_facts.pack``)."""
        out: dict[str, Any] = dict(self.extra)
        for key, part in (("erp", self.erp), ("crm", self.crm), ("base", self.base)):
            if part is not None:
                out[key] = part.stored()
        if self.counted is not None:
            out["figures"] = self.counted.stored()
        if self.created:
            out["created"] = True
        if self.take is not None:
            out["take"] = self.take
        return out

    @property
    def base_stage(self) -> str | None:
        return self.base.stage if self.base is not None else None

    def erp_side(self) -> ErpSide:
        """1C's side, made when there is none yet."""
        if self.erp is None:
            self.erp = ErpSide()
        return self.erp

    def crm_side(self) -> CrmSide:
        """The CRM's side, made when there is none yet."""
        if self.crm is None:
            self.crm = CrmSide()
        return self.crm


def erp_paid_percent(facts: dict | None) -> Decimal | None:
    """How much of the order 1C counts paid (``ПроцентОплаты``, 0..100), from the facts
    stored for ``("erp", "order", <1C ref>)`` as ``ctx.facts`` returns them; None when
    1C has not said (no state record read yet, or a base whose state has no percent)."""
    erp = (facts or {}).get("erp")
    value = erp.get("paid_percent") if isinstance(erp, dict) else None
    if value is None or isinstance(value, bool):
        return None
    try:
        percent = Decimal(str(value))
    except InvalidOperation:
        return None
    return percent if percent.is_finite() else None
