"""YAML that remembers where every key stood in the file.

``load_with_positions(text)`` returns the data (safe YAML types only, as
``yaml.safe_load`` would) and a map from key path, e.g.
``("sources", 0, "options", "path")``, to the 1-based (line, column) of that
key (of the item, for list entries).  Validation errors use it to point at the
exact spot; ``locate`` falls back to the nearest enclosing key when the key
is absent from the file (a missing required key is reported at its parent).

Unlike ``safe_load``, a key written twice in one mapping is an error: in a
configuration file the silent "last one wins" hides mistakes.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import yaml
from yaml.constructor import ConstructorError

KeyPath = tuple[Any, ...]
Positions = dict[KeyPath, tuple[int, int]]

_MERGE_TAG = "tag:yaml.org,2002:merge"


def load_with_positions(text: str) -> tuple[Any, Positions]:
    """Parse ``text``; raise ``yaml.YAMLError`` (with a ``problem_mark``) when it is not valid."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    positions: Positions = {}
    if node is None:
        return None, positions
    positions[()] = _pos(node)
    # One SafeLoader serves as the constructor: scalars get exactly safe_load's types.
    builder = _Builder(yaml.SafeLoader(""), positions)
    return builder.build(node, ()), positions


def describe_yaml_error(exc: yaml.YAMLError) -> tuple[int | None, int | None, str]:
    """(line, column, reason) of a parse error; never quotes the text (it may hold a secret)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    parts = (getattr(exc, "problem", None), getattr(exc, "context", None))
    reason = "; ".join(str(part) for part in parts if part) or "cannot parse"
    return (mark.line + 1, mark.column + 1, reason) if mark else (None, None, reason)


def locate(positions: Positions, path: Sequence[Any]) -> tuple[int | None, int | None]:
    """Position of ``path``, or of its nearest ancestor present in the file."""
    parts = tuple(part for part in path if part != "[key]")
    for cut in range(len(parts), -1, -1):
        if parts[:cut] in positions:
            return positions[parts[:cut]]
    return None, None


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, positions: Positions) -> None:
        self.loader = loader
        self.positions = positions
        self.active: set[int] = set()  # nodes being built: an alias to one of them is a cycle

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        if id(node) in self.active:
            raise ConstructorError(None, None, "recursive alias", node.start_mark)
        if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            return self.loader.construct_object(node, deep=True)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                items = []
                for i, item in enumerate(node.value):
                    self.positions[(*path, i)] = _pos(item)
                    items.append(self.build(item, (*path, i)))
                return items
            return self._mapping(node, path)
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self._key(key_node)
            if key in seen:
                raise ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first at line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        # "<<: *defaults" merges: explicit keys come after the merged ones, so they win.
        self.loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            self.positions[(*path, key)] = _pos(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result

    def _key(self, key_node: yaml.Node) -> Any:
        key = self.loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            message = "a key must be a plain value, not a list or mapping"
            raise ConstructorError(None, None, message, key_node.start_mark)
        return key
