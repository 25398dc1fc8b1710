"""What the sandbox 1C publishes: objects, fields, types, and its ``$metadata``.

A trimmed УТ 11.5 composition, declared once as data: the objects syncd
reads and writes, with the field names, Edm types and conventions of the
real platform (``X_Key`` references, ``X`` + ``X_Type`` composites, enums as
plain strings, tabular sections as ``Collection(…_RowType)``, ``DataVersion``
on reference objects, a recorder register keyed by ``Recorder``).

    SCHEMA["Document_ЗаказКлиента"].fields["Статус"]   # "Edm.String"
    metadata_xml()                                      # the CSDL v3 document
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

NAMESPACE = "StandardODATA"
EXCHANGE_PLAN = "ExchangePlan_СинхронизацияSyncd"

# The configuration's enums: the sandbox's business logic knows them, but a real
# publication does not list them in $metadata (reference §0 item 23).
ENUMS = {
    "СтатусыЗаказовКлиентов": ["НеСогласован", "КОбеспечению", "КОтгрузке", "Закрыт"],
    "СостоянияЗаказовКлиентов": [
        "ОжидаетсяСогласование",
        "ОжидаетсяАвансДоОбеспечения",
        "ГотовКОбеспечению",
        "ОжидаетсяПредоплатаДоОтгрузки",
        "ОжидаетсяОбеспечение",
        "ГотовКОтгрузке",
        "ВПроцессеОтгрузки",
        "ОжидаетсяОплатаПослеОтгрузки",
        "ГотовКЗакрытию",
        "Закрыт",
    ],
    "ВариантыОбеспечения": [
        "Отгрузить",
        "СоСклада",
        "РезервироватьПоМереПоступления",
        "КОбеспечению",
        "НеТребуется",
        "ПереданРанее",
    ],
    "СтатусыРеализацийТоваровУслуг": ["КПредоплате", "ВПути", "Отгружено"],
    "СтатусыСборкиИДоставки": [
        "Обрабатывается",
        "КСборке",
        "Собирается",
        "Собран",
        "ГотовКДоставке",
        "Доставляется",
        "Доставлен",
        "Отменен",
        "Возвращен",
    ],
    "ВидыДвиженийНакопления": ["Receipt", "Expense"],
    "СтатусыЧековККМ": ["Отложенный", "Аннулированный", "Пробитый", "Архивный"],
}


# What a real $metadata does publish: the platform's enums only (7 in the
# recorded УТ demo base, one name twice, as recorded).
PLATFORM_ENUMS = [
    ("AccountType", ["Active", "ActivePassive", "Passive"]),
    ("AccountingRecordType", ["Credit", "Debit"]),
    ("AccumulationRecordType", ["Expense", "Receipt"]),
    ("AllowedSign", ["Any", "Nonnegative"]),
    ("AllowedLength", ["Fixed", "Variable"]),
    ("DateFractions", ["Date", "DateTime", "Time"]),
    ("AllowedLength", ["Fixed", "Variable"]),
]
_PUBLISHED: set[str] = set()  # filled once the objects below are declared
OPEN_TYPES = {"Document_РеализацияТоваровУслуг", "Catalog_Номенклатура"}
# which object a reference attribute points to, for Association ends
REFERENCE_TARGETS = {
    "Партнер": "Catalog_Партнеры",
    "Контрагент": "Catalog_Контрагенты",
    "Склад": "Catalog_Склады",
    "Номенклатура": "Catalog_Номенклатура",
    "Parent": "Catalog_Номенклатура",
    "ДисконтнаяКарта": "Catalog_ИнформационныеКарты",
}


@dataclass
class ObjectSchema:
    """One published object: its kind, key, fields and tabular sections."""

    name: str
    kind: str  # catalog | document | info_register | accumulation_register | exchange_plan
    fields: dict[str, str]
    key: tuple[str, ...] = ("Ref_Key",)
    tabular: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def has_version(self) -> bool:
        return "DataVersion" in self.fields

    def row_type(self, section: str) -> str:
        return f"{self.name}_{section}_RowType"

    @property
    def references(self) -> list[str]:
        """``X_Key`` fields whose target is published: each has a navigation property ``X``
        (a real publication has none towards an object outside its composition)."""
        return [
            n
            for n, t in self.fields.items()
            if n.endswith("_Key") and t == "Edm.Guid" and n != "Ref_Key"
            if REFERENCE_TARGETS.get(n[:-4]) in _PUBLISHED
        ]

    @property
    def open_type(self) -> bool:
        """Recorded publications mark registers and some objects ``OpenType``."""
        return self.kind.endswith("register") or self.name in OPEN_TYPES


REF = {"Ref_Key": "Edm.Guid", "DataVersion": "Edm.String", "DeletionMark": "Edm.Boolean"}
CATALOG = {**REF, "Code": "Edm.String", "Description": "Edm.String"}
DOCUMENT = {**REF, "Number": "Edm.String", "Date": "Edm.DateTime", "Posted": "Edm.Boolean"}
ROW = {"Ref_Key": "Edm.Guid", "LineNumber": "Edm.Int64"}
GOODS_ROW = {
    **ROW,
    "Номенклатура_Key": "Edm.Guid",
    "Количество": "Edm.Double",
    "Цена": "Edm.Double",
    "Сумма": "Edm.Double",
}

# ТоварыНаСкладах (reference §0 item 25): its dimensions and resources
STOCK_DIMENSIONS = ("Номенклатура", "Характеристика", "Назначение", "Склад", "Помещение", "Серия")
STOCK_RESOURCES = ("ВНаличии", "КОтгрузке")
STOCK_RECORD = {
    "Recorder": "Edm.String",
    "Recorder_Type": "Edm.String",
    "LineNumber": "Edm.Int64",
    "Period": "Edm.DateTime",
    "Active": "Edm.Boolean",
    "RecordType": "Edm.String",
    **{f"{d}_Key": "Edm.Guid" for d in STOCK_DIMENSIONS},
    **{r: "Edm.Double" for r in STOCK_RESOURCES},
}

_OBJECTS = [
    ObjectSchema(
        "Catalog_Партнеры",
        "catalog",
        {
            **CATALOG,
            "Parent_Key": "Edm.Guid",
            "IsFolder": "Edm.Boolean",
            "НаименованиеПолное": "Edm.String",
            "Клиент": "Edm.Boolean",
            "ДатаРегистрации": "Edm.DateTime",
        },
        tabular={
            "КонтактнаяИнформация": {
                **ROW,
                "Тип": "Edm.String",
                "Представление": "Edm.String",
                "НомерТелефона": "Edm.String",
                "АдресЭП": "Edm.String",
            }
        },
    ),
    ObjectSchema(
        "Catalog_Контрагенты",
        "catalog",
        {**CATALOG, "Партнер_Key": "Edm.Guid", "ИНН": "Edm.String"},
    ),
    ObjectSchema(
        "Catalog_Номенклатура",
        "catalog",
        {**CATALOG, "Parent_Key": "Edm.Guid", "IsFolder": "Edm.Boolean", "Артикул": "Edm.String"},
    ),
    ObjectSchema("Catalog_Склады", "catalog", {**CATALOG, "Адрес": "Edm.String"}),
    ObjectSchema(
        "Document_ЗаказКлиента",
        "document",
        {
            **DOCUMENT,
            "Статус": "Edm.String",
            "Согласован": "Edm.Boolean",
            "ДатаСогласования": "Edm.DateTime",
            "Партнер_Key": "Edm.Guid",
            "Контрагент_Key": "Edm.Guid",
            "Склад_Key": "Edm.Guid",
            "ДатаОтгрузки": "Edm.DateTime",
            "НомерПоДаннымКлиента": "Edm.String",
            "Комментарий": "Edm.String",
            "ХозяйственнаяОперация": "Edm.String",
            "СпособДоставки": "Edm.String",
            "АдресДоставки": "Edm.String",
            "СуммаДокумента": "Edm.Double",
            "Автор": "Edm.String",
            "Автор_Type": "Edm.String",
            # not in a stock УТ: an attribute an integrator adds by a configuration
            # extension, so the warehouse sees orders paid online (orders.yaml
            # payments_to_erp names it; a real base names it its own way)
            "ОплаченоОнлайн": "Edm.Boolean",
        },
        tabular={
            "Товары": {
                **GOODS_ROW,
                "ВариантОбеспечения": "Edm.String",
                "Отменено": "Edm.Boolean",
                "Склад_Key": "Edm.Guid",
                "КодСтроки": "Edm.Int64",
            }
        },
    ),
    ObjectSchema(
        "Document_РеализацияТоваровУслуг",
        "document",
        {
            **DOCUMENT,
            "Статус": "Edm.String",
            "Согласован": "Edm.Boolean",
            "Партнер_Key": "Edm.Guid",
            "Склад_Key": "Edm.Guid",
            "ЗаказКлиента": "Edm.String",
            "ЗаказКлиента_Type": "Edm.String",
            "СуммаДокумента": "Edm.Double",
        },
        tabular={"Товары": GOODS_ROW},
    ),
    ObjectSchema(
        "InformationRegister_СостоянияЗаказовКлиентов",
        "info_register",
        {
            "Заказ": "Edm.String",
            "Заказ_Type": "Edm.String",
            "Состояние": "Edm.String",
            "ДатаСобытия": "Edm.DateTime",
            "СуммаОплаты": "Edm.Double",
            "ПроцентОплаты": "Edm.Double",
            "СуммаОтгрузки": "Edm.Double",
            "ПроцентОтгрузки": "Edm.Double",
            "СуммаДолга": "Edm.Double",
            "ПроцентДолга": "Edm.Double",
        },
        key=("Заказ", "Заказ_Type"),
    ),
    # pick and deliver tracking (reference §4.3): keyed by the order or a shipment
    ObjectSchema(
        "InformationRegister_СтатусыСборкиИДоставки",
        "info_register",
        {
            "Распоряжение": "Edm.String",
            "Распоряжение_Type": "Edm.String",
            "Статус": "Edm.String",
            "ДатаСборки": "Edm.DateTime",
            "ДатаДоставки": "Edm.DateTime",
            "ПричинаОтмены": "Edm.String",
            "КоличествоСтрокВЗаказе": "Edm.Int64",
            "КоличествоСтрокСобрано": "Edm.Int64",
        },
        key=("Распоряжение", "Распоряжение_Type"),
    ),
    ObjectSchema(
        "AccumulationRegister_ТоварыНаСкладах",
        "accumulation_register",
        {"Recorder": "Edm.String", "Recorder_Type": "Edm.String"},
        key=("Recorder", "Recorder_Type"),
        # stock on hand (reference §0 item 25); its Balance virtual table: erp_balance
        tabular={"RecordSet": STOCK_RECORD},
    ),
    # 1C:Розница 2 store base objects (reference §5.1): receipts with card, phone, e-mail
    ObjectSchema(
        "Catalog_ИнформационныеКарты",
        "catalog",
        {
            **CATALOG,
            "КодКарты": "Edm.String",
            "ВладелецКарты": "Edm.String",
            "ВладелецКарты_Type": "Edm.String",
        },
    ),
    ObjectSchema(
        "Document_ЧекККМ",
        "document",
        {
            **DOCUMENT,
            "Магазин_Key": "Edm.Guid",
            "КассаККМ_Key": "Edm.Guid",
            "НомерЧекаККМ": "Edm.Int64",
            "СтатусЧекаККМ": "Edm.String",
            "ВидОперации": "Edm.String",
            "ДисконтнаяКарта_Key": "Edm.Guid",
            "Телефон": "Edm.String",
            "АдресЭП": "Edm.String",
            "СуммаДокумента": "Edm.Double",
        },
        tabular={"Товары": GOODS_ROW},
    ),
    ObjectSchema(
        EXCHANGE_PLAN,
        "exchange_plan",
        {
            **CATALOG,
            "SentNo": "Edm.Int64",
            "ReceivedNo": "Edm.Int64",
            "ThisNode": "Edm.Boolean",
        },
    ),
]
SCHEMA: dict[str, ObjectSchema] = {o.name: o for o in _OBJECTS}
_PUBLISHED.update(SCHEMA)
# What the exchange plan's content registers on every write.
PLAN_CONTENT = [o.name for o in _OBJECTS if o.kind != "exchange_plan"]


def _property(name: str, edm: str, key: tuple[str, ...] = ()) -> str:
    nullable = "false" if name in key or name in ("Ref_Key", "LineNumber") else "true"
    return f'<Property Name={quoteattr(name)} Type={quoteattr(edm)} Nullable="{nullable}"/>'


def _relationship(obj: ObjectSchema, field: str) -> str:
    return f"{obj.name}_{field[:-4]}"


def _entity_xml(obj: ObjectSchema) -> list[str]:
    keys = "".join(f"<PropertyRef Name={quoteattr(k)}/>" for k in obj.key)
    props = [_property(n, t, obj.key) for n, t in obj.fields.items()]
    for section in obj.tabular:
        edm = f"Collection({NAMESPACE}.{obj.row_type(section)})"
        props.append(f'<Property Name={quoteattr(section)} Type="{edm}" Nullable="true"/>')
    navs = [
        f"<NavigationProperty Name={quoteattr(n[:-4])} "
        f'Relationship="{NAMESPACE}.{_relationship(obj, n)}" FromRole="Begin" ToRole="End"/>'
        for n in obj.references
    ]
    open_type = ' OpenType="true"' if obj.open_type else ""
    out = [f"<EntityType Name={quoteattr(obj.name)}{open_type}><Key>{keys}</Key>", *props, *navs]
    out.append("</EntityType>")
    for section, columns in obj.tabular.items():
        out.append(f"<ComplexType Name={quoteattr(obj.row_type(section))}>")
        out += [_property(n, t) for n, t in columns.items()]
        out.append("</ComplexType>")
    return out


def _associations(obj: ObjectSchema) -> tuple[list[str], list[str]]:
    """``Association`` per reference (schema level) and its ``AssociationSet`` (container)."""
    types, sets = [], []
    for ref in obj.references:
        name, target = _relationship(obj, ref), REFERENCE_TARGETS[ref[:-4]]
        types.append(
            f"<Association Name={quoteattr(name)}>"
            f'<End Role="Begin" Type="{NAMESPACE}.{obj.name}" Multiplicity="*"/>'
            f'<End Role="End" Type="{NAMESPACE}.{target}" Multiplicity="0..1"/></Association>'
        )
        sets.append(
            f'<AssociationSet Name={quoteattr(name)} Association="{NAMESPACE}.{name}">'
            f'<End Role="Begin" EntitySet={quoteattr(obj.name)}/>'
            f'<End Role="End" EntitySet={quoteattr(target)}/></AssociationSet>'
        )
    return types, sets


def metadata_xml() -> bytes:
    """The publication's ``$metadata`` (CSDL v3), laid out as a recorded УТ 11 publication.

    Only the platform's own enums are published (a real publication does not
    list configuration enums such as ``СтатусыЗаказовКлиентов``: their fields
    are plain ``Edm.String``); every property says ``Nullable``; registers are
    ``OpenType``; each reference has an ``Association`` and an ``AssociationSet``.
    """
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<edmx:Edmx xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" Version="1.0">',
        '<edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/'
        'metadata" m:DataServiceVersion="3.0" m:MaxDataServiceVersion="3.0">',
        f'<Schema xmlns="http://schemas.microsoft.com/ado/2009/11/edm" Namespace="{NAMESPACE}">',
    ]
    association_sets = []
    for obj in _OBJECTS:
        parts += _entity_xml(obj)
    for obj in _OBJECTS:
        types, sets = _associations(obj)
        parts += types
        association_sets += sets
    from syncd_sandbox.erp_balance import metadata_parts

    virtual_types, virtual_functions = metadata_parts()
    parts += virtual_types
    for enum, members in PLATFORM_ENUMS:
        parts.append(f'<EnumType Name={quoteattr(enum)} UnderlyingType="Edm.Int32">')
        parts += [f"<Member Name={quoteattr(m)}/>" for m in members]
        parts.append("</EnumType>")
    parts.append('<EntityContainer Name="EnterpriseV8" m:IsDefaultEntityContainer="true">')
    parts += [
        f"<EntitySet Name={quoteattr(o.name)} EntityType={quoteattr(NAMESPACE + '.' + o.name)}/>"
        for o in _OBJECTS
    ]
    parts += association_sets
    for obj in _OBJECTS:
        if obj.kind == "document":
            binding = quoteattr(f"{NAMESPACE}.{obj.name}")
            parts.append(
                f'<FunctionImport Name="Post" IsBindable="true" IsSideEffecting="true">'
                f'<Parameter Name="bindingParameter" Type={binding}/>'
                '<Parameter Name="PostingModeOperational" Type="Edm.Boolean"/></FunctionImport>'
            )
            parts.append(
                f'<FunctionImport Name="Unpost" IsBindable="true" IsSideEffecting="true">'
                f'<Parameter Name="bindingParameter" Type={binding}/>'
                '<Parameter Name="PostingModeOperational" Type="Edm.Boolean"/></FunctionImport>'
            )
    parts += virtual_functions
    parts.append("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>")
    return "\n".join(parts).encode("utf-8")
