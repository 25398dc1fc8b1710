"""The settings of the two outside systems: RetailCRM (``crm:``) and 1C (``erp:``).

Their secrets (``crm.api_key``, ``erp.password``) are ``SecretStr``; the URLs,
user and secrets usually come from the environment (``syncd.config.ENV_VARS``).

    settings.crm.timezone, settings.erp.requests_per_second
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from syncd.config_base import Strict
from syncd.connectors.retailcrm.timeouts import CrmTimeouts


class CrmSettings(Strict):
    url: str | None = None
    api_key: SecretStr | None = None
    site: str | None = None
    # RetailCRM dates (history createdAt, order createdAt, generatedAt) carry no
    # zone: they are the account's local time, read and written in this zone.
    timezone: str = "Europe/Moscow"
    # let `syncd customers merge` combine CRM customers found to be one person
    merge_duplicates: bool = False
    # seconds to wait per kind of call: reads, one-object writes, batch uploads
    timeouts: CrmTimeouts = Field(default_factory=CrmTimeouts)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)


def known_zone(name: str) -> str:
    """An IANA zone name this host knows (``Europe/Moscow``), else ValueError."""
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown time zone {name!r}; expected e.g. Europe/Moscow") from None
    return name


class ErpSoapSettings(Strict):
    wsdl_url: str | None = None
    # syncd's name for an operation -> the operation's name in the WSDL
    operations: dict[str, str] = Field(default_factory=dict)


class ErpSettings(Strict):
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
