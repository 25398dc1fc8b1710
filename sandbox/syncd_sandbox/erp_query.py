"""The sandbox 1C's query options: ``$filter``, ``$orderby``, ``$select``.

A small recursive-descent reader of the OData V3 ``$filter`` grammar 1C
accepts (``eq ne gt ge lt le and or not``, parentheses, ``guid'…'`` and
``datetime'…'`` literals with ``''`` for a quote, ``substringof``,
``startswith``, ``endswith``, ``cast(guid'…','Document_X')`` for composite
fields, ``Товары/any(d: d/Цена gt 10)``), evaluated against stored rows.
1C's quirks are kept: a plain ``eq guid'…'`` on a composite field matches
nothing; ``$orderby=Ref_Key`` orders by presentation; recorder registers
ignore ``$orderby``.  A syntax error is 400 with code 14.

    match = compile_filter("Статус eq 'КОбеспечению' and Posted eq true", schema)
    rows = [r for r in rows if match(r)]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from syncd_sandbox.erp_schema import NAMESPACE, ObjectSchema

TOKEN = re.compile(
    r"\s*(?:(?P<typed>(?:guid|datetime|datetimeoffset|time))'(?P<typed_value>[^']*)'"
    r"|'(?P<string>(?:[^']|'')*)'"
    r"|(?P<number>-?\d+(?:\.\d+)?)(?![\w])"
    r"|(?P<punct>[(),/:])"
    r"|(?P<word>[^\W\d][\w]*))",
    re.UNICODE,
)
COMPARE = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
}


class ODataFault(Exception):
    """An answer 1C gives as ``odata.error``: HTTP status, internal code, message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Guid(str):
    """A ``guid'…'`` literal (kept apart from a plain string: composites care)."""


class Cast(tuple):
    """``cast(guid'…','Document_X')``: a reference with its type."""


def _tokens(text: str) -> list[tuple[str, Any]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = TOKEN.match(text, pos)
        if not m:
            raise ODataFault(400, 14, f"cannot parse $filter at position {pos}")
        pos = m.end()
        if m["typed"]:
            value = m["typed_value"]
            out.append(("lit", Guid(value.lower()) if m["typed"] == "guid" else value))
        elif m["string"] is not None:
            out.append(("lit", m["string"].replace("''", "'")))
        elif m["number"]:
            n = m["number"]
            out.append(("lit", float(n) if "." in n else int(n)))
        elif m["punct"]:
            out.append(("punct", m["punct"]))
        else:
            out.append(("word", m["word"]))
    return out


class _Parser:
    def __init__(self, text: str, schema: ObjectSchema) -> None:
        self.tokens = _tokens(text)
        self.i = 0
        self.schema = schema

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str | None = None, value: Any = None) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None or (kind and tok[0] != kind) or (value is not None and tok[1] != value):
            raise ODataFault(400, 14, f"$filter: expected {value or kind}, got {tok and tok[1]!r}")
        self.i += 1
        return tok

    def word_is(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "word" and tok[1] in words

    def parse(self) -> Callable[[dict, dict], Any]:
        expr = self.or_()
        if self.peek() is not None:
            raise ODataFault(400, 14, f"$filter: unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return expr

    def or_(self) -> Callable:
        left = self.and_()
        while self.word_is("or"):
            self.take()
            right = self.and_()
            left = (lambda a, b: lambda row, env: a(row, env) or b(row, env))(left, right)
        return left

    def and_(self) -> Callable:
        left = self.unary()
        while self.word_is("and"):
            self.take()
            right = self.unary()
            left = (lambda a, b: lambda row, env: a(row, env) and b(row, env))(left, right)
        return left

    def unary(self) -> Callable:
        if self.word_is("not"):
            self.take()
            inner = self.unary()
            return lambda row, env: not inner(row, env)
        return self.comparison()

    def comparison(self) -> Callable:
        left, left_path = self.operand()
        if self.word_is(*COMPARE):
            op = self.take()[1]
            right, _ = self.operand()
            composite = left_path is not None and self._is_composite(left_path)
            return lambda row, env: _compare(op, left(row, env), right(row, env), composite, row)
        return left

    def _is_composite(self, path: str) -> bool:
        return "/" not in path and f"{path}_Type" in self.schema.fields

    def operand(self) -> tuple[Callable, str | None]:
        kind, value = self.take()
        if kind == "lit":
            return (lambda row, env: value), None
        if kind == "punct" and value == "(":
            inner = self.or_()
            self.take("punct", ")")
            return inner, None
        if kind != "word":
            raise ODataFault(400, 14, f"$filter: unexpected {value!r}")
        if value in ("true", "false"):
            return (lambda row, env: value == "true"), None
        if value == "null":
            return (lambda row, env: None), None
        if self.peek() == ("punct", "("):
            return self.function(value), None
        return self.path(value)

    def function(self, name: str) -> Callable:
        self.take("punct", "(")
        args = [self.operand()[0]]
        while self.peek() == ("punct", ","):
            self.take()
            args.append(self.operand()[0])
        self.take("punct", ")")
        text = {
            "substringof": lambda a, b: str(a) in str(b or ""),
            "startswith": lambda a, b: str(a or "").startswith(str(b)),
            "endswith": lambda a, b: str(a or "").endswith(str(b)),
            "cast": lambda a, b: Cast((str(a).lower(), b)),
        }
        if name not in text or len(args) != 2:
            raise ODataFault(400, 21, f"$filter: unsupported function {name}/{len(args)}")
        fn = text[name]
        return lambda row, env: fn(args[0](row, env), args[1](row, env))

    def path(self, first: str) -> tuple[Callable, str]:
        names = [first]
        while self.peek() == ("punct", "/"):
            self.take()
            word = self.take("word")[1]
            if word in ("any", "all") and self.peek() == ("punct", "("):
                return self.lambda_(names, word), "/".join(names)
            names.append(word)
        if len(names) == 1 and first not in self.schema.fields and first not in self.schema.tabular:
            raise ODataFault(400, 6, f"segment not found: {first}")
        return (lambda row, env: _resolve(names, row, env)), "/".join(names)

    def lambda_(self, names: list[str], quantifier: str) -> Callable:
        self.take("punct", "(")
        var = self.take("word")[1]
        self.take("punct", ":")
        body = self.or_()
        self.take("punct", ")")
        test = any if quantifier == "any" else all

        def run(row: dict, env: dict) -> bool:
            items = _resolve(names, row, env) or []
            return test(body(row, {**env, var: item}) for item in items)

        return run


def _resolve(names: list[str], row: dict, env: dict) -> Any:
    node: Any = env[names[0]] if names[0] in env else row.get(names[0])
    for name in names[1:]:
        node = node.get(name) if isinstance(node, dict) else None
    return node


def _compare(op: str, left: Any, right: Any, composite: bool, row: dict) -> bool:
    if isinstance(right, Cast):
        if not composite:
            return False
        ref, type_name = right
        hit = str(left).lower() == ref and row.get(_type_field(row)) == f"{NAMESPACE}.{type_name}"
        return hit if op == "eq" else not hit
    if composite and isinstance(right, Guid):
        return op == "ne"  # 1C: plain guid comparison on a composite is always empty
    if isinstance(left, str) and isinstance(right, Guid):
        left = left.lower()
    if isinstance(left, bool) != isinstance(right, bool) and right is not None:
        return False
    try:
        return COMPARE[op](left, right)
    except TypeError:
        return False


def _type_field(row: dict) -> str:
    return next((k for k in row if k.endswith("_Type")), "")


def compile_filter(text: str, schema: ObjectSchema) -> Callable[[dict], bool]:
    predicate = _Parser(text, schema).parse()
    return lambda row: bool(predicate(row, {}))


def order_rows(rows: list[dict], orderby: str | None, schema: ObjectSchema) -> list[dict]:
    """Rows in ``$orderby`` order, with 1C's quirks."""
    if schema.kind == "accumulation_register" or not orderby:
        return rows  # recorder registers ignore $orderby silently
    keys = []
    for part in orderby.split(","):
        words = part.split()
        if not words:
            raise ODataFault(400, 14, "$orderby: empty item")
        name, desc = words[0], len(words) > 1 and words[1].lower() == "desc"
        if name not in schema.fields:
            raise ODataFault(400, 6, f"segment not found: {name}")
        keys.append((name, desc))
    for name, desc in reversed(keys):
        if name == "Ref_Key":  # auto-ordering by presentation, not by GUID
            by = ("Date", "Number") if schema.kind == "document" else ("Description", "Code")
            rows = sorted(rows, key=lambda r: tuple(str(r.get(f) or "") for f in by), reverse=desc)
        else:
            rows = sorted(rows, key=lambda r: (r.get(name) is not None, r.get(name)), reverse=desc)
    return rows


def select_fields(row: dict, select: str | None, schema: ObjectSchema) -> dict:
    if not select or select.strip() == "*":
        return row
    wanted = [s.strip() for s in select.split(",") if s.strip()]
    if "**" in wanted:
        return {k: v for k, v in row.items() if k not in schema.tabular}
    for name in wanted:
        base = name.split("/", 1)[0]
        if base not in schema.fields and base not in schema.tabular:
            raise ODataFault(400, 6, f"segment not found: {name}")
    return {k: v for k, v in row.items() if k in wanted}
