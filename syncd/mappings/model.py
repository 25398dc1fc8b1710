"""The mapping files, declared once: pydantic models that also give the JSON Schema.

Three files in the mappings folder:

- ``orders.yaml``   — 1C customer order ↔ CRM order: fields, goods lines, customer;
- ``statuses.yaml`` — the order's progress: stages in order, which CRM statuses
  and which 1C states mean each stage, what to write on each side;
- ``customers.yaml``— 1C partner ↔ CRM customer, and how to find one by phone/e-mail.

``python -m syncd.mappings.model`` writes ``mappings/schema/*.schema.json``;
each file names its schema on its first line, so editors autocomplete it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Owner = Literal["erp", "crm", "none"]
Direction = Literal["both", "erp_to_crm", "crm_to_erp"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CodeMap(_Strict):
    codes: dict[str, str] = Field(..., description="1C value -> CRM code")
    default: str | None = Field(None, description="CRM code for a 1C value not listed")


class FieldMap(_Strict):
    erp: str = Field(..., description="1C field, as in $metadata (e.g. Комментарий)")
    crm: str = Field(..., description="CRM field; dots for nested ones (delivery.code)")
    transform: Literal["text", "money", "quantity", "datetime", "phone", "email"] | CodeMap = "text"
    direction: Direction = "erp_to_crm"
    owner: Owner = Field("erp", description="who wins when both sides changed it in one cycle")


class ItemsMap(_Strict):
    section: str = Field("Товары", description="the 1C tabular section of goods")
    offer: str = Field("Номенклатура_Key", description="1C field -> items[].offer.externalId")
    quantity: str = "Количество"
    price: str = "Цена"
    cancelled: str | None = Field("Отменено", description="1C flag of a cancelled line")


class PaymentStateMap(_Strict):
    """Which attributes of 1C's order state record carry its payment state."""

    percent: str | None = Field("ПроцентОплаты", description="how much is paid, 0..100")
    amount: str | None = Field("СуммаОплаты", description="how much is paid, in money")


class PaymentsToErp(_Strict):
    """The CRM's payments, written to a 1C order field so the warehouse sees prepaid orders."""

    field: str = Field(..., description="the 1C order field syncd sets, as in $metadata")
    value: Literal["flag", "amount"] = Field(
        "flag",
        description="flag: true once the paid payments cover the order's total (an "
        "Edm.Boolean field); amount: the sum paid (an Edm.Double field)",
    )
    paid_statuses: list[str] = Field(
        default_factory=lambda: ["paid"],
        min_length=1,
        description="CRM payment statuses that count as money received",
    )


class OrdersMapping(_Strict):
    erp_set: str = "Document_ЗаказКлиента"
    state_set: str | None = Field(
        "InformationRegister_СостоянияЗаказовКлиентов",
        description="1C register with the order's state (key field Заказ)",
    )
    payment_state: PaymentStateMap = Field(
        default_factory=PaymentStateMap,
        description="the state record's payment attributes, kept in syncd's facts of the order",
    )
    delivery_set: str | None = Field(
        "InformationRegister_СтатусыСборкиИДоставки",
        description="1C register with the order's assembly and delivery status (key field "
        "Распоряжение; its Статус is mapped by statuses.yaml erp_delivery), or null",
    )
    payments_to_erp: PaymentsToErp | None = Field(
        None,
        description="the CRM's online payments -> a 1C order field (off when null)",
    )
    order_type: str | None = Field(None, description="CRM orderType of orders syncd creates")
    order_method: str | None = Field(None, description="CRM orderMethod of orders syncd creates")
    customer_field: str = Field("Партнер_Key", description="1C field -> customer.externalId")
    total_field: str = Field("СуммаДокумента", description="1C field with the order's total")
    agreed_field: str | None = Field(
        "Согласован",
        description="1C flag set when the order is posted in a status put into work; until "
        "it is true, the status counts as not agreed yet (null: no such flag)",
    )
    fields: list[FieldMap] = Field(default_factory=list)
    items: ItemsMap = Field(default_factory=ItemsMap)


class ErpStageWrite(_Strict):
    fields: dict[str, str | bool] = Field(..., description="1C fields to set, e.g. Статус")
    cancel_lines: bool = Field(False, description="also mark every goods line cancelled")


class StatusesMapping(_Strict):
    stages: list[str] = Field(
        ..., min_length=2, description="the order's stages, in the order they happen"
    )
    terminal: list[str] = Field(
        default_factory=list, description="stages that end the order whatever came before"
    )
    crm: dict[str, str] = Field(..., description="CRM status code -> stage")
    crm_write: dict[str, str] = Field(..., description="stage -> CRM status syncd sets")
    erp_states: dict[str, str] = Field(
        default_factory=dict, description="1C state (СостоянияЗаказовКлиентов) -> stage"
    )
    erp_statuses: dict[str, str] = Field(
        default_factory=dict, description="1C order Статус -> stage (when no state is known)"
    )
    erp_delivery: dict[str, str] = Field(
        default_factory=dict,
        description="1C assembly and delivery Статус (СтатусыСборкиИДоставки) -> stage",
    )
    erp_write: dict[str, ErpStageWrite] = Field(
        default_factory=dict, description="stage decided in the CRM -> what syncd sets in 1C"
    )
    new_order_stage: str = Field("new", description="stage of an order syncd creates in the CRM")
    erp_cancelled_stage: str | None = Field(
        "cancelled", description="stage of a 1C order whose goods lines are all cancelled"
    )

    @model_validator(mode="after")
    def _stages_known(self) -> StatusesMapping:
        known = set(self.stages) | set(self.terminal)
        for where, values in (
            ("crm", self.crm.values()),
            ("crm_write", self.crm_write),
            ("erp_states", self.erp_states.values()),
            ("erp_statuses", self.erp_statuses.values()),
            ("erp_delivery", self.erp_delivery.values()),
            ("erp_write", self.erp_write),
            ("new_order_stage", [self.new_order_stage]),
            ("erp_cancelled_stage", [self.erp_cancelled_stage] if self.erp_cancelled_stage else []),
        ):
            for stage in values:
                if stage not in known:
                    raise ValueError(f"{where}: stage {stage!r} is not in stages or terminal")
        for stage, code in self.crm_write.items():
            # what syncd sets must read back as that stage, or the CRM side always looks
            # behind and the status is written again on every event
            if code in self.crm and self.crm[code] != stage:
                raise ValueError(
                    f"crm_write: stage {stage!r} sets {code!r}, which crm maps to the stage "
                    f"{self.crm[code]!r}: map {code!r} to {stage!r} or set another status"
                )
        return self


FIGURES = (
    "redemption_rate",
    "ltv",
    "online_orders",
    "offline_orders",
    "average_check",
    "last_purchase",
)


class FiguresMapping(_Strict):
    """customers.yaml ``figures``: figure -> CRM custom field code, and ``live_entries``.

    Written out, only the figures listed are written to the CRM (as before
    ``live_entries`` existed); left out altogether, all six, each under its own name.
    """

    redemption_rate: str | None = "redemption_rate"
    ltv: str | None = "ltv"
    online_orders: str | None = "online_orders"
    offline_orders: str | None = "offline_orders"
    average_check: str | None = "average_check"
    last_purchase: str | None = "last_purchase"
    redemption: Literal["completed_share", "completed_to_cancelled"] = Field(
        "completed_share",
        description="the redemption rate: completed / (completed + cancelled) online orders "
        "(completed_share, 0..1), or completed / cancelled (completed_to_cancelled, the "
        "ratio as the seed words it: above 1 when more are completed, none without a "
        "cancelled order)",
    )
    live_entries: int = Field(
        20,
        ge=1,
        le=1000,
        description="purchases kept one by one per customer; older final ones (receipts, "
        "completed or cancelled orders) are folded into exact totals",
    )

    @model_validator(mode="before")
    @classmethod
    def _listed_only(cls, data: object) -> object:
        if isinstance(data, dict):
            return {**dict.fromkeys(FIGURES), **data}
        return data

    def codes(self) -> dict[str, str]:
        """figure -> the CRM custom field it is written to (the ones listed)."""
        return {name: code for name in FIGURES if (code := getattr(self, name))}


class MatchingMapping(_Strict):
    """customers.yaml ``matching``: how records are matched to customers (docs/pos.md)."""

    method: Literal["keys", "model"] = Field(
        "keys",
        description="keys: a shared card, phone or e-mail decides, names checked among the "
        "customers sharing one; model: every field weighed (Fellegi-Sunter), typos in "
        "cards and phones and records with no identifier matched by name, birth date and "
        "address",
    )
    threshold: float = Field(
        0.99,
        gt=0.5,
        lt=1.0,
        description="model: the match probability from which a record joins a customer",
    )
    prior: float = Field(
        0.01,
        gt=0.0,
        lt=1.0,
        description="model: the share of matches among candidate pairs assumed before the "
        "fields are weighed; lower is more cautious",
    )


class CustomersMapping(_Strict):
    erp_set: str = "Catalog_Партнеры"
    contacts_section: str = Field("КонтактнаяИнформация", description="1C contact rows")
    contact_kind: str = Field("Тип", description="the row's kind: Телефон, АдресЭлектроннойПочты")
    contact_value: str = Field("Представление", description="the row's value")
    name: str = Field("Description", description="1C field with the full name")
    birth_date: str | None = Field(
        None,
        description="1C field with the partner's birth date (e.g. ДатаРождения), compared "
        "when matching.method is model",
    )
    default_region: str = Field("RU", description="region for phones written without +")
    match_by: list[Literal["phone", "email"]] = Field(default_factory=lambda: ["phone", "email"])
    figures: FiguresMapping = Field(
        default_factory=lambda: FiguresMapping(**{name: name for name in FIGURES}),
        description="the customer's figures: the CRM custom field (code) each is written to, "
        "and how many purchases are kept one by one",
    )
    offline_site: str | None = Field(
        None, description="CRM site of offline purchases (default: crm.site)"
    )
    offline_order_method: str = Field("offline", description="orderMethod of offline purchases")
    matching: MatchingMapping = Field(
        default_factory=MatchingMapping,
        description="how records of people are matched to customers",
    )

    def resolver(self):  # noqa: ANN201
        """The resolver this mapping configures (``Resolver`` or ``ModelResolver``)."""
        if self.matching.method == "model":
            from syncd.identity.model_resolver import ModelResolver

            return ModelResolver(self.default_region, self.matching.threshold, self.matching.prior)
        from syncd.identity.resolver import Resolver

        return Resolver(self.default_region)


class PosCsvMapping(_Strict):
    """A store group's CSV export: which column holds what (one row per receipt line)."""

    columns: dict[
        Literal[
            "receipt_id",
            "store",
            "datetime",
            "date",
            "time",
            "item",
            "sku",
            "quantity",
            "price",
            "amount",
            "total",
            "phone",
            "email",
            "card",
            "name",
            "birth_date",
            "operation",
        ],
        str,
    ] = Field(..., description="syncd's field -> the column's header in the file")
    required: list[str] = Field(
        default_factory=lambda: ["receipt_id", "datetime", "amount"],
        description="rows missing one of these are rejected",
    )
    date_formats: list[str] = Field(
        default_factory=lambda: [
            "%d.%m.%Y %H:%M:%S",
            "%d.%m.%Y %H:%M",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M:%S",
            "%d.%m.%Y",
        ],
    )
    timezone: str = Field("Europe/Moscow", description="the stores' zone (receipts carry none)")
    returns: list[str] = Field(
        default_factory=lambda: ["возврат", "return", "2"],
        description="values of the operation column that mean a return",
    )


FILES: dict[str, type[BaseModel]] = {
    "orders.yaml": OrdersMapping,
    "statuses.yaml": StatusesMapping,
    "customers.yaml": CustomersMapping,
}


def write_schemas(folder: Path) -> list[Path]:
    """The JSON Schema of each file, as editors read them."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    from syncd.mappings.items import ItemsMapping
    from syncd.mappings.robot import RobotMapping

    extra = {"pos_csv.yaml": PosCsvMapping, "robot.yaml": RobotMapping, "items.yaml": ItemsMapping}
    for name, model in {**FILES, **extra}.items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = f"syncd {name}"
        path = folder / name.replace(".yaml", ".schema.json")
        path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_schemas(Path(__file__).resolve().parents[2] / "mappings" / "schema"):
        print(path)
