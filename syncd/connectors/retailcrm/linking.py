"""Customer linking (``link_or_create``): one CRM customer per person, side by side.

Which CRM customer a partner is, the binder says (``binder.CustomerBinder``).
For a batch of partners: the customers already bound to them (by externalId,
or an alias — the same person under an older externalId) are looked up in
one call.  Then, for each partner on its own (the round runs them side by
side, so a hung phone lookup or edit delays only its own partner):

- bound → edited to the partner's data (a retry re-reads it first: an edit
  that landed late is not sent again, a manager's newer change is not
  overwritten — ``late_writes``); not edited when it holds that data already
  (the same partner linked again by an order, a repeated 1C event);
- bound under an alias, or not bound but a customer not tied to another
  partner has one of its phones (compared in E.164) or its e-mail → given the
  partner's externalId (``fix-external-ids``) and edited;
- nobody → uploaded new with the others, 50 a call.

    links = CustomerLinks(writes)
    results = links.apply(link_commands)
"""

from __future__ import annotations

import threading

import requests

from syncd.connectors.retailcrm.actions import LinkOrCreate
from syncd.connectors.retailcrm.binder import CustomerBinder
from syncd.connectors.retailcrm.errors import CrmError
from syncd.connectors.retailcrm.writes import CrmWrites, guarded
from syncd.connectors.rounds import DeadlinePassed, Unit
from syncd.engine.actions import BadCommand
from syncd.engine.contracts import Result
from syncd.errors import PermanentError
from syncd.model import Command


class CustomerLinks:
    def __init__(self, writes: CrmWrites) -> None:
        self.writes = writes
        self.binder = CustomerBinder(writes.client)
        self.round = writes.round
        self._new: list[Command] = []
        self._lock = threading.Lock()

    def apply(self, commands: list[Command]) -> list[Result]:
        links, results = {}, []
        for c in commands:
            try:
                links[id(c)] = LinkOrCreate.of(c)
            except BadCommand as exc:
                results.append(Result.failed(c, f"{c.object_key}: {exc}", permanent=True))
        commands = [c for c in commands if id(c) in links]
        wanted = [c.key for c in commands]
        wanted += [a for c in commands for a in links[id(c)].aliases]
        try:
            bound = self.binder.bound(wanted)
        except CrmError as exc:
            permanent = isinstance(exc, PermanentError)
            return results + [Result.failed(c, str(exc), permanent=permanent) for c in commands]
        except (requests.RequestException, DeadlinePassed) as exc:  # the links alone wait
            error = f"looking up the customers bound to these partners: {type(exc).__name__}"
            return results + [Result.failed(c, error) for c in commands]
        units = [
            Unit([cmd], lambda cmd=cmd: self._link(cmd, links[id(cmd)], bound), partial=True)
            for cmd in commands
        ]
        results += self.round.run(units)
        new = [
            Command(
                c.target,
                c.entity,
                c.key,
                "upsert",
                links[id(c)].customer,
                c.idempotency_key,
                id=c.id,
                attempts=c.attempts,
                planned_at=c.planned_at,
                source_changed_at=c.source_changed_at,
            )
            for c in self._new
        ]
        return results + self.writes.upserts("customer", new)

    def _link(self, cmd: Command, link: LinkOrCreate, bound: dict[str, dict]) -> list[Result]:
        """This partner's customer edited (or fixed and edited); [] when it is new."""
        customer = link.customer
        found = self.binder.to_external(cmd.key, link.aliases, link.match, bound)
        if found is None:
            with self._lock:
                self._new.append(cmd)
            return []

        def link() -> Result:
            current = found if self.binder.to_internal(found) == cmd.key else None
            if current is not None and holds(current, customer):
                return Result.applied(cmd, str(found["id"]))  # an edit would change nothing
            if current is None:
                self.binder.bind(found, cmd.key)
            result = self.writes.edit("customer", cmd, customer, current=current)
            if result.ok:
                return Result.applied(cmd, str(found["id"]))
            return result

        return [guarded(cmd, link)]


def holds(current: dict, wanted: dict) -> bool:
    """Whether the CRM's ``current`` object already holds every value of ``wanted``:
    scalars equal, a nested object's given keys equal, a list (phones) as long
    with each item's given keys equal.  Anything else counts as a change."""
    for name, value in wanted.items():
        have = current.get(name)
        if isinstance(value, dict):
            if not isinstance(have, dict) or not holds(have, value):
                return False
        elif isinstance(value, list):
            if not isinstance(have, list) or len(have) != len(value):
                return False
            for item, got in zip(value, have, strict=True):
                same = (
                    holds(got, item)
                    if isinstance(item, dict) and isinstance(got, dict)
                    else item == got
                )
                if not same:
                    return False
        elif have != value or type(have) is not type(value):
            return False
    return True
