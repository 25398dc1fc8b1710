"""Atom XML as a real 1C writes it: entries of a set, and exchange-plan packages.

Shaped after recorded ``SelectChanges`` packages of an УТ 11 demo base
(reference §0 items 21–24):

- scalar properties carry **no** ``m:type`` (``<d:Posted>false</d:Posted>``,
  ``<d:КодСтроки>1</d:КодСтроки>``); only collections do
  (``m:type="Collection(StandardODATA.…_RowType)"``, each ``d:element`` typed
  with its row type).  ``scalar_types=True`` adds ``m:type`` to non-string
  scalars, as other platform builds are said to — a switch for tests;
- empty values are empty elements, nulls ``m:null="true"``;
- tabular-section rows carry no ``Ref_Key`` (register rows do repeat the
  ``Recorder``, as recorded);
- the feed has no ``id`` or ``title`` of its own; each entry has its id URL,
  a ``category`` with the set's name, an empty ``title``, the ERP's local
  ``updated`` time, navigation links per reference and an edit link;
- a physically deleted object appears as ``at:deleted-entry`` (RFC 6721).

    atom_feed(base, [("Document_ЗаказКлиента", row), ...], deleted=[url, ...])
"""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from syncd_sandbox.erp_schema import NAMESPACE, SCHEMA

NS = (
    'xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:at="http://purl.org/atompub/tombstones/1.0" '
    'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
    'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"'
)
PROPERTIES_NS = (
    'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
    'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"'
)
RELATED = "http://schemas.microsoft.com/ado/2007/08/dataservices/related/"
SCHEME = "http://schemas.microsoft.com/ado/2007/08/dataservices/scheme"


def entity_url(base: str, set_name: str, row: dict) -> str:
    schema = SCHEMA[set_name]
    if schema.key == ("Ref_Key",):
        return f"{base}{set_name}(guid'{row['Ref_Key']}')"
    parts = ", ".join(f"{k}='{row[k]}'" for k in schema.key)
    return f"{base}{set_name}({parts})"


def _value(name: str, edm: str, value: object, scalar_types: bool) -> str:
    tag = f"d:{name}"
    if value is None:
        return f'<{tag} m:null="true"/>'
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = escape(str(value))
    typed = f' m:type="{edm}"' if scalar_types and edm != "Edm.String" else ""
    return f"<{tag}{typed}/>" if text == "" else f"<{tag}{typed}>{text}</{tag}>"


def properties(set_name: str, row: dict, scalar_types: bool = False) -> str:
    schema = SCHEMA[set_name]
    out = [_value(n, t, row.get(n), scalar_types) for n, t in schema.fields.items()]
    for section, columns in schema.tabular.items():
        row_type = f"{NAMESPACE}.{schema.row_type(section)}"
        shown = {n: t for n, t in columns.items() if n != "Ref_Key"}  # not in real rows
        items = "".join(
            f'<d:element m:type="{row_type}">'
            + "".join(_value(n, t, line.get(n), scalar_types) for n, t in shown.items())
            + "</d:element>"
            for line in row.get(section, [])
        )
        out.append(f'<d:{section} m:type="Collection({row_type})">{items}</d:{section}>')
    return f"<m:properties {PROPERTIES_NS}>" + "".join(out) + "</m:properties>"


def _links(set_name: str, relative: str) -> str:
    schema = SCHEMA[set_name]
    navigations = [n[:-4] for n in schema.references]
    links = [
        f'<link rel="{RELATED}{escape(n)}" href={quoteattr(f"{relative}/{n}")} '
        f'type="application/atom+xml;type=entry;charset=utf-8" title={quoteattr(n)}/>'
        for n in navigations
    ]
    links.append(f'<link rel="edit" href={quoteattr(relative)} title="edit-link"/>')
    return "".join(links)


def entry(base: str, set_name: str, row: dict, updated: str, scalar_types: bool = False) -> str:
    url = entity_url(base, set_name, row)
    return (
        f"<entry><id>{escape(url)}</id>"
        f'<category term="{NAMESPACE}.{set_name}" scheme="{SCHEME}"/>'
        f'<title type="text"/><updated>{updated}</updated><author/><summary/>'
        f"{_links(set_name, url[len(base) :])}"
        f'<content type="application/xml">{properties(set_name, row, scalar_types)}</content>'
        "</entry>"
    )


def atom_feed(
    base: str,
    entries: list[tuple[str, dict]],
    deleted: list[str] | None = None,
    *,
    now: datetime | None = None,
    scalar_types: bool = False,
) -> bytes:
    """A feed of ``entries`` (and deleted entries); ``now`` is the ERP's local time."""
    stamp = (now or datetime.now()).replace(microsecond=0, tzinfo=None).isoformat()
    body = ['<?xml version="1.0" encoding="UTF-8"?>', f"<feed {NS} xml:base={quoteattr(base)}>"]
    body += [entry(base, set_name, row, stamp, scalar_types) for set_name, row in entries]
    body += [f'<at:deleted-entry ref={quoteattr(ref)} when="{stamp}"/>' for ref in deleted or []]
    body.append("</feed>")
    return "".join(body).encode("utf-8")
