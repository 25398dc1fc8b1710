"""Actions: what a command asks its sink to do, typed.

Each sink declares the actions it executes (``Sink.actions``: name -> model).  A
flow builds a command from one (``Command.for_event(action=SetStatus(...))``);
planning validates every command against its sink's model before it is
stored, so a bad payload dead-letters the event that made it, naming the
action and the field, instead of failing when it is applied; the sink reads
it back typed (``SetStatus.of(command)``) and dispatches by type.  The outbox
keeps the payload as JSON, exactly the fields the flow gave (so fingerprints
of what was written stay comparable).

    class FixExternalId(Action):
        name = "fix_external_id"
        id: int | str

    command = Command.for_event(..., action=FixExternalId(id=42))
    FixExternalId.of(command).id   # 42
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from syncd.errors import SyncdError


class Action(BaseModel):
    """One action's payload; ``name`` is the command's ``action``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: ClassVar[str]

    def payload(self) -> dict[str, Any]:
        """The command's payload: the fields given, as given (defaults left out)."""
        return self.model_dump(exclude_unset=True)

    @classmethod
    def of(cls, command: Any) -> Any:  # -> the subclass; Any keeps mypy out of Self here
        """The command's payload as this action; ``BadCommand`` when it is not one."""
        try:
            return cls.model_validate(command.payload or {})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}"
                for e in exc.errors()  # only where and what: never the value given
            )
            raise BadCommand(f"a {command.action!r} command's payload: {problems}") from None


class BadCommand(SyncdError, ValueError):
    """A command that is not one of its sink's actions, or whose payload is not its
    action's: the message names the action and each bad field (never a value)."""


def table(*actions: type[Action]) -> dict[str, type[Action]]:
    """A sink's ``actions``, by name."""
    return {a.name: a for a in actions}


def read(command: Any, actions: dict[str, type[Action]], sink: str) -> Any:
    """``command`` as one of the sink's actions (what the sink dispatches on);
    ``BadCommand`` when it is none of them or its payload is not that action's."""
    model = actions.get(command.action)
    if model is None:
        known = ", ".join(sorted(actions))
        raise BadCommand(f"sink {sink!r} has no action {command.action!r} (it has: {known})")
    return model.of(command)


def check(command: Any, actions: dict[str, type[Action]], sink: str) -> None:
    """Raise ``BadCommand`` unless ``command`` is one of the sink's actions
    (a sink that declares none takes any)."""
    if actions:
        read(command, actions, sink)
