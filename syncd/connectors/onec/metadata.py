"""``$metadata`` of a 1C OData publication: which objects and fields exist, with types.

1C publishes CSDL v3 (EDMX).  Names differ between bases and releases, so
syncd reads them from here and never from code.  The parser ignores XML
namespace URIs (they vary), refuses DTDs and entity expansion (defusedxml),
and understands 1C's conventions:
- a reference attribute ``X`` appears as ``X_Key`` (Edm.Guid);
- a composite attribute as ``X`` + ``X_Type``;
- a tabular section as a ``Collection(…_RowType)`` property;
- enums as ``EnumType`` members (their fields are plain strings).

    meta = Metadata.parse(xml_bytes)
    orders = meta.entity("Document_ЗаказКлиента")
    orders.key, orders.type_of("Статус"), orders.tabular("Товары").type_of("Количество")
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree

from syncd.connectors.onec.edm import BadValue, typed
from syncd.connectors.onec.values import python_value


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@dataclass
class StructuredType:
    name: str
    properties: dict[str, str] = field(default_factory=dict)  # name -> Edm type
    key: list[str] = field(default_factory=list)
    tabular_sections: dict[str, str] = field(default_factory=dict)  # name -> row type
    navigation: set[str] = field(default_factory=set)
    owner: Metadata | None = field(default=None, repr=False)

    def type_of(self, name: str) -> str:
        try:
            return self.properties[name]
        except KeyError:
            raise KeyError(
                _missing(f"{self.name} has no property", name, self.properties)
            ) from None

    def has(self, name: str) -> bool:
        return name in self.properties or name in self.tabular_sections

    def tabular(self, name: str) -> StructuredType:
        if name not in self.tabular_sections:
            raise KeyError(
                _missing(f"{self.name} has no tabular section", name, self.tabular_sections)
            )
        return self.owner.complex_types[self.tabular_sections[name]]  # type: ignore[union-attr]

    def read(self, raw: dict, tz: Any) -> dict:
        """An entry as Python values (``int``, ``Decimal``, aware ``datetime``, ``UUID``).

        Typed like ``normalize`` first, so a bad value raises ``BadValue`` here too.
        """
        out: dict = {}
        for name, value in self.normalize(raw).items():
            if name in self.tabular_sections:
                row_type = self.tabular(name)
                out[name] = [row_type.read(row, tz) for row in value]
            else:
                out[name] = python_value(value, self.properties[name], tz)
        return out

    def normalize(self, raw: dict, owner_key: tuple[str, ...] = ()) -> dict:
        """An entry in syncd's one form, whether it came as JSON or as Atom.

        Every declared property is typed by ``$metadata`` (``edm.typed``);
        tabular sections row by row, each row without its copy of the
        object's key (JSON rows repeat ``Ref_Key``, Atom rows do not).
        Properties ``$metadata`` does not declare (``odata.metadata``,
        ``X@navigationLinkUrl``, presentations, an open type's extras) are
        left out: their type is unknown, and the same object must read the
        same through every path.  ``BadValue`` names the field
        (``Товары[2].Отменено``).
        """
        out: dict = {}
        for name, value in raw.items():
            if name in owner_key:
                continue
            edm = self.properties.get(name)
            if edm is not None:
                out[name] = typed(value, edm, name)
            elif name in self.tabular_sections:
                out[name] = self._rows(name, value)
        return out

    def _rows(self, name: str, value: Any) -> list[dict]:
        if value is None or value == "":
            return []  # an empty collection element in Atom
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            raise BadValue(name, "a tabular section (a list of rows)", value)
        row_type, rows = self.tabular(name), []
        for number, row in enumerate(value, start=1):
            try:
                rows.append(row_type.normalize(row, tuple(self.key)))
            except BadValue as bad:
                raise bad.inside(f"{name}[{number}].") from None
        return rows

    @property
    def references(self) -> dict[str, str]:
        """Reference attributes: ``X`` for every ``X_Key`` of type Edm.Guid."""
        return {
            n[:-4]: n
            for n, t in self.properties.items()
            if n.endswith("_Key") and t == "Edm.Guid" and n != "Ref_Key"
        }

    @property
    def composites(self) -> set[str]:
        """Composite attributes: ``X`` that has an ``X_Type`` beside it."""
        return {n for n in self.properties if f"{n}_Type" in self.properties}


@dataclass
class Metadata:
    entity_types: dict[str, StructuredType] = field(default_factory=dict)
    complex_types: dict[str, StructuredType] = field(default_factory=dict)
    entity_sets: dict[str, str] = field(default_factory=dict)  # set name -> type name
    enums: dict[str, list[str]] = field(default_factory=dict)
    functions: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, xml: bytes | str) -> Metadata:
        root = ElementTree.fromstring(xml, forbid_dtd=True)
        meta = cls()
        for element in root.iter():
            kind = _local(element.tag)
            if kind in ("EntityType", "ComplexType"):
                t = _structured(element, meta)
                (meta.entity_types if kind == "EntityType" else meta.complex_types)[t.name] = t
            elif kind == "EnumType":
                meta.enums[element.get("Name", "")] = [
                    m.get("Name", "") for m in element if _local(m.tag) == "Member"
                ]
            elif kind == "EntitySet":
                meta.entity_sets[element.get("Name", "")] = _bare(element.get("EntityType", ""))
            elif kind == "FunctionImport":
                meta.functions.add(element.get("Name", ""))
        if not meta.entity_sets and not meta.entity_types:
            raise ValueError(
                "this $metadata publishes no objects: set the OData composition "
                "(УстановитьСоставСтандартногоИнтерфейсаOData)"
            )
        return meta

    def entity(self, set_name: str) -> StructuredType:
        type_name = self.entity_sets.get(set_name, set_name)
        if type_name not in self.entity_types:
            raise KeyError(_missing("not published in $metadata:", set_name, self.entity_sets))
        return self.entity_types[type_name]

    def has_entity(self, set_name: str) -> bool:
        return self.entity_sets.get(set_name, set_name) in self.entity_types


def _bare(type_name: str) -> str:
    """``StandardODATA.Document_X`` → ``Document_X``; names are never split on ``_``."""
    return type_name.split(".", 1)[-1] if "." in type_name else type_name


def _structured(element, meta: Metadata) -> StructuredType:  # noqa: ANN001
    t = StructuredType(element.get("Name", ""), owner=meta)
    for child in element:
        kind = _local(child.tag)
        if kind == "Key":
            t.key = [ref.get("Name", "") for ref in child if _local(ref.tag) == "PropertyRef"]
        elif kind == "Property":
            name, edm = child.get("Name", ""), child.get("Type", "")
            if edm.startswith("Collection("):
                t.tabular_sections[name] = _bare(edm[len("Collection(") : -1])
            else:
                t.properties[name] = edm
        elif kind == "NavigationProperty":
            t.navigation.add(child.get("Name", ""))
    return t


def _missing(what: str, name: str, known) -> str:  # noqa: ANN001
    close = difflib.get_close_matches(name, list(known), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"{what} {name!r}{hint}"
