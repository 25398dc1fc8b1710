"""Typed RetailCRM errors, mapped from the HTTP status and the JSON envelope.

RetailCRM answers ``{"success": false, "errorMsg": …, "errors": …}`` where
``errors`` is an object keyed by field path **or** a list of strings; an
account that does not exist answers a JSON 404 to GET but an nginx HTML page
with 405 to POST.  Rate limiting comes as 503 (429 is handled the same way).
Retryable errors subclass ``TransientError``; refusals ``PermanentError``; a
call that got no answer in time is ``CrmNoAnswer``.
Messages never carry the API key.
"""

from __future__ import annotations

from typing import Any

from syncd.errors import PermanentError, SyncdError, TransientError


def error_lines(errors: Any) -> list[str]:
    """``errors`` as readable lines, whichever shape it came in."""
    if isinstance(errors, dict):
        return [f"{field}: {text}" for field, text in errors.items()]
    if isinstance(errors, list):
        return [str(e) for e in errors]
    return [] if errors in (None, "") else [str(errors)]


class CrmError(SyncdError):
    """Base of RetailCRM API errors: status, errorMsg and the errors list."""

    def __init__(self, status: int, message: str, errors: Any = None, body: Any = None) -> None:
        self.status = status
        self.message = message
        self.errors = error_lines(errors)
        self.body = body
        detail = "; ".join(self.errors)
        super().__init__(f"RetailCRM {status}: {message}" + (f" ({detail})" if detail else ""))


class CrmValidationError(CrmError, PermanentError):
    """400: the request or the entity was refused; the errors name the fields."""


class CrmNotFound(CrmError, PermanentError):
    """404: no such entity."""


class CrmAccessDenied(CrmError, PermanentError):
    """403: wrong or missing key, or the key may not use this method or site."""


class CrmAccountMissing(CrmError, PermanentError):
    """The account URL is wrong: JSON 404 "Account does not exist." or the 405 HTML page."""


class CrmRateLimited(CrmError, TransientError):
    """503 (or 429): over the request rate; retried with backoff."""


class CrmServerError(CrmError, TransientError):
    """Other 5xx, or a reply that is not JSON: retried with backoff."""


class CrmNoAnswer(CrmError, TransientError):
    """No answer in time (a timeout, or the connection dropped after the request went out).

    ``maybe_applied``: the call was a write that may still land in the CRM
    later, so it must not be re-sent blindly (``late_writes`` re-reads first).
    """

    def __init__(self, method: str, path: str, why: str, *, maybe_applied: bool) -> None:
        self.maybe_applied = maybe_applied
        after = "; it may still be applied: the retry re-reads the object first"
        super().__init__(
            0, f"no answer to {method} {path}: {why}" + (after if maybe_applied else "")
        )


class CrmPartialUpload(CrmError, PermanentError):
    """460: a batch upload went in only in part.

    ``uploaded`` lists ``{id, externalId}`` of what went in, ``failed`` the
    ``{externalId}`` of what did not; the errors say why.
    """

    def __init__(self, status: int, message: str, errors: Any, body: dict) -> None:
        super().__init__(status, message, errors, body)
        self.uploaded = body.get("uploadedOrders") or body.get("uploadedCustomers") or []
        self.failed = body.get("failedOrders") or body.get("failedCustomers") or []


def error_for(status: int, body: Any, content_type: str) -> CrmError:
    """The error a non-success reply stands for."""
    if not isinstance(body, dict):
        if status == 405 and "html" in content_type:
            return CrmAccountMissing(status, "account does not exist (HTML 405 page)")
        if status in (429, 503):
            return CrmRateLimited(status, "rate limit exceeded")
        return CrmServerError(status, f"reply is not JSON ({content_type or 'no content type'})")
    message = str(body.get("errorMsg") or "request failed")
    errors = body.get("errors")
    if status == 460:
        return CrmPartialUpload(status, message, errors, body)
    if status in (429, 503):
        return CrmRateLimited(status, message, errors, body)
    if "account does not exist" in message.lower():
        return CrmAccountMissing(status, message, errors, body)
    if status == 403:
        return CrmAccessDenied(status, message, errors, body)
    if status == 404:
        return CrmNotFound(status, message, errors, body)
    if status >= 500:
        return CrmServerError(status, message, errors, body)
    return CrmValidationError(status, message, errors, body)
