"""A 1C-style SOAP web service as a WSGI app, for the demo and the tests.

Serves ``/ws/<name>.1cws`` (after any publication prefix) like a 1C HTTP
publication does: ``GET ?wsdl`` gives a WSDL 1.1 shaped like 1C's own
(document/literal, a ``<name>Soap`` and a ``<name>Soap12`` port, the address
being the URL the WSDL was asked at), ``POST`` takes a SOAP 1.1 envelope and
dispatches on the body element's local name; a SOAP 1.2 envelope is answered
in SOAP 1.2 (``application/soap+xml``, a fault as ``Code``/``Reason``).  Basic auth with UTF-8
credentials when ``user`` is set; requests are parsed with defusedxml, so a
DTD or an entity gets a fault and is never expanded.

Each operation is an :class:`Operation`: its parameter names (all
``xs:string``, passed to the handler as keyword arguments, ``None`` when
absent), the handler, and ``returns``: ``None`` for an ``xs:string`` result,
or the field names of a complex type (``item``, ``Order`` by default) for a
handler returning a list of dicts, rendered as repeated ``return`` elements.
A plain ``(params, handler)`` or ``(params, handler, returns)`` tuple works
too.  ``render`` replaces that: a function of the handler's result giving the
XML inside ``<m:<op>Response>``.  A handler raising :class:`SoapFault` gets a
SOAP Fault (HTTP 500).  ``wsdl_text`` serves a given WSDL instead of one made
from the operations, its ``soapbind:address``/``soap12bind:address`` locations
set to the URL it was asked at.

    service = SandboxSoapService("exchange", "http://example.org/exchange", {
        "УстановитьСтатусЗаказа": Operation(["Номер", "Статус"], set_status),
        "ИзмененныеЗаказы": Operation(["С"], changed, returns=["Номер", "Статус"]),
    }, user="Обмен", password="secret")
    service.calls["ИзмененныеЗаказы"]      # how many times it was called
"""

from __future__ import annotations

import base64
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from wsgiref.util import request_uri
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape, quoteattr

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_TYPE = "text/xml; charset=utf-8"
SOAP12_TYPE = "application/soap+xml; charset=utf-8"
LOCATION = re.compile(r'(<soap(?:12)?bind:address location=)"[^"]*"')


class SoapFault(Exception):
    """Raised by an operation's handler: answered as a SOAP Fault (soap:Server)."""


@dataclass(frozen=True)
class Operation:
    params: Sequence[str]
    handler: Callable[..., Any]
    returns: Sequence[str] | None = None  # None: xs:string; else fields of `item`
    item: str = "Order"
    render: Callable[[Any], str] | None = None  # the result as the Response's inner XML


class SandboxSoapService:
    """The WSGI app of one 1C web service; ``calls`` counts dispatches per operation."""

    def __init__(
        self,
        name: str,
        namespace: str,
        operations: Mapping[str, Operation | tuple],
        user: str | None = None,
        password: str | None = None,
        wsdl_text: str | None = None,
    ) -> None:
        self.name, self.namespace, self.wsdl_text = name, namespace, wsdl_text
        self.operations = {
            op: spec if isinstance(spec, Operation) else Operation(*spec)
            for op, spec in operations.items()
        }
        self.user, self.password = user, password
        self.calls: Counter[str] = Counter()
        self.soap_actions: list[bytes] = []  # each POST's SOAPAction header, as sent
        self.max_body_bytes = 16 * 1024 * 1024  # served by syncd.web.HttpServer
        self._lock = threading.Lock()
        self._types: dict[str, tuple[str, ...]] = {}
        for op in self.operations.values():
            if op.returns is not None:
                fields = tuple(op.returns)
                if self._types.setdefault(op.item, fields) != fields:
                    raise ValueError(f"type {op.item!r} is declared with different fields")

    # -- WSGI ------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        status, body, content_type = self._handle(environ)
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        if status == 401:
            headers.append(("WWW-Authenticate", f'Basic realm="{self.name}"'))
        start_response(_STATUS[status], headers)
        return [body]

    def _handle(self, environ: dict) -> tuple[int, bytes, str]:
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        if not path.endswith(f"/ws/{self.name}.1cws"):
            return 404, b"not found", "text/plain; charset=utf-8"
        if not self._authorized(environ.get("HTTP_AUTHORIZATION", "")):
            return 401, b"authorization required", "text/plain; charset=utf-8"
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "GET" and environ.get("QUERY_STRING", "").lower().startswith("wsdl"):
            address = request_uri(environ, include_query=False)
            return 200, self.wsdl(address).encode("utf-8"), XML_TYPE
        if method != "POST":
            return 405, b"use GET ?wsdl or POST a SOAP envelope", "text/plain; charset=utf-8"
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        if size > self.max_body_bytes:
            return 413, b"request too large", "text/plain; charset=utf-8"
        action = environ.get("HTTP_SOAPACTION")
        if action is not None:  # WSGI hands headers over as Latin-1 text: the bytes sent
            self.soap_actions.append(action.encode("latin-1"))
        return self._dispatch(environ["wsgi.input"].read(size))

    def _authorized(self, header: str) -> bool:
        if self.user is None:
            return True
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(token).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == self.user and password == (self.password or "")

    # -- SOAP ------------------------------------------------------------------
    def _dispatch(self, raw: bytes) -> tuple[int, bytes, str]:
        try:
            envelope = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        except DefusedXmlException as exc:
            return _fault("soap:Client", f"XML refused: {type(exc).__name__}")
        except ParseError as exc:
            return _fault("soap:Client", f"malformed XML: {exc}")
        version = SOAP12 if envelope.tag == f"{{{SOAP12}}}Envelope" else SOAP11
        body = envelope.find(f"{{{version}}}Body")
        if envelope.tag != f"{{{version}}}Envelope" or body is None or len(body) == 0:
            return _fault("soap:Client", "a SOAP 1.1 or 1.2 envelope with a body was expected")
        call = body[0]
        name = _local(call.tag)
        op = self.operations.get(name)
        if op is None:
            return _fault("soap:Client", f"method not found: {name}", version)
        given = {_local(child.tag): child for child in call}
        kwargs = {p: _text(given[p]) if p in given else None for p in op.params}
        with self._lock:
            self.calls[name] += 1
        try:
            result = op.handler(**kwargs)
        except SoapFault as exc:
            return _fault("soap:Server", str(exc), version)
        except Exception as exc:  # noqa: BLE001 - 1C answers any exception with a fault
            return _fault("soap:Server", f"{type(exc).__name__}: {exc}", version)
        content_type = SOAP12_TYPE if version == SOAP12 else XML_TYPE
        return 200, self._response(name, op, result, version).encode("utf-8"), content_type

    def _response(self, name: str, op: Operation, result: Any, version: str = SOAP11) -> str:
        if op.render is not None:
            returns = op.render(result)
        elif op.returns is None:
            returns = f"<m:return>{escape('' if result is None else str(result))}</m:return>"
        else:
            returns = "".join(
                "<m:return>"
                + "".join(
                    f"<m:{f}>{escape(str(row[f]))}</m:{f}>"
                    for f in op.returns
                    if row.get(f) is not None
                )
                + "</m:return>"
                for row in result or ()
            )
        return _envelope(
            f"<m:{name}Response xmlns:m={quoteattr(self.namespace)}>{returns}</m:{name}Response>",
            version,
        )

    # -- WSDL ------------------------------------------------------------------
    def wsdl(self, address: str) -> str:
        """The WSDL 1.1 document, with ``address`` as both ports' location."""
        if self.wsdl_text is not None:
            return LOCATION.sub(lambda m: m.group(1) + quoteattr(address), self.wsdl_text)
        n, ns = self.name, quoteattr(self.namespace)
        types = "".join(
            f'<xs:complexType name="{t}"><xs:sequence>'
            + "".join(f'<xs:element name="{f}" type="xs:string" minOccurs="0"/>' for f in fields)
            + "</xs:sequence></xs:complexType>"
            for t, fields in self._types.items()
        )
        elements, messages, port_ops, soap11, soap12 = [], [], [], [], []
        for op, spec in self.operations.items():
            params = "".join(
                f'<xs:element name="{p}" type="xs:string" nillable="true"/>' for p in spec.params
            )
            ret = (
                '<xs:element name="return" type="xs:string"/>'
                if spec.returns is None
                else f'<xs:element name="return" type="tns:{spec.item}" minOccurs="0" '
                'maxOccurs="unbounded"/>'
            )
            elements.append(
                f'<xs:element name="{op}"><xs:complexType><xs:sequence>{params}'
                f'</xs:sequence></xs:complexType></xs:element><xs:element name="{op}Response">'
                f"<xs:complexType><xs:sequence>{ret}</xs:sequence></xs:complexType></xs:element>"
            )
            messages.append(
                f'<message name="{op}RequestMessage"><part name="parameters" element="tns:{op}"/>'
                f'</message><message name="{op}ResponseMessage"><part name="parameters" '
                f'element="tns:{op}Response"/></message>'
            )
            port_ops.append(
                f'<operation name="{op}"><input message="tns:{op}RequestMessage"/>'
                f'<output message="tns:{op}ResponseMessage"/></operation>'
            )
            action = quoteattr(f"{self.namespace}#{n}:{op}")
            for prefix, out in (("soapbind", soap11), ("soap12bind", soap12)):
                out.append(
                    f'<operation name="{op}"><{prefix}:operation style="document" '
                    f'soapAction={action}/><input><{prefix}:body use="literal"/></input>'
                    f'<output><{prefix}:body use="literal"/></output></operation>'
                )
        http = 'transport="http://schemas.xmlsoap.org/soap/http"'
        location = quoteattr(address)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" '
            'xmlns:soap12bind="http://schemas.xmlsoap.org/wsdl/soap12/" '
            'xmlns:soapbind="http://schemas.xmlsoap.org/wsdl/soap/" '
            f'xmlns:tns={ns} xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
            f'xmlns:xsd1={ns} name="{n}" targetNamespace={ns}>'
            f'<types><xs:schema xmlns:tns={ns} xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            f'targetNamespace={ns} attributeFormDefault="unqualified" '
            f'elementFormDefault="qualified">{types}{"".join(elements)}</xs:schema></types>'
            f'{"".join(messages)}<portType name="{n}PortType">{"".join(port_ops)}</portType>'
            f'<binding name="{n}SoapBinding" type="tns:{n}PortType">'
            f'<soapbind:binding style="document" {http}/>{"".join(soap11)}</binding>'
            f'<binding name="{n}Soap12Binding" type="tns:{n}PortType">'
            f'<soap12bind:binding style="document" {http}/>{"".join(soap12)}</binding>'
            f'<service name="{n}"><port name="{n}Soap" binding="tns:{n}SoapBinding">'
            f"<soapbind:address location={location}/></port>"
            f'<port name="{n}Soap12" binding="tns:{n}Soap12Binding">'
            f"<soap12bind:address location={location}/></port></service></definitions>"
        )


_STATUS = {
    200: "200 OK",
    401: "401 Unauthorized",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Payload Too Large",
    500: "500 Internal Server Error",
}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: Element) -> str | None:
    if element.get(f"{{{XSI}}}nil") in ("true", "1"):
        return None
    return element.text or ""


def _envelope(content: str, version: str = SOAP11) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<soap:Envelope xmlns:soap="{version}"><soap:Body>{content}</soap:Body></soap:Envelope>'
    )


def _fault(code: str, message: str, version: str = SOAP11) -> tuple[int, bytes, str]:
    if version == SOAP12:  # Sender/Receiver where SOAP 1.1 says Client/Server
        value = "soap:Sender" if code == "soap:Client" else "soap:Receiver"
        fault = (
            f"<soap:Fault><soap:Code><soap:Value>{value}</soap:Value></soap:Code>"
            f'<soap:Reason><soap:Text xml:lang="ru">{escape(message)}</soap:Text></soap:Reason>'
            "</soap:Fault>"
        )
        return 500, _envelope(fault, version).encode("utf-8"), SOAP12_TYPE
    fault = (
        f"<soap:Fault><faultcode>{code}</faultcode>"
        f"<faultstring>{escape(message)}</faultstring></soap:Fault>"
    )
    return 500, _envelope(fault).encode("utf-8"), XML_TYPE
