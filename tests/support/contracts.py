"""What every source and every sink promises the engine, as test classes to subclass.

The singer-sdk idea: a connector's test module subclasses ``SourceContract`` or
``SinkContract`` and gives one fixture, ``world``, that builds the part against
its sandbox (or a folder) and says how to make a change there; the contract's
tests then run against it unchanged.  A new connector gets them all by
writing that fixture.

    class TestErpWindow(SourceContract):
        @pytest.fixture
        def world(self, tmp_path):
            with erp_sandbox() as (app, url):
                yield SourceWorld(source, change=lambda: new_order(app), entities={"order"})
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from syncd.engine.actions import Action
from syncd.engine.contracts import Sink, Source
from syncd.model import Command, Event


@dataclass
class SourceWorld:
    source: Source
    change: Callable[[], str]  # make one change there; the external id its event carries
    entities: set[str]  # the entities the source's events may name


@dataclass
class Drained:
    events: list[Event] = field(default_factory=list)
    cursor: Any = None
    rejected: list = field(default_factory=list)

    @property
    def ids(self) -> set[str]:
        return {e.external_id for e in self.events}


def drain(source: Source, cursor: Any, rounds: int = 20) -> Drained:
    """Poll as the engine does until two polls in a row bring nothing (a drop folder
    takes a file once its size held for a scan): each batch committed (its
    ``after_commit`` called) and its cursor kept, through JSON as the store keeps it."""
    out = Drained(cursor=cursor)
    quiet = 0
    for _ in range(rounds):
        brought = False
        for batch in source.poll(out.cursor):
            out.events += batch.events
            out.rejected += batch.rejected
            out.cursor = json.loads(json.dumps(batch.cursor))
            brought = brought or bool(batch.events or batch.rejected)
            if batch.after_commit is not None:
                batch.after_commit()
        quiet = 0 if brought else quiet + 1
        if quiet == 2:
            return out
    raise AssertionError(f"{source.name} still brought events after {rounds} polls")


class SourceContract:
    """Subclass with a ``world`` fixture yielding a ``SourceWorld``."""

    @pytest.fixture
    def world(self) -> SourceWorld:
        raise NotImplementedError("a source's contract test gives its world")

    def test_its_events_are_named_by_system_entity_id_and_version(self, world):
        world.change()
        got = drain(world.source, None)
        assert got.events, "a change was made, but the first poll brought nothing"
        for event in got.events:
            assert event.system == world.source.system, event
            assert event.entity in world.entities, event
            assert isinstance(event.external_id, str) and event.external_id, event
            assert isinstance(event.version, str) and event.version, event
            json.dumps(event.payload, ensure_ascii=False)  # the inbox keeps it as JSON

    def test_from_its_last_cursor_it_brings_a_new_change_and_not_the_old_again(self, world):
        first = drain(world.source, None)
        changed = world.change()
        second = drain(world.source, first.cursor)
        assert changed in second.ids, f"{changed} changed, but was not brought"
        third = drain(world.source, second.cursor)
        assert changed not in third.ids, f"{changed} was brought again with nothing new"

    def test_its_cursor_is_kept_as_json_and_read_back_alike(self, world):
        world.change()
        cursor = drain(world.source, None).cursor
        assert json.loads(json.dumps(cursor)) == cursor


@dataclass
class SinkWorld:
    sink: Sink
    command: Callable[[int], Command]  # a command of its own for the n-th object (n >= 1)
    written: Callable[[], Any]  # what the target holds now (compared before and after)
    # a stand-in sink for tests and the demo takes any action (planning checks nothing)
    declares_actions: bool = True


def applied(sink: Sink, commands: list[Command]) -> list:
    results = sink.apply(commands)
    assert len(results) == len(commands), results
    return results


class SinkContract:
    """Subclass with a ``world`` fixture yielding a ``SinkWorld``."""

    @pytest.fixture
    def world(self) -> SinkWorld:
        raise NotImplementedError("a sink's contract test gives its world")

    def test_it_declares_the_actions_it_executes(self, world):
        actions = type(world.sink).actions
        # a sink names its actions: planning checks every command against them
        assert bool(actions) == world.declares_actions, actions
        for name, kind in actions.items():
            assert issubclass(kind, Action) and kind.name == name

    def test_each_command_gets_one_result_naming_it(self, world):
        commands = [world.command(1), world.command(2)]
        results = applied(world.sink, commands)
        assert sorted(r.command_id for r in results) == sorted(c.id for c in commands)
        assert all(r.ok for r in results), [r.error for r in results]

    def test_an_action_it_does_not_execute_fails_for_good(self, world):
        known = world.command(1)
        unknown = Command(
            known.target, known.entity, known.key, "teleport", {}, "contract:teleport", id=99
        )
        before = world.written()
        (result,) = applied(world.sink, [unknown])
        assert not result.ok and result.permanent and result.command_id == 99
        assert "teleport" in (result.error or "")
        assert world.written() == before

    def test_a_command_applied_again_writes_nothing_more(self, world):
        command = world.command(1)
        (first,) = applied(world.sink, [command])
        assert first.ok, first.error
        after_first = world.written()
        again = Command(
            command.target,
            command.entity,
            command.key,
            command.action,
            command.payload,
            command.idempotency_key,
            id=command.id,
            attempts=1,  # a retry: the answer to the first was lost
        )
        (second,) = applied(world.sink, [again])
        assert second.ok, second.error
        assert world.written() == after_first
