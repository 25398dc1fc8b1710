"""Configuration errors that tell an admin where and what: file:line:column, key, expected.

pydantic's errors are turned into plain English here ("expected an integer
between 1 and 10000, got 'lots'"), reading each field's type and limits from
the settings models.  A secret value is never repeated in a message.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr

from syncd.errors import SyncdError

# Not SecretStr (the URL is needed in clear), but it may embed a password.
NEVER_SHOWN = {("store", "url")}


class ConfigProblem(NamedTuple):
    file: str
    line: int | None
    column: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if where and self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return ": ".join(part for part in (where, self.key, self.message) if part)


class ConfigError(SyncdError):
    """The configuration cannot be used; ``problems`` lists every reason found."""

    def __init__(self, problems: list[ConfigProblem] | ConfigProblem | str) -> None:
        if isinstance(problems, str):
            problems = [ConfigProblem("", None, None, "", problems)]
        elif isinstance(problems, ConfigProblem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def explain(err: Any, loc: tuple, root: type[BaseModel]) -> str:
    """A plain-English "expected ..., got ..." for one pydantic error."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "extra_forbidden":
        model = _optional(_field_at(root, loc[:-1])[0])
        names = list(getattr(model, "model_fields", ()))
        close = difflib.get_close_matches(str(loc[-1]), names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown key{hint} (see config/syncd.example.yaml for every key)"
    if kind == "invalid_key":
        return f"a key must be text, got {got(loc[-1])}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    annotation, metadata = _field_at(root, loc)
    expected = _describe(annotation, metadata) if annotation is not None else None
    if kind == "missing":
        return "required key is missing" + (f"; expected {expected}" if expected else "")
    if kind == "string_pattern_mismatch":
        expected = "a name of lower-case letters, digits and _, starting with a letter"
    if expected is None:
        return err["msg"]
    value = err.get("input")
    # YAML reads 8787 or 0123 as numbers; a text key wants them quoted, not coerced.
    quote = "; put it in quotes" if expected == "text" and isinstance(value, int | float) else ""
    if _optional(annotation) is SecretStr or tuple(loc[:2]) in NEVER_SHOWN:
        return f"expected {expected} (the value is secret and not shown){quote}"
    return f"expected {expected}, got {got(value)}{quote}"


def _field_at(root: type[BaseModel], loc: Sequence[Any]) -> tuple[Any, list]:
    """The annotation (and constraints) the models declare at ``loc``; (None, []) if unknown."""
    annotation: Any = root
    metadata: list = []
    for i, part in enumerate(loc):
        if part == "[key]":  # consumed by the dict step before it
            continue
        annotation = _optional(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(part) if isinstance(part, str) else None
            if info is None:
                return None, []
            annotation, metadata = info.annotation, list(info.metadata)
        elif get_origin(annotation) is list and isinstance(part, int):
            annotation, metadata = get_args(annotation)[0], []
        elif get_origin(annotation) is dict:
            is_key = tuple(loc[i + 1 : i + 2]) == ("[key]",)
            annotation, metadata = get_args(annotation)[0 if is_key else 1], []
        else:
            return None, []
    return annotation, metadata


def _optional(annotation: Any) -> Any:
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        annotation = args[0] if len(args) == 1 else annotation
    return annotation


def _describe(annotation: Any, metadata: list) -> str:
    annotation = _optional(annotation)
    origin = get_origin(annotation)
    if annotation is bool:
        return "true or false"
    if annotation in (int, float):
        limits = {
            k: getattr(m, k) for m in metadata for k in _LIMITS if getattr(m, k, None) is not None
        }
        return ("an integer" if annotation is int else "a number") + _bounds(limits)
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(annotation))
    if origin is list:
        return "a list"
    if origin is dict or (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return "a mapping of keys"
    if annotation is Path:
        return "a path"
    return "text"


_LIMITS = {"gt": "greater than", "ge": "of at least", "lt": "less than", "le": "of at most"}


def _bounds(limits: dict[str, Any]) -> str:
    def num(v: Any) -> str:
        return str(int(v)) if float(v).is_integer() else str(v)

    if "ge" in limits and "le" in limits:
        return f" between {num(limits['ge'])} and {num(limits['le'])}"
    return "".join(f" {_LIMITS[k]} {num(v)}" for k, v in limits.items())


def got(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value) if isinstance(value, str) else str(value)


def dotted(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        if part == "[key]":
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
