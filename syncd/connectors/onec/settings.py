"""The 1C connector's settings: the ``erp:`` section (1C:УТ 11, 1C:ERP 2, 1C:Розница 2).

Declared here, beside the connector that reads them; the core (``syncd.config``)
takes the section as this model, its environment variables from ``ENV`` and its
secrets by walking it (``password`` is a ``SecretStr``: never logged, redacted
from every log line).

    erp:
      odata_url: https://1c.example.ru/ut/odata/standard.odata   # or SYNCD_ERP_ODATA_URL
      user: syncd                                                # SYNCD_ERP_USER
      password: ...                                              # SYNCD_ERP_PASSWORD (a secret)
      timezone: Europe/Moscow
      soap: {wsdl_url: https://1c.example.ru/ut/ws/syncd?wsdl}
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator

from syncd.config_base import Strict

# syncd's name for an operation -> its name in the SyncdExchange web service
# (contrib/1c/SyncdExchange); erp.soap.operations renames any of them
SYNCD_EXCHANGE_OPERATIONS = {
    "describe": "Describe",
    "received_no": "ReceivedNo",
    "select_changes": "SelectChanges",
    "notify_changes_received": "NotifyChangesReceived",
    "get_object": "GetObject",
    "set_order_status": "SetOrderStatus",
}


class ErpSoapSettings(Strict):
    wsdl_url: str | None = None
    # syncd's name for an operation -> the operation's name in the WSDL (over the
    # SyncdExchange names; an integrator's own service may name them in Cyrillic)
    operations: dict[str, str] = Field(default_factory=lambda: dict(SYNCD_EXCHANGE_OPERATIONS))
    # how a non-ASCII SOAPAction goes: percent-encoded, raw UTF-8, or empty ("")
    soap_action: Literal["percent", "utf8", "empty"] = "percent"

    @field_validator("operations")
    @classmethod
    def _over_the_shipped_names(cls, value: dict[str, str]) -> dict[str, str]:
        return SYNCD_EXCHANGE_OPERATIONS | value


class ErpSettings(Strict):
    # the environment variables that set a key of this section (they win over the file)
    ENV: ClassVar[dict[str, str]] = {
        "SYNCD_ERP_ODATA_URL": "odata_url",
        "SYNCD_ERP_USER": "user",
        "SYNCD_ERP_PASSWORD": "password",
    }

    odata_url: str | None = None
    user: str | None = None
    password: SecretStr | None = None
    # 1C dates carry no zone: they are read and written in this one.
    timezone: str = "Europe/Moscow"
    max_concurrency: int = Field(2, ge=1, le=32)
    requests_per_second: float = Field(5.0, gt=0)
    timeout_seconds: float = Field(120.0, gt=0)
    page_size: int = Field(200, ge=1, le=5000)
    page_bytes: int = Field(4_000_000, ge=10_000)
    # send If-Match: <DataVersion> with writes (documented, not enforced on every build)
    send_if_match: bool = False
    soap: ErpSoapSettings = Field(default_factory=ErpSoapSettings)
