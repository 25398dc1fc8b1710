"""What a batch upload did to each item it carried.

RetailCRM answers ``orders/upload`` and ``customers/upload`` in two ways when
some items go in and others do not:

- HTTP 200 with ``success: true`` *and* ``failedOrders`` / ``failedCustomers``
  (the shape of the recorded answers), with or without ``errors``;
- HTTP 460 with ``success: false``, ``errorMsg`` and ``errors`` (an object
  keyed by field path or a list of lines, which need not name the item).

Both name what went in — ``uploadedOrders`` / ``uploadedCustomers`` as
``{id, externalId}``, or an ``orders`` / ``customers`` list of the whole
objects — and what did not, as ``[{externalId}]``.

``read_answer`` sorts the items sent into uploaded, failed (with the reasons
that name them) and unreported (in neither list).  The client looks the
failed and unreported ones up by externalId and ``settle`` decides each:
found means the object is in the CRM already (a duplicate, or an answer that
forgot it) and is bound by its id; not found is a failure with the reason
the answer gave — and when it gave none, or left the item out, the item is
sent once by itself (``orders/create``), which either puts it in or answers
the exact refusal.  No item leaves an upload without one of the three
outcomes, and no failure without a reason.

    answer = read_answer(body, sent, "orders")
    found = {o["externalId"]: o for o in crm.orders_by_external_ids(answer.to_look_up)}
    settle(result, answer, found, "order", alone=create_one)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from syncd.connectors.retailcrm.errors import error_lines


@dataclass
class UploadResult:
    """Every item of an upload (all its chunks), each in exactly one list.

    ``uploaded``: ``{id, externalId}`` of what this upload put in.
    ``existing``: ``{id, externalId, errors}`` of what the CRM held already —
    refused (usually "already exists") or left out of the answer, then found
    by externalId; ``errors`` says what the answer said of it.
    ``failed``: ``{externalId, errors}`` of what is not in the CRM, and why.
    """

    uploaded: list[dict] = field(default_factory=list)
    existing: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    calls: int = 0


@dataclass
class UploadAnswer:
    """One chunk's answer, read against the items sent in it."""

    uploaded: list[dict]
    failed: dict[str, list[str]]  # externalId -> reasons ([] when the answer gave none)
    unreported: list[str]  # externalIds the answer names nowhere
    summary: str  # errorMsg and errors, for the reasons of unreported items

    @property
    def to_look_up(self) -> list[str]:
        return [*self.failed, *self.unreported]


def read_answer(body: dict, sent: list[dict], key: str) -> UploadAnswer:
    """Sort the items ``sent`` by what the answer ``body`` says of them.

    ``key`` is ``orders`` or ``customers``; either answer form is read.
    """
    plural = key[0].upper() + key[1:]
    uploaded = [
        {"id": u.get("id"), "externalId": str(u.get("externalId"))}
        for u in _as_items(body.get(f"uploaded{plural}") or body.get(key))
        if u.get("externalId") is not None
    ]
    lines = error_lines(body.get("errors"))
    went_in = {u["externalId"] for u in uploaded}
    failed_entries = [
        f
        for f in _as_items(body.get(f"failed{plural}"))
        if f.get("externalId") is not None and str(f["externalId"]) not in went_in
    ]
    failed: dict[str, list[str]] = {}
    for entry in failed_entries:
        ext = str(entry["externalId"])
        own = error_lines(entry.get("errors")) + error_lines(entry.get("errorMsg"))
        failed[ext] = own or _reasons_for(ext, lines, len(failed_entries), key)
    done = went_in | set(failed)
    unreported = [
        str(item["externalId"])
        for item in sent
        if item.get("externalId") is not None and str(item["externalId"]) not in done
    ]
    summary = "; ".join(filter(None, [str(body.get("errorMsg") or ""), *lines]))
    return UploadAnswer(uploaded, failed, unreported, summary)


def settle(
    result: UploadResult,
    answer: UploadAnswer,
    found: dict[str, dict],
    entity: str,
    alone: Callable[[str], dict | str],
) -> None:
    """Add one chunk's items to ``result``.

    ``found``: the CRM objects by externalId.  ``alone(externalId)`` sends one
    item by itself (``*/create``) and answers ``{id, externalId}`` when it goes
    in, else the refusal's text — asked only of an item that is not in the
    CRM and whose refusal came without a reason, or that the answer left out.
    """
    result.uploaded.extend(answer.uploaded)
    for ext in answer.to_look_up:
        said = answer.failed.get(ext)
        what = (
            f"{entity}s/upload listed it as failed without a reason"
            if ext in answer.failed
            else unreported_reason(entity, answer.summary)
        )
        crm_object = found.get(ext)
        if crm_object is not None:
            reasons = said or [what]
            result.existing.append(
                {"id": crm_object.get("id"), "externalId": ext, "errors": reasons}
            )
        elif said:
            result.failed.append({"externalId": ext, "errors": said})
        else:
            outcome = alone(ext)
            if isinstance(outcome, dict):
                result.uploaded.append(outcome)
            else:
                refused = f"{what}; sent alone, {entity}s/create refused it: {outcome}"
                result.failed.append({"externalId": ext, "errors": [refused]})


def unreported_reason(entity: str, summary: str) -> str:
    said = f" ({summary})" if summary else ""
    return f"the {entity}s/upload answer{said} named it neither uploaded nor failed"


def _reasons_for(ext: str, lines: list[str], failed_count: int, key: str) -> list[str]:
    """The error lines that name this externalId; all of them if none does; none if none came."""
    mine = [line for line in lines if _names(line, ext)]
    if mine or (lines and failed_count == 1):
        return mine or lines
    if lines:
        return [f"{key}/upload did not say which of its errors is this item's: " + "; ".join(lines)]
    return []  # no reason given


def _names(line: str, ext: str) -> bool:
    """``ext`` appears in ``line`` as a whole identifier (``E1`` is not in ``E12``)."""
    return re.search(rf"(?<![\w-]){re.escape(ext)}(?![\w-])", line) is not None


def _as_items(value: object) -> list[dict]:
    """A list of objects that may come as a list or as a map keyed by id."""
    if isinstance(value, dict):
        value = list(value.values())
    return [v for v in value or [] if isinstance(v, dict)] if isinstance(value, list) else []
