"""Atom feeds from 1C (exchange-plan packages, sets read without ``$format=json``).

Every ``entry`` becomes a ``Change``: the set it belongs to (from its
``category``, else its id URL), the key from its id URL, and its properties
**as text**: a real package carries no ``m:type`` on scalars
(``<d:Posted>false</d:Posted>``), so nothing here guesses a type — the
properties are typed from ``$metadata`` in one place
(``StructuredType.normalize``).  Empty elements are empty strings,
``m:null`` is None, and tabular sections and register ``RecordSet``s (the
only elements with ``d:element`` children or a ``Collection(…)`` type) are
lists of rows.  ``at:deleted-entry`` (RFC 6721) becomes a deleted ``Change``
carrying the key from its URL.  Navigation links, titles and the feed's own
elements are not data.

No DTD, no entity expansion, no external entities: a feed in an
ASCII-compatible encoding (1C sends UTF-8) that holds no ``<!DOCTYPE`` (the
only place a DTD, and so any entity or external reference, can be declared)
is parsed by the standard library's C parser; anything else goes to
defusedxml, which refuses a DTD (``DTDForbidden``).  The C parser reads a
feed about twice as fast as defusedxml's pure-Python one.

    for change in parse_feed(xml):
        change.set_name, change.key, change.deleted, change.properties
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree as FastTree

from defusedxml import ElementTree

URL_KEY = re.compile(r"/(?P<set>[^/()]+)\((?P<key>[^)]*)\)\s*$")
KEY_PART = re.compile(r"(?:(?P<name>[^=,\s]+)=)?(?:guid|datetime)?'(?P<value>(?:[^']|'')*)'")


@dataclass
class Change:
    set_name: str
    key: dict[str, str]
    properties: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(element: Any, name: str) -> str | None:
    attrib = element.attrib
    if not attrib:  # a real package's scalars carry none
        return None
    for key, value in attrib.items():
        if _local(key) == name:
            return value
    return None


def _value(element: Any) -> Any:
    """One ``d:`` element: its text, a list of rows, or None."""
    if _attr(element, "null") == "true":
        return None
    items = [item for item in element if _local(item.tag) == "element"]
    if items or (_attr(element, "type") or "").startswith("Collection("):
        return [_row(item) for item in items]
    return element.text or ""


def _row(element: Any) -> dict[str, Any]:
    return {_local(child.tag): _value(child) for child in element}


def _key_from_url(url: str) -> tuple[str, dict[str, str]]:
    m = URL_KEY.search(unquote(url))
    if not m:
        return "", {}
    key = {}
    for part in KEY_PART.finditer(m["key"]):
        key[part["name"] or "Ref_Key"] = part["value"].replace("''", "'")
    return m["set"], key


def _root(xml: bytes | str) -> Any:
    """The feed's root element, refusing any DTD (see the module's docstring)."""
    if isinstance(xml, bytes) and _ascii_compatible(xml) and b"<!DOCTYPE" not in xml:
        return FastTree.fromstring(xml)
    return ElementTree.fromstring(xml, forbid_dtd=True)


def _ascii_compatible(data: bytes) -> bool:
    """Not UTF-16 or UTF-32 (with or without a byte order mark): ``<!DOCTYPE`` in any
    other encoding a parser takes is these very bytes."""
    head = data[:4]
    return b"\x00" not in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def parse_feed(xml: bytes | str) -> list[Change]:
    """Entries and deleted entries of an Atom feed, in document order."""
    root = _root(xml)
    changes = []
    for element in root:
        kind = _local(element.tag)
        if kind == "entry":
            changes.append(_entry(element))
        elif kind == "deleted-entry":
            set_name, key = _key_from_url(element.get("ref", ""))
            changes.append(Change(set_name, key, deleted=True))
    return changes


def _entry(element: Any) -> Change:
    set_name, url_key, props = "", {}, {}
    for child in element:
        kind = _local(child.tag)
        if kind == "category":
            set_name = (child.get("term") or "").split(".", 1)[-1]
        elif kind == "id":
            url_set, url_key = _key_from_url(child.text or "")
            set_name = set_name or url_set
        elif kind == "content":
            for holder in child:
                if _local(holder.tag) == "properties":
                    props = _row(holder)
    return Change(set_name, url_key, props)
