"""How long syncd waits for RetailCRM, per kind of call (``crm.timeouts``).

One read timeout for everything (it was 30 s) let a single hung call hold a
worker, and every command queued behind it, for half a minute.  RetailCRM
answers a read or an edit in well under a second and a 50-order upload in a
few, so each kind gets a bound that suits it:

- ``connect_seconds`` — to open the connection (any call);
- ``read_seconds`` — GET: lists, one object, statuses, history pages;
- ``write_seconds`` — one-object POSTs: ``*/edit``, ``*/create``,
  ``fix-external-ids``, ``customers/combine``;
- ``upload_seconds`` — batch uploads (``orders/upload``, ``customers/upload``,
  50 objects a call).

A GET that times out is simply asked again.  A POST that times out may still
be applied by the CRM later, so it is never re-sent blindly: the sink re-reads
the object first (``late_writes``).

    timeouts = CrmTimeouts(read_seconds=5)
    timeouts.for_call("POST", "orders/upload")     # (3.0, 20.0)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CrmTimeouts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connect_seconds: float = Field(3.0, gt=0, le=60)
    read_seconds: float = Field(8.0, gt=0, le=300)
    write_seconds: float = Field(10.0, gt=0, le=300)
    upload_seconds: float = Field(20.0, gt=0, le=300)

    def for_call(self, method: str, path: str) -> tuple[float, float]:
        """``(connect, read)`` seconds for one call, as ``requests`` takes them."""
        if method == "GET":
            return (self.connect_seconds, self.read_seconds)
        if path.endswith("/upload"):
            return (self.connect_seconds, self.upload_seconds)
        return (self.connect_seconds, self.write_seconds)

    @property
    def longest(self) -> float:
        """The most one call can take before it gives up (connect plus the longest read)."""
        return self.connect_seconds + max(
            self.read_seconds, self.write_seconds, self.upload_seconds
        )
