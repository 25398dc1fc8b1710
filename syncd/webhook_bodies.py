"""Webhook bodies are untrusted: JSON is read with its nesting bounded first.

Python's ``json`` recurses once per ``[`` or ``{``: a body nested 50,000 deep
(a few hundred kilobytes, well under the size cap) raises ``RecursionError``
instead of ``ValueError``, which would be a 500 with a traceback for what is
a bad request.  So the depth is measured on the raw bytes, outside strings,
before anything is parsed, and a body deeper than the bound is a 400 that
says so.  No syncd webhook needs more than a few levels (a 1C nudge is a
list of ``{"type", "key": {…}}``), so the bound is generous.

    data = load_json(request.body, what="1C webhook body")   # ValueError → 400
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32

# a JSON string (escapes included), and one bracket; an unterminated string
# stays in place, and json.loads stops there before it reaches what follows
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_OPEN = frozenset(b"[{")


def nesting_depth(body: bytes, limit: int = MAX_DEPTH) -> int:
    """How deep the brackets of ``body`` nest outside strings; stops counting past ``limit``."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', body)):
        if match.group()[0] in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth = max(0, depth - 1)
    return deepest


def looks_like_json(body: bytes, content_type: str = "") -> bool:
    """A body sent as JSON, or one that opens like a JSON array or object."""
    if "json" in content_type.lower():
        return True
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")


def depth_problem(body: bytes, limit: int = MAX_DEPTH) -> str | None:
    """Why ``body`` nests too deep to be parsed, or None when it is within ``limit``."""
    if nesting_depth(body, limit) > limit:
        return f"request body nests deeper than {limit} levels"
    return None


def load_json(body: bytes, *, what: str = "request body", max_depth: int = MAX_DEPTH) -> Any:
    """``body`` (UTF-8, a BOM allowed) parsed as JSON; ValueError saying what is wrong."""
    if not body.strip():
        raise ValueError(f"{what} is empty, expected JSON")
    problem = depth_problem(body, max_depth)
    if problem:
        raise ValueError(problem.replace("request body", what, 1))
    try:
        text = body.decode("utf-8-sig")  # 1C 8.2 prefixes a UTF-8 body with a BOM
    except UnicodeDecodeError as exc:
        raise ValueError(f"{what} is not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text)
    except RecursionError:  # not reachable past the depth check; kept a 400 all the same
        raise ValueError(f"{what} nests too deep") from None
    except ValueError as exc:
        raise ValueError(f"{what} is not valid JSON: {exc}") from None
