"""Client-side pacing: one request budget per account, shared by every part of syncd.

RetailCRM allows 10 requests/s per account — all keys and all callers of one
account together — and answers 503 above it, with no Retry-After.  So every
part of this process that talks to one account (the history source, the sink,
``syncd check``'s probes, ``customers`` and ``mappings`` commands) sends
through that account's one ``Pacer``, which hands out send times at least
1/N s apart, whatever the number of threads and parts.

The rule for N: each part *asks* for a rate (its ``requests_per_second``)
under its own name; the account runs at the **lowest rate any live part asks
for**, so the sum of all parts never exceeds what the most careful of them
allows.

- A part that asks again under the same name (a reload builds it anew)
  replaces its own earlier ask; if that newer ask is withdrawn (a reload
  refused after the part was built), the part's earlier ask, still live,
  counts again.
- A part withdraws its ask when it is closed (``RateAsk.withdraw``; a reload
  closes the parts it replaces or drops), and at the latest when its
  transport is garbage-collected — so a part removed from the configuration
  stops holding the account's rate down.
- With no ask left the pacer keeps its last rate; the next ask sets it.

The budget is per process: a command run beside the daemon (``syncd check``,
``syncd customers merge``) paces itself alone, so those ask for little.

    ask = ask_rate("https://shop.retailcrm.ru", "sink crm", per_second=5)
    ask.pacer.wait()      # before each request
    ask.withdraw()        # when the part closes
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = _interval(per_second)
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    @property
    def per_second(self) -> float:
        return 1.0 / self.interval

    def set_rate(self, per_second: float) -> None:
        """Change the pace for the turns handed out from now on (the next stays booked)."""
        interval = _interval(per_second)
        with self._lock:
            self.interval = interval

    def wait(self) -> float:
        """Block until this caller's turn; returns how long it waited."""
        with self._lock:
            now = self.clock()
            at = max(now, self._next)
            self._next = at + self.interval
        delay = at - now
        if delay > 0:
            self.sleep(delay)
        return delay


def _interval(per_second: float) -> float:
    if per_second <= 0:
        raise ValueError("per_second must be positive")
    return 1.0 / per_second


class RateAsk:
    """One part's request for a rate on one account; ``withdraw`` when the part closes."""

    def __init__(self, budget: AccountBudget, owner: str, per_second: float) -> None:
        self.budget, self.owner, self.per_second = budget, owner, per_second

    @property
    def pacer(self) -> Pacer:
        return self.budget.pacer

    def withdraw(self) -> None:
        """Stop counting this ask (idempotent)."""
        self.budget.withdraw(self)


class AccountBudget:
    """The requests/s one account gives this process: the lowest rate a live part asks for."""

    def __init__(self, per_second: float) -> None:
        self.pacer = Pacer(per_second)
        self._asks: dict[str, list[RateAsk]] = {}  # owner -> live asks, oldest first
        self._lock = threading.Lock()

    def ask(self, owner: str, per_second: float) -> RateAsk:
        _interval(per_second)  # refuse a bad rate before it counts
        ask = RateAsk(self, owner, per_second)
        with self._lock:
            self._asks.setdefault(owner, []).append(ask)
            self._apply()
        return ask

    def withdraw(self, ask: RateAsk) -> None:
        with self._lock:
            live = self._asks.get(ask.owner, [])
            if ask in live:
                live.remove(ask)
                if not live:
                    del self._asks[ask.owner]
                self._apply()

    def rates(self) -> dict[str, float]:
        """What each owner asks for now (its newest live ask)."""
        with self._lock:
            return {owner: asks[-1].per_second for owner, asks in self._asks.items()}

    def _apply(self) -> None:
        if self._asks:
            self.pacer.set_rate(min(asks[-1].per_second for asks in self._asks.values()))


_budgets: dict[str, AccountBudget] = {}
_budgets_lock = threading.Lock()


def account_key(account_url: str) -> str:
    """One account, however its URL is spelled (case, a trailing slash)."""
    return account_url.strip().rstrip("/").lower()


def budget_for(account_url: str) -> AccountBudget:
    """The account's one budget in this process (created at the default 10/s)."""
    key = account_key(account_url)
    with _budgets_lock:
        budget = _budgets.get(key)
        if budget is None:
            budget = _budgets[key] = AccountBudget(10.0)
        return budget


def ask_rate(account_url: str, owner: str, per_second: float) -> RateAsk:
    """Ask for ``per_second`` on the account as ``owner`` (a part's or a command's name)."""
    return budget_for(account_url).ask(owner, per_second)


def pacer_for(account_url: str) -> Pacer:
    """The account's one pacer (its rate follows the asks; see the module docstring)."""
    return budget_for(account_url).pacer
