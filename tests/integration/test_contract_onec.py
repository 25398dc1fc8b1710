"""1C contract: the same assertions over real-shaped fixtures and over the sandbox's answers.

``tests/fixtures/onec/`` holds what a real УТ 11 publication answers, written
after the recordings the reference describes (§0 items 21–24, §1.3, §1.4):
``$metadata``, a ``SelectChanges`` package of three live orders, one order
by key and the order set as JSON.  Every test below runs twice: once over
those fixtures (the assertions are true of the real shapes) and once over
the sandbox 1C's live answers on loopback — so the sandbox cannot drift from
the real shapes without a test failing here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
import requests
from defusedxml import ElementTree

from syncd.connectors.onec.atom import parse_feed
from syncd.connectors.onec.changes import EntryReader
from syncd.connectors.onec.metadata import Metadata
from syncd_sandbox.erp_schema import EXCHANGE_PLAN
from tests.support.erp import PASSWORD, USER, erp_sandbox
from tests.support.recorded_erp import fixture

ORDERS = "Document_ЗаказКлиента"
ATOM = "{http://www.w3.org/2005/Atom}"
D = "{http://schemas.microsoft.com/ado/2007/08/dataservices}"
M = "{http://schemas.microsoft.com/ado/2007/08/dataservices/metadata}"
EDM = "{http://schemas.microsoft.com/ado/2009/11/edm}"
CONFIGURATION_ENUMS = ("СтатусыЗаказовКлиентов", "СостоянияЗаказовКлиентов", "ВариантыОбеспечения")
NAIVE_LOCAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
INT64_TEXT = re.compile(r"^-?\d+$")


@dataclass
class Answers:
    """What one 1C answered: ``$metadata``, a package, an order by key, the order set."""

    metadata: bytes
    package: bytes
    order: dict
    orders: dict


def recorded() -> Answers:
    return Answers(
        fixture("metadata.xml"),
        fixture("select_changes_orders.xml"),
        json.loads(fixture("order.json")),
        json.loads(fixture("orders.json")),
    )


def sandbox() -> Answers:
    with erp_sandbox(seed=False) as (app, url):
        app.trade.seed(customers=3, items=4, orders=3, seed=11)
        http = requests.Session()
        http.auth = (USER.encode(), PASSWORD.encode())
        point = f"'{url}{EXCHANGE_PLAN}(guid'{app.node}')'"
        package = http.post(
            url + "SelectChanges", params={"DataExchangePoint": point, "MessageNo": 1}
        ).content
        ref = app.state.rows(ORDERS)[0]["Ref_Key"]
        return Answers(
            http.get(url + "$metadata").content,
            package,
            http.get(f"{url}{ORDERS}(guid'{ref}')", params={"$format": "json"}).json(),
            http.get(url + ORDERS, params={"$format": "json"}).json(),
        )


@pytest.fixture(scope="module", params=["recorded shape", "sandbox"])
def answers(request: pytest.FixtureRequest) -> Answers:
    return recorded() if request.param == "recorded shape" else sandbox()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _metadata_elements(answers: Answers, kind: str) -> list:
    root = ElementTree.fromstring(answers.metadata)
    return [e for e in root.iter() if _local(e.tag) == kind]


def _entries(answers: Answers) -> list:
    return ElementTree.fromstring(answers.package).findall(f"{ATOM}entry")


def _properties(entry) -> list:  # noqa: ANN001
    content = entry.find(f"{ATOM}content")
    return list(content.find(f"{M}properties"))


# -- $metadata ---------------------------------------------------------------------------


def test_metadata_publishes_the_platforms_enums_only(answers):
    names = {e.get("Name") for e in _metadata_elements(answers, "EnumType")}
    assert "AccumulationRecordType" in names
    assert not names & set(CONFIGURATION_ENUMS)
    meta = Metadata.parse(answers.metadata)
    assert meta.entity(ORDERS).type_of("Статус") == "Edm.String"  # the value's name


def test_metadata_says_nullable_on_every_property_and_keys_are_not_null(answers):
    for entity in _metadata_elements(answers, "EntityType"):
        keys = {ref.get("Name") for ref in entity.iter(f"{EDM}PropertyRef")}
        for prop in entity.findall(f"{EDM}Property"):
            assert prop.get("Nullable") in ("true", "false"), (entity.get("Name"), prop.get("Name"))
            if prop.get("Name") in keys:
                assert prop.get("Nullable") == "false"


def test_metadata_registers_are_open_types_and_references_are_associations(answers):
    registers = [
        e for e in _metadata_elements(answers, "EntityType") if "Register_" in e.get("Name")
    ]
    assert registers and all(e.get("OpenType") == "true" for e in registers)
    associations = {a.get("Name") for a in _metadata_elements(answers, "Association")}
    navigations = [
        n.get("Relationship").split(".", 1)[1]
        for n in _metadata_elements(answers, "NavigationProperty")
    ]
    assert navigations and set(navigations) <= associations


def test_metadata_tabular_sections_are_collections_of_row_types(answers):
    orders = Metadata.parse(answers.metadata).entity(ORDERS)
    goods = orders.tabular("Товары")
    assert goods.type_of("LineNumber") == "Edm.Int64"
    assert goods.type_of("Отменено") == "Edm.Boolean"
    posts = [
        f
        for f in _metadata_elements(answers, "FunctionImport")
        if f.get("Name") == "Post"
        and any(p.get("Type", "").endswith("." + ORDERS) for p in f.findall(f"{EDM}Parameter"))
    ]
    assert len(posts) == 1


# -- SelectChanges packages (Atom) -------------------------------------------------------


def test_a_package_feed_has_no_id_or_title_of_its_own(answers):
    root = ElementTree.fromstring(answers.package)
    assert _local(root.tag) == "feed" and root.get("{http://www.w3.org/XML/1998/namespace}base")
    assert root.find(f"{ATOM}id") is None and root.find(f"{ATOM}title") is None
    assert any(_local(e.tag) == "entry" for e in root)


def test_package_scalars_carry_no_type_only_collections_and_rows_do(answers):
    checked = 0
    for entry in _entries(answers):
        for prop in _properties(entry):
            kind = prop.get(f"{M}type")
            if len(prop) or (kind or "").startswith("Collection("):
                assert kind.startswith("Collection(StandardODATA.") and kind.endswith("_RowType)")
                for row in prop:
                    assert row.get(f"{M}type") == kind[len("Collection(") : -1]
                    assert all(cell.get(f"{M}type") is None for cell in row)
                    checked += len(row)
            else:
                assert kind is None, f"{_local(prop.tag)} has m:type {kind}"
                checked += 1
    assert checked > 50


def test_package_document_rows_carry_no_ref_key(answers):
    orders = [
        e for e in _entries(answers) if e.find(f"{ATOM}category").get("term").endswith(ORDERS)
    ]
    assert orders
    for entry in orders:
        (goods,) = [p for p in _properties(entry) if _local(p.tag) == "Товары"]
        assert len(goods) >= 1
        for row in goods:
            names = [_local(cell.tag) for cell in row]
            assert "Ref_Key" not in names and names[0] == "LineNumber"


def test_package_entries_name_their_set_key_and_local_time(answers):
    for entry in _entries(answers):
        term = entry.find(f"{ATOM}category").get("term")
        assert term.startswith("StandardODATA.")
        assert f"/{term.split('.', 1)[1]}(" in entry.find(f"{ATOM}id").text
        assert NAIVE_LOCAL.match(entry.find(f"{ATOM}updated").text)  # the ERP's zone-less time
        assert entry.find(f"{ATOM}title").text is None
        edit = [link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "edit"]
        assert len(edit) == 1 and edit[0].get("title") == "edit-link"


def test_package_flags_are_the_words_true_and_false(answers):
    meta = Metadata.parse(answers.metadata)
    for change in parse_feed(answers.package):
        if change.set_name == ORDERS:
            assert change.properties["Posted"] in ("true", "false")
            for line in change.properties["Товары"]:
                assert line["Отменено"] in ("true", "false")
                assert INT64_TEXT.match(line["LineNumber"])
            typed = meta.entity(ORDERS).normalize(change.properties)
            assert typed["Posted"] in (True, False)


# -- JSON ($format=json) -----------------------------------------------------------------


def test_an_entity_in_json_has_native_flags_int64_as_text_and_rows_with_the_owner_key(answers):
    order = answers.order
    assert order["odata.metadata"].endswith(f"$metadata#{ORDERS}/@Element")
    assert isinstance(order["Posted"], bool) and isinstance(order["СуммаДокумента"], int | float)
    assert re.match(r"^[0-9a-f-]{36}$", order["Ref_Key"])
    for line in order["Товары"]:
        assert line["Ref_Key"] == order["Ref_Key"]
        assert isinstance(line["LineNumber"], str) and INT64_TEXT.match(line["LineNumber"])
        assert isinstance(line["Отменено"], bool)
    links = [k for k in order if k.endswith("@navigationLinkUrl")]
    assert "Партнер@navigationLinkUrl" in links
    assert order["Партнер@navigationLinkUrl"].endswith(f"(guid'{order['Ref_Key']}')/Партнер")


def test_a_set_in_json_is_a_value_list_under_its_metadata_url(answers):
    assert answers.orders["odata.metadata"].endswith(f"$metadata#{ORDERS}")
    assert len(answers.orders["value"]) >= 3
    assert all("odata.metadata" not in row for row in answers.orders["value"])


# -- one object, one event ---------------------------------------------------------------


def test_an_order_reads_the_same_from_its_package_and_from_json(answers):
    meta = Metadata.parse(answers.metadata)
    reader = EntryReader("erp", "contract", {ORDERS: "order"}, meta)
    atom, _ = reader.events(
        [(c.set_name, c.key, c.properties) for c in parse_feed(answers.package)], "m:1", "package"
    )
    json_page, _ = reader.events(
        [(ORDERS, None, row) for row in answers.orders["value"]], "poll:1", "window"
    )
    by_key, _ = reader.events([(ORDERS, None, answers.order)], "nudge:1", "re-read")
    from_json = {e.external_id: e for e in json_page}
    assert atom and {e.external_id for e in atom} <= set(from_json)
    for event in atom:
        other = from_json[event.external_id]
        assert event.payload == other.payload and event.version == other.version
    (one,) = by_key
    assert one.payload == from_json[one.external_id].payload
