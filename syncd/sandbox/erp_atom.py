"""Atom XML as 1C writes it: entries of a set, and exchange-plan packages.

An entry carries its properties in ``m:properties`` with ``m:type`` on
non-strings, empty values as empty elements, ``m:null`` for nulls, and
tabular sections (or a register's ``RecordSet``) as
``Collection(StandardODATA.…_RowType)`` of ``d:element``.  A physically
deleted object appears as ``at:deleted-entry`` (RFC 6721) in a package.

    atom_feed(base, [("Document_ЗаказКлиента", row), ...], deleted=[url, ...])
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from syncd.sandbox.erp_schema import NAMESPACE, SCHEMA

NS = (
    'xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:at="http://purl.org/atompub/tombstones/1.0" '
    'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
    'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"'
)


def entity_url(base: str, set_name: str, row: dict) -> str:
    schema = SCHEMA[set_name]
    if schema.key == ("Ref_Key",):
        return f"{base}{set_name}(guid'{row['Ref_Key']}')"
    parts = ",".join(f"{k}='{row[k]}'" for k in schema.key)
    return f"{base}{set_name}({parts})"


def _value(name: str, edm: str, value: object) -> str:
    tag = f"d:{name}"
    if value is None:
        return f'<{tag} m:null="true"/>'
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = escape(str(value))
    typed = "" if edm == "Edm.String" else f' m:type="{edm}"'
    return f"<{tag}{typed}/>" if text == "" else f"<{tag}{typed}>{text}</{tag}>"


def properties(set_name: str, row: dict) -> str:
    schema = SCHEMA[set_name]
    out = [_value(n, t, row.get(n)) for n, t in schema.fields.items()]
    for section, columns in schema.tabular.items():
        row_type = f"{NAMESPACE}.{schema.row_type(section)}"
        items = "".join(
            f'<d:element m:type="{row_type}">'
            + "".join(_value(n, t, line.get(n)) for n, t in columns.items())
            + "</d:element>"
            for line in row.get(section, [])
        )
        out.append(f'<d:{section} m:type="Collection({row_type})">{items}</d:{section}>')
    return "<m:properties>" + "".join(out) + "</m:properties>"


def entry(base: str, set_name: str, row: dict, updated: str) -> str:
    url = entity_url(base, set_name, row)
    return (
        f"<entry><id>{escape(url)}</id>"
        f'<category term="{NAMESPACE}.{set_name}" '
        'scheme="http://schemas.microsoft.com/ado/2007/08/dataservices/scheme"/>'
        f'<title type="text"/><updated>{updated}</updated><author/><summary/>'
        f'<link rel="edit" href={quoteattr(url[len(base) :])}/>'
        f'<content type="application/xml">{properties(set_name, row)}</content></entry>'
    )


def atom_feed(
    base: str, title: str, entries: list[tuple[str, dict]], deleted: list[str] | None = None
) -> bytes:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<feed {NS} xml:base={quoteattr(base)}>",
        f'<id>{escape(base + title)}</id><title type="text">{escape(title)}</title>',
        f"<updated>{now}</updated><author/>",
    ]
    body += [entry(base, set_name, row, now) for set_name, row in entries]
    body += [f'<at:deleted-entry ref={quoteattr(ref)} when="{now}"/>' for ref in deleted or []]
    body.append("</feed>")
    return "".join(body).encode("utf-8")
