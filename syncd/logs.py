"""Structured logs that never carry a secret.

JSON lines when the output is not a terminal (journald, files, log shippers),
readable text on a terminal.  Everything that reaches a line — message,
``extra=`` fields, traceback — goes through ``redact``: the values registered
with ``register_secret`` (API keys, passwords, the webhook secret) and the
usual credential shapes (``apiKey=…``, ``X-API-KEY: …``, ``Authorization:
Bearer …``, ``password=…``, ``token=…``, ``user:pass@`` in URLs) become ``***``.

    setup_logging("INFO", "auto")
    register_secret(settings.crm.api_key.get_secret_value())
    log.info("order sent", extra={"order": "SITE-1001", "sink": "crm"})
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
import threading
import time
from typing import IO, Any
from urllib.parse import quote, quote_plus

MASK = "***"

_lock = threading.Lock()
# Longest first, so a secret containing another is replaced whole.  Readers take
# the tuple without the lock: rebinding a name is atomic.
_secrets: tuple[str, ...] = ()

# A value stops at a delimiter; it never swallows a backslash or a quote, so
# masking an already JSON-encoded line cannot break its escaping.
_VALUE = r"[^\s&,;'\"}\]\\)<>]+"
_PATTERNS = (
    # The scheme stays readable, the credential goes.
    (
        re.compile(
            r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?(?:(?:basic|bearer|token|digest)\s+)?)"
            + _VALUE
        ),
        rf"\1{MASK}",
    ),
    # apiKey=, api_key:, X-API-KEY:, password=, passwd, access_token=, X-Syncd-Token:,
    # client_secret=, "password": "…" — in query strings, forms, headers, JSON, reprs.
    # The look-behind anchors a match at the start of a word: without it a long
    # token-free blob would be rescanned from every position.
    (
        re.compile(
            r"(?i)((?<![\w-])[\w-]*?(?:api[_-]?key|token|passw(?:or)?d|secret)"
            r"[\"']?\s*[:=]\s*[\"']?)" + _VALUE
        ),
        rf"\1{MASK}",
    ),
    # scheme://user:password@host (database URLs, proxies).
    (
        re.compile(r"(?i)((?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^/\s:@\"']+:)[^@\s/\"'\\]+(@)"),
        rf"\1{MASK}\2",
    ),
)
_SENSITIVE_KEY = re.compile(r"(?i)(api[_-]?key|token|passw(or)?d|secret|authorization)$")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
# Chatty at INFO/DEBUG; their warnings still come through.
_NOISY = ("urllib3", "waitress", "zeep", "alembic")


def register_secret(value: str | None) -> None:
    """Mask ``value`` in every later log line (values under 4 characters are ignored)."""
    if not value or len(value) < 4:
        return
    reprd = repr(value)[1:-1]
    # The forms a secret takes once quoted into a URL, a repr or a JSON string.
    forms = {
        value,
        quote(value, safe=""),
        quote_plus(value),
        reprd,
        json.dumps(value, ensure_ascii=False)[1:-1],
        json.dumps(value)[1:-1],
        json.dumps(reprd, ensure_ascii=False)[1:-1],
    }
    global _secrets
    with _lock:
        _secrets = tuple(sorted(set(_secrets) | forms, key=lambda s: (-len(s), s)))


def redact(text: str) -> str:
    """``text`` with registered secrets and credential-shaped values replaced by ``***``."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _clean(value: Any, depth: int = 0) -> Any:
    """A JSON-native copy of ``value`` with every string redacted."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return redact(value)
    if depth < 8 and isinstance(value, dict):
        return {
            redact(str(k)): MASK if _SENSITIVE_KEY.search(str(k)) else _clean(v, depth + 1)
            for k, v in value.items()
        }
    if depth < 8 and isinstance(value, list | tuple | set | frozenset):
        return [_clean(v, depth + 1) for v in value]
    return redact(_safe_str(value))


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # a broken __str__ must not lose the whole line
        return f"<unprintable {type(value).__name__}>"


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:
        # logging's own error path would print the raw arguments, unredacted.
        return f"{_safe_str(record.msg)} <bad log arguments>"


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: MASK if _SENSITIVE_KEY.search(k) else v
        for k, v in record.__dict__.items()
        if k not in _STANDARD and not k.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the extras, and exc."""

    def format(self, record: logging.LogRecord) -> str:
        head = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
        }
        entry: dict[str, Any] = {**head, "msg": _message(record)}
        for key, value in _extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        line = json.dumps(_clean(entry), ensure_ascii=False)
        # Second pass over the whole line, as the contract promises; masking can
        # in rare cases cut through a JSON escape, so an altered line is checked.
        final = redact(line)
        if final != line:
            try:
                json.loads(final)
            except ValueError:
                final = json.dumps({**head, "msg": "log line withheld: redaction broke it"})
        return final


class TextFormatter(logging.Formatter):
    """``2026-11-23 08:00:00,123 INFO syncd.engine: message key=value ...``"""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        # Written out rather than inherited: Formatter.format calls getMessage()
        # unguarded, and a failure there prints the raw arguments unredacted.
        record.message = _message(record)
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        extras = " ".join(f"{k}={_text_value(v)}" for k, v in _extras(record).items())
        if extras:
            line = f"{line} {extras}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line = f"{line}\n{record.exc_text}"
        if record.stack_info:
            line = f"{line}\n{self.formatStack(record.stack_info)}"
        return redact(line)


def _text_value(value: Any) -> str:
    text = _safe_str(value)
    if not text or any(c.isspace() or c in '"=' for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


_installed: logging.Handler | None = None


def setup_logging(level: str = "INFO", fmt: str = "auto", stream: IO[str] | None = None) -> None:
    """Point the root logger at ``stream`` (stderr); calling again replaces the handler.

    ``fmt``: "json", "text", or "auto" — JSON unless ``stream`` is a terminal.
    """
    global _installed
    if fmt not in ("auto", "json", "text"):
        raise ValueError(f"log format must be auto, json or text, not {fmt!r}")
    numeric = logging.getLevelName(str(level).upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    stream = sys.stderr if stream is None else stream
    use_json = fmt == "json" or (fmt == "auto" and not _isatty(stream))
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    root = logging.getLogger()
    with _lock:
        previous, _installed = _installed, handler
    if previous is not None:
        root.removeHandler(previous)
        previous.flush()
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in _NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, numeric))
    # warnings.warn() output then goes through the same redaction.
    logging.captureWarnings(True)


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or the stream is closed
        return False
