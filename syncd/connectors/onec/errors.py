"""1C OData errors, from the HTTP status and the ``odata.error`` body.

1C answers ``{"odata.error": {"code": "9", "message": {"value": "…"}}}`` (or
the same in XML).  Codes 0–21 are the platform's; **500 with code -1** is the
application refusing (a posting handler, a rights check): retrying the same
write will not help, so it is permanent — never retried blindly.  An HTML
page with status 200 (an auth or web-server problem) is an error too.
Transient: 5xx other than -1, timeouts, connection errors.
"""

from __future__ import annotations

from syncd.errors import PermanentError, SyncdError, TransientError

CODES = {
    0: "not supported",
    1: "cannot parse string",
    2: "bad request format",
    3: "representation not supported",
    4: "bad property value",
    5: "required value missing",
    6: "bad URL or unknown segment",
    7: "key part missing",
    8: "entity type not found",
    9: "instance not found",
    10: "property not found",
    11: "method not found",
    12: "required argument missing",
    13: "tabular rows cannot be created directly",
    14: "query option parse error",
    15: "key exists",
    16: "cannot set property",
    17: "data-load mode unsupported",
    18: "duplicate property names",
    19: "HTTP method not allowed",
    20: "access rights",
    21: "unimplemented function",
}


class ErpError(SyncdError):
    def __init__(self, status: int, code: int | None, message: str) -> None:
        self.status, self.code, self.message = status, code, message
        meaning = (
            CODES.get(code, "application error" if code == -1 else "") if code is not None else ""
        )
        label = (
            f"code {code} ({meaning})" if meaning else f"code {code}" if code is not None else ""
        )
        super().__init__(f"1C {status} {label}: {message}".replace("  ", " "))


class ErpRequestError(ErpError, PermanentError):
    """4xx: the request is wrong (a name, a value, a key)."""


class ErpNotFound(ErpRequestError):
    """Code 9 / 404: no such object."""


class ErpAccessDenied(ErpError, PermanentError):
    """401/403 or code 20: credentials or rights."""


class ErpBusinessRefusal(ErpError, PermanentError):
    """500 with code -1: the configuration's own logic refused (e.g. posting failed)."""


class ErpUnavailable(ErpError, TransientError):
    """Other 5xx, an HTML page where JSON was expected: try again later."""


def error_for(status: int, body: object, content_type: str) -> ErpError:
    code, message = None, ""
    if isinstance(body, dict) and isinstance(body.get("odata.error"), dict):
        err = body["odata.error"]
        try:
            code = int(err.get("code"))
        except (TypeError, ValueError):
            code = None
        msg = err.get("message")
        message = msg.get("value", "") if isinstance(msg, dict) else str(msg or "")
    elif "html" in content_type:
        message = "an HTML page instead of OData (check the publication and the credentials)"
    else:
        message = "unexpected reply"
    if status in (401, 403) or code == 20:
        return ErpAccessDenied(status, code, message)
    if status == 404 or code == 9:
        return ErpNotFound(status, code, message)
    if status >= 500 and code == -1:
        return ErpBusinessRefusal(status, code, message)
    if status >= 500 or (status == 200 and "html" in content_type):
        return ErpUnavailable(status, code, message)
    return ErpRequestError(status, code, message)
