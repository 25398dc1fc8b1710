"""How a failure is told in the log: one line for what outside systems do, a traceback
for what is a bug.

1C or the CRM unreachable, a timeout, a 5xx, a refused write, the store briefly
gone: these happen, the line says which and why, and the traceback (which only
says where in syncd it was noticed) is logged at DEBUG.  Anything else is
unexpected and keeps its traceback.  SQLAlchemy's "(Background on this error at:
…)" link and a driver's echo of the statement are left out of the line.

    except Exception as exc:
        log.error("stream %s failed: %s", name, one_line(exc), exc_info=traceback_for(exc, log))
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

import requests
from sqlalchemy import exc as sa

from syncd.errors import PermanentError, TransientError

_BACKGROUND = re.compile(r"\s*\(Background on this error at: [^)]*\)")
_OUTSIDE = (TransientError, PermanentError, requests.RequestException, OSError,
            sa.OperationalError, sa.InterfaceError, sa.TimeoutError)  # fmt: skip


def expected(exc: BaseException) -> bool:
    """A failure of an outside system (1C, the CRM, the network, the store's server)."""
    if isinstance(exc, _OUTSIDE):
        return True
    from zeep.exceptions import Fault, TransportError  # only when something failed

    return isinstance(exc, TransportError | Fault)


def traceback_for(exc: BaseException, log: logging.Logger) -> bool:
    """Whether to log ``exc``'s traceback: always for the unexpected, at DEBUG otherwise."""
    return not expected(exc) or log.isEnabledFor(logging.DEBUG)


def one_line(exc: BaseException) -> str:
    """``Type: cause`` on one line: the innermost reason of a connection failure with the
    host it was for (never the path or query, which may carry a key), the driver's own
    message of a store error."""
    if isinstance(exc, requests.RequestException):
        return f"{type(exc).__name__}: {_where(exc)}{_innermost(exc)}"
    if isinstance(exc, sa.DBAPIError) and exc.orig is not None:
        return f"{type(exc).__name__}: {_first_line(str(exc.orig))}"
    return f"{type(exc).__name__}: {_first_line(_BACKGROUND.sub('', str(exc)))}"


def _where(exc: requests.RequestException) -> str:
    url = getattr(exc.request, "url", None) if exc.request is not None else None
    if not url:
        return ""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}: "


def _innermost(exc: BaseException) -> str:
    """The deepest reason: urllib3 wraps the socket's error in two or three layers."""
    seen, reason = set(), exc
    while id(reason) not in seen:
        seen.add(id(reason))
        inner = reason.__cause__ or reason.__context__ or getattr(reason, "reason", None)
        if inner is None and reason.args and isinstance(reason.args[0], BaseException):
            inner = reason.args[0]
        if not isinstance(inner, BaseException):
            break
        reason = inner
    text = str(reason)
    # "HTTPConnection(host=…, port=…): Failed to establish a new connection: [Errno 111]
    # Connection refused" -> the part after the last ": " that names the cause
    errno = re.search(r"\[Errno -?\d+\] [^\"')]+", text)
    return _first_line(errno.group(0) if errno else text) or type(reason).__name__


def _first_line(text: str) -> str:
    return _BACKGROUND.sub("", text).strip().splitlines()[0] if text.strip() else ""
