"""How the sandbox CRM answers a batch upload that goes in only in part.

RetailCRM has two answers for ``orders/upload`` / ``customers/upload`` when
some items go in and others do not (shared/reference/retailcrm-api.md §0.1,
§1.4):

- ``200`` — ``success: true`` with ``uploadedOrders`` (``{id, externalId}``),
  ``orders`` (the whole orders that went in) and ``failedOrders``
  (``[{externalId}]``); this is the shape of the recorded answers, so it is
  the sandbox's default.  Whether such an answer also carries ``errors`` is
  not recorded, so the sandbox sends none: a client must cope without the
  reason;
- ``460`` — ``success: false``, ``errorMsg`` "Orders are loaded with errors",
  ``errors`` (a list of lines) with the same uploaded/failed lists.

``SandboxCrm(..., partial_upload_status=460)`` picks the second.  More than 50
items is refused with 400.

    status, body = upload_answer(state, "order", items, "main", key, partial_status=200)
"""

from __future__ import annotations

import copy
from typing import Literal

from syncd_sandbox.crm_state import CrmRefusal, CrmState

UPLOAD_LIMIT = 50
PartialStatus = Literal[200, 460]


def upload_answer(
    state: CrmState,
    entity: str,
    items: list,
    site: str | None,
    author: str,
    *,
    partial_status: PartialStatus = 200,
) -> tuple[int, dict]:
    """Create each item in turn; answer what went in and what did not."""
    if len(items) > UPLOAD_LIMIT:
        raise CrmRefusal(
            400,
            "Errors in the input parameters",
            {f"{entity}s": f"Can be uploaded only {UPLOAD_LIMIT} items per request"},
        )
    uploaded, objects, failed, errors = [], [], [], []
    for item in items:
        try:
            obj = state.create(entity, item, site, author)
        except CrmRefusal as exc:
            failed.append({"externalId": item.get("externalId")})
            errors.append(exc.message if not exc.errors else f"{exc.message} {exc.errors}")
            continue
        uploaded.append({"id": obj["id"], "externalId": obj.get("externalId")})
        objects.append(copy.deepcopy(obj))  # answered after the lock is let go
    plural = "Orders" if entity == "order" else "Customers"
    body: dict = {"success": True, f"uploaded{plural}": uploaded}
    if entity == "order":
        body["orders"] = objects
    if not failed:
        return 200, body
    if partial_status == 200:
        return 200, {**body, f"failed{plural}": failed}
    return 460, {
        "success": False,
        "errorMsg": f"{plural} are loaded with errors",
        "errors": errors,
        f"uploaded{plural}": uploaded,
        f"failed{plural}": failed,
    }
