"""The CRM connector's settings: the ``crm:`` section (RetailCRM, the system ``crm``).

Declared here, beside the connector that reads them; the core (``syncd.config``)
takes the section as this model, its environment variables from ``ENV`` and its
secrets by walking it (``api_key`` is a ``SecretStr``: never logged, redacted
from every log line).

    crm:
      url: https://shop.retailcrm.ru     # or SYNCD_CRM_URL
      api_key: ...                       # SYNCD_CRM_API_KEY (a secret)
      site: shop                         # SYNCD_CRM_SITE
      timezone: Europe/Moscow
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator

from syncd.config_base import Strict, known_zone
from syncd.connectors.retailcrm.timeouts import CrmTimeouts


class CrmSettings(Strict):
    # the environment variables that set a key of this section (they win over the file)
    ENV: ClassVar[dict[str, str]] = {
        "SYNCD_CRM_URL": "url",
        "SYNCD_CRM_API_KEY": "api_key",
        "SYNCD_CRM_SITE": "site",
    }

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
