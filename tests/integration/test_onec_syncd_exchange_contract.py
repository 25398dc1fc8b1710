"""The SyncdExchange web service: the WSDL in contrib/, the sandbox's, and syncd agree.

The WSDL shipped in ``contrib/1c/SyncdExchange`` is the contract; the sandbox 1C
serves it and answers every operation; zeep, strict, reads each answer against it;
and every operation syncd calls by default is in it.  The WSDL's shape is the one
1C generates (``shared/reference/1c-erp.md`` §3: ``.1cws``, ``…Soap``/``…Soap12``
ports; soapAction ``namespace#Service:Operation``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault
from zeep.transports import Transport

from syncd.connectors.onec.metadata import Metadata
from syncd.connectors.onec.settings import SYNCD_EXCHANGE_OPERATIONS
from syncd_sandbox.erp_syncd_exchange import NAME, NAMESPACE
from tests.support.erp import ORDERS, PASSWORD, USER, erp_sandbox, ws_url
from tests.support.paths import ROOT

CONTRIB = ROOT / "contrib/1c/SyncdExchange"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP11_BIND = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12_BIND = "http://schemas.xmlsoap.org/wsdl/soap12/"
XS = "http://www.w3.org/2001/XMLSchema"


def wsdl_tree(text: bytes) -> etree._Element:
    return etree.fromstring(text, etree.XMLParser(resolve_entities=False, no_network=True))


def operations(tree: etree._Element) -> list[str]:
    return [op.get("name") for op in tree.iterfind(f"{{{WSDL_NS}}}portType/{{{WSDL_NS}}}operation")]


def test_the_shipped_wsdl_has_the_shape_1c_generates():
    tree = wsdl_tree((CONTRIB / "SyncdExchange.wsdl").read_bytes())
    assert tree.get("name") == NAME and tree.get("targetNamespace") == NAMESPACE
    ports = {p.get("name") for p in tree.iter(f"{{{WSDL_NS}}}port")}
    assert ports == {f"{NAME}Soap", f"{NAME}Soap12"}
    names = operations(tree)
    for prefix in (SOAP11_BIND, SOAP12_BIND):
        actions = {
            op.getparent().get("name"): op.get("soapAction")
            for op in tree.iter(f"{{{prefix}}}operation")
        }
        assert actions == {n: f"{NAMESPACE}#{NAME}:{n}" for n in names}
        assert {b.get("style") for b in tree.iter(f"{{{prefix}}}binding")} == {"document"}
    schema = tree.find(f".//{{{XS}}}schema")
    assert schema.get("elementFormDefault") == "qualified"
    elements = {e.get("name"): e for e in schema.iterfind(f"{{{XS}}}element")}
    for name in names:  # document/literal wrapped: <Op> in, <Op>Response with one return
        assert name in elements
        returns = elements[f"{name}Response"].findall(f".//{{{XS}}}element")
        assert [r.get("name") for r in returns] == ["return"]


def test_the_sandbox_serves_the_shipped_wsdl_and_implements_each_operation():
    with erp_sandbox() as (app, url):
        served = requests.get(ws_url(url), auth=(USER.encode(), PASSWORD.encode()), timeout=10)
    shipped = wsdl_tree((CONTRIB / "SyncdExchange.wsdl").read_bytes())
    tree = wsdl_tree(served.content)
    assert served.status_code == 200
    assert operations(tree) == operations(shipped)
    assert set(app.syncd_ws.operations) == set(operations(shipped))
    locations = {a.get("location") for a in tree.iter(f"{{{SOAP11_BIND}}}address")}
    assert locations == {ws_url(url).split("?")[0]}  # where it was asked, as 1C writes it


def test_syncd_calls_only_operations_the_shipped_wsdl_has():
    shipped = set(operations(wsdl_tree((CONTRIB / "SyncdExchange.wsdl").read_bytes())))
    assert set(SYNCD_EXCHANGE_OPERATIONS.values()) == shipped


def strict_client(url: str, port: str) -> zeep.Client:
    """zeep reading the contrib WSDL (not the served one), strict, at the sandbox."""
    session = requests.Session()
    session.auth = (USER.encode(), PASSWORD.encode())
    client = zeep.Client(
        str(CONTRIB / "SyncdExchange.wsdl"),
        transport=Transport(session=session),
        settings=zeep.Settings(strict=True),
    )
    client.service  # noqa: B018 - binds the default port
    binding = f"{{{NAMESPACE}}}{NAME}{'Soap12' if port == '1.2' else 'Soap'}Binding"
    return client.create_service(binding, ws_url(url).split("?")[0])


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_every_answer_of_the_sandbox_reads_strictly_against_the_shipped_wsdl(version):
    with erp_sandbox() as (app, url):
        service = strict_client(url, version)
        order = next(o for o in app.state.rows(ORDERS) if o["Статус"] == "НеСогласован")
        assert service.ReceivedNo("syncd") == 0
        changes = service.SelectChanges("syncd", 1)
        assert changes.MessageNo == 1 and changes.Entry
        assert {e.Deleted for e in changes.Entry} == {False}
        assert service.NotifyChangesReceived("syncd", 1) is True
        found = service.GetObject(ORDERS, order["Ref_Key"])
        assert found.Set == ORDERS and found.Table[0].Name == "Товары"
        missing = service.GetObject(ORDERS, "00000000-0000-0000-0000-000000000001")
        assert missing is None or missing.Set is None  # xsi:nil: zeep gives an empty object
        after = service.SetOrderStatus(order["Ref_Key"], "КОбеспечению")
        values = {p.Name: p.Value for p in after.Property}
        assert values["Статус"] == "КОбеспечению" and values["Posted"] == "true"
        Metadata.parse(service.Describe()).entity(ORDERS)
        with pytest.raises(Fault) as fault:
            service.SelectChanges("нет", 1)
    assert "Узел нет плана обмена syncd не найден" in fault.value.message


def test_the_1c_module_implements_the_shipped_operations_with_their_parameters():
    module = (CONTRIB / "Module.bsl").read_text(encoding="utf-8")
    tree = wsdl_tree((CONTRIB / "SyncdExchange.wsdl").read_bytes())
    schema = tree.find(f".//{{{XS}}}schema")
    for name in operations(tree):
        request = schema.find(f"{{{XS}}}element[@name='{name}']")
        params = [e.get("name") for e in request.iter(f"{{{XS}}}element") if e is not request]
        found = re.search(rf"^Функция {name}\(([^)]*)\)", module, re.MULTILINE)
        assert found, name
        declared = [p.split("=")[0].strip() for p in found.group(1).split(",") if p.strip()]
        assert declared == params, name


def test_the_folder_holds_what_an_integrator_adds():
    assert {p.name for p in CONTRIB.iterdir()} >= {"SyncdExchange.wsdl", "Module.bsl"}
    assert Path(CONTRIB / "Module.bsl").read_text(encoding="utf-8").count("ВызватьИсключение") >= 3
