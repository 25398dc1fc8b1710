"""``items.yaml``: which CRM offer is which 1C item, and which CRM store which 1C warehouse.

Stock is kept and pushed under the CRM's names (an offer's ``externalId``, a
store's ``code``), read from 1C under its own (``Номенклатура`` and
``Характеристика`` Ref_Keys, ``Склад`` Ref_Key).  This file ties them:

- ``items``: an item (with a characteristic, or any) → an offer externalId.
  An item not listed follows ``unmapped_items``: ``ref_key`` (the default)
  names its offer by the Ref_Key, ``<item>#<characteristic>`` with a
  characteristic (the separator is ``characteristic_separator``) — the
  convention of catalogues exported from 1C; ``skip`` leaves it out;
- ``stores``: a warehouse, by Ref_Key or by its ``Code``, → a CRM store code.
  A warehouse not listed is never guessed: its stock is set aside (a dead
  letter naming the warehouse, once) until it is mapped.

    names = load_items(Path("mappings/items.yaml"))
    names.offer_of(item_ref, characteristic_ref)   # "A-00017" or the default, or None
    names.store_of(warehouse_ref, code)            # "main-store" or None
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from syncd.config_errors import ConfigProblem, dotted
from syncd.mappings.load import MappingError, _read, _validate
from syncd.mappings.model import _Strict
from syncd.yamlpos import locate

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _guid(value: str | None) -> str | None:
    if value is None:
        return None
    if not GUID.match(value):
        raise ValueError(f"expected a 1C Ref_Key (a GUID), got {value!r}")
    return value.lower()


class ItemEntry(_Strict):
    item: str = Field(..., description="the 1C Номенклатура Ref_Key")
    characteristic: str | None = Field(
        None, description="the 1C Характеристика Ref_Key (none: the item with any or none)"
    )
    offer: str = Field(..., min_length=1, description="the CRM offer's externalId")

    _refs = field_validator("item", "characteristic")(_guid)


class StoreEntry(_Strict):
    warehouse: str | None = Field(None, description="the 1C Склад Ref_Key")
    warehouse_code: str | None = Field(
        None, description="or the 1C Склад's Code (read from Catalog_Склады)"
    )
    store: str = Field(..., min_length=1, description="the CRM store code")

    _refs = field_validator("warehouse")(_guid)

    @model_validator(mode="after")
    def _one_way(self) -> StoreEntry:
        if (self.warehouse is None) == (self.warehouse_code is None):
            raise ValueError("give warehouse (a Ref_Key) or warehouse_code, one of them")
        return self


class ItemsMapping(_Strict):
    site: str | None = Field(
        None, description="the CRM site code of the offers (a key with several sites needs it)"
    )
    unmapped_items: Literal["ref_key", "skip"] = Field(
        "ref_key",
        description="an item not listed: ref_key names its offer by its Ref_Key "
        "(<item><separator><characteristic> with a characteristic); skip leaves it out",
    )
    characteristic_separator: str = Field("#", min_length=1)
    items: list[ItemEntry] = Field(default_factory=list)
    stores: list[StoreEntry] = Field(default_factory=list)
    _offer_index: dict | None = PrivateAttr(None)
    _store_index: tuple | None = PrivateAttr(None)

    def offer_of(self, item: str, characteristic: str | None) -> str | None:
        """The CRM offer of a 1C item (and characteristic); None when it is left out."""
        offers = self._offers()
        item = item.lower()
        characteristic = characteristic.lower() if characteristic else None
        found = offers.get((item, characteristic)) or offers.get((item, None))
        if found is not None or self.unmapped_items == "skip":
            return found
        if characteristic:
            return f"{item}{self.characteristic_separator}{characteristic}"
        return item

    def store_of(self, warehouse: str, code: str | None = None) -> str | None:
        """The CRM store code of a 1C warehouse (by Ref_Key, else by Code); None: unmapped."""
        by_ref, by_code = self._stores()
        return by_ref.get(warehouse.lower()) or (by_code.get(code) if code else None)

    @property
    def needs_codes(self) -> bool:
        """Some warehouse is mapped by its Code (Catalog_Склады must be read)."""
        return any(s.warehouse_code is not None for s in self.stores)

    def _offers(self) -> dict[tuple[str, str | None], str]:
        if self._offer_index is None:
            self._offer_index = {(e.item, e.characteristic): e.offer for e in self.items}
        return self._offer_index

    def _stores(self) -> tuple[dict[str, str], dict[str, str]]:
        if self._store_index is None:
            by_ref = {s.warehouse: s.store for s in self.stores if s.warehouse}
            by_code = {s.warehouse_code: s.store for s in self.stores if s.warehouse_code}
            self._store_index = (by_ref, by_code)
        return self._store_index


def load_items(path: Path) -> ItemsMapping:
    """``items.yaml``; MappingError naming the file, line and column of each problem
    (a field of the wrong shape, an item or a warehouse listed twice)."""
    problems: list[ConfigProblem] = []
    data, positions = _read(path.parent, path.name, problems)
    parsed = None
    if data is not None:
        parsed = _validate(ItemsMapping, data, str(path), positions, problems)
    if parsed is not None:
        for where, message in _repeats(parsed):
            line, column = locate(positions, where)
            problems.append(ConfigProblem(str(path), line, column, dotted(where), message))
    if problems or parsed is None:
        raise MappingError(problems)
    return parsed  # type: ignore[return-value]


def _repeats(m: ItemsMapping) -> list[tuple[tuple, str]]:
    """The second entry of an item (with the same characteristic) or a warehouse."""
    found: list[tuple[tuple, str]] = []
    seen: dict[object, int] = {}
    for i, e in enumerate(m.items):
        key = ("item", e.item, e.characteristic)
        if key in seen:
            found.append((("items", i), f"this item is listed already (items[{seen[key]}])"))
        seen.setdefault(key, i)
    for i, s in enumerate(m.stores):
        key = ("store", s.warehouse, s.warehouse_code)
        if key in seen:
            found.append((("stores", i), f"this warehouse is listed already (stores[{seen[key]}])"))
        seen.setdefault(key, i)
    return found
