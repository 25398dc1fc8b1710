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
    "ВидыДвиженийНакопления": ["Receipt", "Expense"],
    "СтатусыЧековККМ": ["Отложенный", "Аннулированный", "Пробитый", "Архивный"],
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
            "ПроцентОплаты": "Edm.Double",
            "ПроцентОтгрузки": "Edm.Double",
        },
        key=("Заказ", "Заказ_Type"),
    ),
    ObjectSchema(
        "AccumulationRegister_ТоварыНаСкладах",
        "accumulation_register",
        {"Recorder": "Edm.String", "Recorder_Type": "Edm.String"},
        key=("Recorder", "Recorder_Type"),
        tabular={
            "RecordSet": {
                "Recorder": "Edm.String",
                "Recorder_Type": "Edm.String",
                "LineNumber": "Edm.Int64",
                "Period": "Edm.DateTime",
                "Active": "Edm.Boolean",
                "RecordType": "Edm.String",
                "Номенклатура_Key": "Edm.Guid",
                "Склад_Key": "Edm.Guid",
                "ВНаличии": "Edm.Double",
            }
        },
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
# What the exchange plan's content registers on every write.
PLAN_CONTENT = [o.name for o in _OBJECTS if o.kind != "exchange_plan"]


def _property(name: str, edm: str) -> str:
    nullable = ' Nullable="false"' if name in ("Ref_Key", "LineNumber") else ""
    return f"<Property Name={quoteattr(name)} Type={quoteattr(edm)}{nullable}/>"


def _entity_xml(obj: ObjectSchema) -> list[str]:
    keys = "".join(f"<PropertyRef Name={quoteattr(k)}/>" for k in obj.key)
    props = [_property(n, t) for n, t in obj.fields.items()]
    for section in obj.tabular:
        edm = f"Collection({NAMESPACE}.{obj.row_type(section)})"
        props.append(f'<Property Name={quoteattr(section)} Type="{edm}" Nullable="false"/>')
    navs = [
        f"<NavigationProperty Name={quoteattr(n[:-4])} "
        f'Relationship="{NAMESPACE}.{obj.name}_{n[:-4]}" FromRole="Begin" ToRole="End"/>'
        for n, t in obj.fields.items()
        if n.endswith("_Key") and t == "Edm.Guid" and n != "Ref_Key"
    ]
    out = [f"<EntityType Name={quoteattr(obj.name)}><Key>{keys}</Key>", *props, *navs]
    out.append("</EntityType>")
    for section, columns in obj.tabular.items():
        out.append(f"<ComplexType Name={quoteattr(obj.row_type(section))}>")
        out += [_property(n, t) for n, t in columns.items()]
        out.append("</ComplexType>")
    return out


def metadata_xml() -> bytes:
    """The publication's ``$metadata`` (CSDL v3), as 1C lays it out."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<edmx:Edmx xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" Version="1.0">',
        '<edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/'
        'metadata" m:DataServiceVersion="3.0">',
        f'<Schema xmlns="http://schemas.microsoft.com/ado/2009/11/edm" Namespace="{NAMESPACE}">',
    ]
    for obj in _OBJECTS:
        parts += _entity_xml(obj)
    for enum, members in ENUMS.items():
        parts.append(f"<EnumType Name={quoteattr(enum)}>")
        parts += [f'<Member Name={quoteattr(m)} Value="{i}"/>' for i, m in enumerate(members)]
        parts.append("</EnumType>")
    parts.append('<EntityContainer Name="StandardODATA" m:IsDefaultEntityContainer="true">')
    parts += [
        f"<EntitySet Name={quoteattr(o.name)} EntityType={quoteattr(NAMESPACE + '.' + o.name)}/>"
        for o in _OBJECTS
    ]
    for obj in _OBJECTS:
        if obj.kind == "document":
            binding = quoteattr(f"{NAMESPACE}.{obj.name}")
            parts.append(
                f'<FunctionImport Name="Post" IsSideEffecting="true" IsBindable="true">'
                f'<Parameter Name="bindingParameter" Type={binding}/>'
                '<Parameter Name="PostingModeOperational" Type="Edm.Boolean"/></FunctionImport>'
            )
            parts.append(
                f'<FunctionImport Name="Unpost" IsSideEffecting="true" IsBindable="true">'
                f'<Parameter Name="bindingParameter" Type={binding}/></FunctionImport>'
            )
    parts.append("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>")
    return "\n".join(parts).encode("utf-8")
