"""The 1C SOAP client: a 1C web service (``…/ws/<name>.1cws``) through zeep.

- Basic auth with UTF-8 credentials, the counted ``erp`` session;
- the WSDL is loaded on the first call and kept; calls go to its SOAP 1.1
  binding at the address the WSDL was fetched from (1C behind a proxy often
  writes its internal host name into the WSDL);
- no XML (WSDL or reply) with a DTD, entities or external references is
  parsed: zeep refuses it and the call fails with :class:`ErpUnsafeXml`; a reply
  that is not XML, or not the WSDL's shape, is :class:`ErpPoisonAnswer` (both
  permanent: retrying does not cure them);
- the ``SOAPAction`` header of a Cyrillic operation (1C's is
  ``<namespace>#<Service>:<Operation>``) goes percent-encoded, as raw UTF-8, or
  empty (``soap_action``: ``percent``, ``utf8``, ``empty``): which one a 1C build
  accepts is not verified, and 1C is reported to route by the body element;
- a SOAP Fault is the service's own refusal: :class:`ErpSoapFault`, permanent;
  401/403 is :class:`ErpAccessDenied`; other 5xx, timeouts and connection
  errors are retried with backoff, then raised as :class:`ErpUnavailable`.

Operations are named by syncd's logical names, mapped to the service's own
(usually Cyrillic) operation names from the config:

    erp = ErpSoapClient("https://erp/ut11/ws/exchange.1cws?wsdl", "Обмен", password,
                        operations={"set_order_status": "УстановитьСтатусЗаказа"})
    erp.call("set_order_status", Номер="ЗК-000123", Статус="Отгружен")
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote
from xml.etree.ElementTree import Element, ParseError

import requests
import zeep
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from zeep.exceptions import (
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
    Fault,
    TransportError,
    XMLSyntaxError,
)
from zeep.exceptions import Error as ZeepError
from zeep.helpers import serialize_object
from zeep.proxy import ServiceProxy
from zeep.transports import Transport
from zeep.wsdl.bindings.soap import Soap11Binding

from syncd.connectors.http import counted_session
from syncd.connectors.onec.errors import (
    ErpAccessDenied,
    ErpError,
    ErpRequestError,
    ErpUnavailable,
)
from syncd.engine.retry import retrying_calls
from syncd.errors import PermanentError

RETRYABLE = (ErpUnavailable, requests.ConnectionError, requests.Timeout)
_URI_SAFE = "!\"#$%&'()*+,/:;=?@[]~"
UNSAFE = (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden)


class ErpSoapFault(ErpError, PermanentError):
    """The web service answered with a SOAP Fault: its own logic refused."""


class ErpPoisonAnswer(ErpError, PermanentError):
    """A reply that cannot be read: not XML, or not the shape the WSDL declares."""


class ErpUnsafeXml(ErpPoisonAnswer):
    """The WSDL or a reply carried a DTD, an entity or an external reference."""


SOAP_ACTION_MODES = ("percent", "utf8", "empty")


class _CheckedTransport(Transport):
    """Turns HTTP failures into typed errors before zeep reads the body as SOAP."""

    def __init__(self, *args: Any, soap_action: str = "percent", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if soap_action not in SOAP_ACTION_MODES:
            raise ValueError(f"soap_action: one of {', '.join(SOAP_ACTION_MODES)}")
        self.soap_action = soap_action

    def post(self, address: str, message: Any, headers: dict) -> requests.Response:
        response = super().post(address, message, self._headers(headers))
        status, content_type = response.status_code, response.headers.get("Content-Type", "")
        if status in (401, 403):
            raise ErpAccessDenied(status, None, "credentials or rights refused")
        is_fault = "xml" in content_type and b"Fault" in response.content
        if (status >= 500 and not is_fault) or "html" in content_type:
            raise ErpUnavailable(status, None, "no SOAP answer (an error page or a proxy)")
        return response

    def _headers(self, headers: dict) -> dict:
        """1C's soapAction is an IRI, often Cyrillic, and an HTTP header is Latin-1: it
        goes percent-encoded (a URI), as its UTF-8 bytes, or empty (SOAP 1.1 ``""``)."""
        out = {}
        for name, value in headers.items():
            if name.lower() == "soapaction" and not value.strip('"').isascii():
                if self.soap_action == "empty":
                    value = '""'
                elif self.soap_action == "utf8":
                    value = value.encode("utf-8")
                else:
                    value = quote(value, safe=_URI_SAFE)
            out[name] = value
        return out


class ErpSoapClient:
    def __init__(
        self,
        wsdl_url: str,
        user: str,
        password: str,
        *,
        operations: Mapping[str, str],
        timeout: tuple[float, float] = (10.0, 120.0),
        attempts: int = 5,
        metrics: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        gate: Any = None,
        pacer: Any = None,
        soap_action: str = "percent",
    ) -> None:
        self.wsdl_url = wsdl_url
        # shared with the base's OData client: one cap and one rate towards 1C
        self.gate, self.pacer = gate or contextlib.nullcontext(), pacer
        self.operations = dict(operations)
        self.session = counted_session("erp", metrics)
        # requests encodes str credentials as latin-1; 1C wants UTF-8
        self.session.auth = (user.encode("utf-8"), password.encode("utf-8"))
        self._secret = password
        self.transport = _CheckedTransport(
            session=self.session,
            timeout=timeout,
            operation_timeout=timeout,
            soap_action=soap_action,
        )
        self.settings = zeep.Settings(
            strict=False,
            xml_huge_tree=False,
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
        self._retrying = retrying_calls(
            RETRYABLE, attempts=attempts, initial=1, maximum=60, jitter=1, sleep=sleep
        )
        self._service: ServiceProxy | None = None
        self._available: list[str] = []
        self._lock = threading.Lock()

    def call(self, logical_name: str, **params: Any) -> Any:
        """Call the operation mapped to ``logical_name``; the result as plain Python."""
        service = self.service()
        name = self._operation(logical_name)
        result = self._guarded(name, lambda: service[name](**params))
        return serialize_object(result, target_cls=dict)

    def call_xml(self, logical_name: str, **params: Any) -> Element:
        """Call the operation and hand back its ``…Response`` element, parsed without
        DTDs or entities, as the service wrote it: zeep reads an empty string and a nil
        alike (None), and 1C sends both.  A SOAP Fault raises :class:`ErpSoapFault`."""
        service = self.service()
        name = self._operation(logical_name)

        def raw() -> Element:
            with service._client.settings(raw_response=True):
                response = service[name](**params)
            return _response_element(response.content, name)

        return self._guarded(name, raw)

    def _operation(self, logical_name: str) -> str:
        name = self.operations.get(logical_name)
        if name is None or name not in self._available:
            what = f"operation {logical_name!r}" + (f" ({name!r})" if name else "")
            raise ValueError(
                f"{what} names no operation of {self._where()}; "
                f"the WSDL has {', '.join(self._available) or 'none'}"
            )
        return name

    def forget_wsdl(self) -> None:
        """Fetch the WSDL again at the next call (a reload: the service may have changed)."""
        with self._lock:
            self._service = None

    def available(self) -> list[str]:
        """The operations the WSDL's SOAP 1.1 binding offers (the WSDL is fetched once)."""
        self.service()
        return list(self._available)

    def service(self) -> ServiceProxy:
        """The SOAP 1.1 service proxy; the WSDL is fetched once, on first use."""
        with self._lock:
            if self._service is None:
                self._service = self._guarded("WSDL", self._load)
            return self._service

    def _load(self) -> ServiceProxy:
        try:
            client = zeep.Client(self.wsdl_url, transport=self.transport, settings=self.settings)
        except (*UNSAFE, requests.RequestException):
            raise
        except (AttributeError, ZeepError) as exc:  # what lenient parsing makes of junk
            problem = f"{self._where()}: not a WSDL ({type(exc).__name__})"
            raise ErpUnavailable(0, None, problem) from None
        binding = next(
            (
                port.binding
                for service in client.wsdl.services.values()
                for port in service.ports.values()
                if isinstance(port.binding, Soap11Binding)
            ),
            None,
        )
        if binding is None:  # an HTML login or error page parses to an empty WSDL
            raise ErpUnavailable(0, None, f"{self._where()}: a WSDL without a SOAP 1.1 binding")
        self._available = sorted(binding.all())
        # the address we reached the WSDL at, not the one 1C wrote into it
        return client.create_service(binding.name, self._where())

    def _guarded(self, what: str, fn: Callable[[], Any]) -> Any:
        """``fn`` retried on transient errors, every failure as a typed ErpError."""
        try:
            return self._retrying(self._once, what, fn)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ErpUnavailable(0, None, self._clean(f"{what}: {type(exc).__name__}")) from None

    def _once(self, what: str, fn: Callable[[], Any]) -> Any:
        if self.pacer is not None:
            self.pacer.wait()
        try:
            with self.gate:
                return fn()
        except Fault as exc:
            raise ErpSoapFault(500, None, self._clean(f"{what}: {exc.message}")) from None
        except UNSAFE as exc:
            raise ErpUnsafeXml(0, None, f"{what}: refused {type(exc).__name__}") from None
        except requests.HTTPError as exc:  # the WSDL's own GET
            status = exc.response.status_code if exc.response is not None else 0
            raise self._http(status, f"{what}: HTTP {status} from {self._where()}") from None
        except TransportError as exc:
            raise self._http(exc.status_code, f"{what}: {exc.message[:200]}") from None
        except XMLSyntaxError:
            raise ErpPoisonAnswer(0, None, f"{what}: the answer is not XML") from None
        except (ValueError, LookupError, ZeepError) as exc:  # the XML is not the WSDL's shape
            problem = self._clean(f"{what}: the answer is not the WSDL's shape: {exc}")
            raise ErpPoisonAnswer(0, None, problem[:300]) from None

    def _http(self, status: int, message: str) -> ErpError:
        message = self._clean(message)
        if status in (401, 403):
            return ErpAccessDenied(status, None, message)
        if status >= 500 or status == 0:
            return ErpUnavailable(status, None, message)
        return ErpRequestError(status, None, message)

    def _where(self) -> str:
        return self.wsdl_url.split("?", 1)[0]

    def _clean(self, message: str) -> str:
        return message.replace(self._secret, "***") if self._secret else message


SOAP_ENVELOPES = (
    "http://schemas.xmlsoap.org/soap/envelope/",
    "http://www.w3.org/2003/05/soap-envelope",
)


def _response_element(content: bytes, operation: str) -> Element:
    """The ``<operation>Response`` element of a SOAP 1.1 or 1.2 answer (a Fault raised)."""
    try:
        envelope = defused_fromstring(content, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ErpUnsafeXml(0, None, f"{operation}: refused {type(exc).__name__}") from None
    except ParseError:
        raise ErpPoisonAnswer(0, None, f"{operation}: the answer is not XML") from None
    body = next((c for c in envelope if local_name(c.tag) == "Body"), None)
    if envelope.tag.split("}")[0].lstrip("{") not in SOAP_ENVELOPES or body is None:
        raise ErpPoisonAnswer(0, None, f"{operation}: the answer is not a SOAP envelope")
    first = next(iter(body), None)
    if first is not None and local_name(first.tag) == "Fault":
        texts = [e.text or "" for e in first.iter() if local_name(e.tag) in ("faultstring", "Text")]
        raise Fault(" ".join(t.strip() for t in texts if t.strip()) or "SOAP Fault")
    if first is None or local_name(first.tag) != f"{operation}Response":
        raise ErpPoisonAnswer(0, None, f"{operation}: no {operation}Response in the answer")
    return first


def local_name(tag: str) -> str:
    """An XML tag without its namespace."""
    return tag.rsplit("}", 1)[-1]
