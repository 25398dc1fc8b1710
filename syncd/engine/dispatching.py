"""Write dispatch: claims due commands per sink and applies them in worker threads.

Each sink gets an equal share of ``engine.sink_workers``; a free worker takes
one claimed batch (engine/applying.py) and, when the round ends, the work hints
learn that this sink may have more due and the main loop is woken.  In dry-run
the commands are only previewed (logged once each), never claimed.

    writes = WriteDispatch(store, owner, hints, wake=event.set, workers=4)
    writes.dispatch(pipeline.sinks, policy, metrics, claim_ttl=300, dry_run=False)
    writes.in_flight()           # any round still running?
    writes.wait(timeout=10)      # True when every round ended
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures

from syncd.engine.applying import apply_claims, claim_for, preview_for
from syncd.engine.contracts import Sink
from syncd.engine.hints import WorkHints
from syncd.engine.retry import RetryPolicy
from syncd.metrics import Metrics
from syncd.store import Store


class WriteDispatch:
    def __init__(
        self, store: Store, owner: str, hints: WorkHints, wake: Callable[[], None], workers: int
    ) -> None:
        self.store, self.owner, self.hints, self._wake = store, owner, hints, wake
        self.workers = workers
        self._running: dict[str, list[Future]] = {}
        self._previewed: set[int] = set()
        self._pool: ThreadPoolExecutor | None = None

    def _workers(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="sink")
        return self._pool

    def dispatch(
        self,
        sinks: Mapping[str, Sink],
        policy: RetryPolicy,
        metrics: Metrics,
        *,
        claim_ttl: float,
        dry_run: bool = False,
        hinted_only: bool = False,
    ) -> bool:
        """Claim due commands for each sink with a free worker; True if any were claimed.

        ``hinted_only``: skip a sink nothing new may be due for (see the work hints)."""
        claimed_any = False
        per_sink = max(1, self.workers // max(1, len(sinks)))
        for name, sink in sinks.items():
            if dry_run:
                preview_for(self.store, sink, self.owner, self._previewed)
                continue
            if hinted_only and not self.hints.claims_due(name):
                continue
            running = self._running.setdefault(name, [])
            while len(running) < per_sink:
                claims = claim_for(self.store, sink, self.owner, claim_ttl)
                if not claims:
                    self.hints.nothing_to_claim(name)
                    break
                claimed_any = True
                fut = self._workers().submit(
                    apply_claims, self.store, sink, claims, policy, metrics
                )
                fut.add_done_callback(lambda _f, name=name: self._round_done(name))
                running.append(fut)
        return claimed_any

    def _round_done(self, name: str) -> None:
        self.hints.write_round_ended(name)
        self._wake()

    def reap(self) -> None:
        """Forget the rounds that ended."""
        for name, futs in self._running.items():
            self._running[name] = [f for f in futs if not f.done()]

    def in_flight(self) -> bool:
        return any(not f.done() for futs in self._running.values() for f in futs)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the rounds in flight; True when all ended within ``timeout``
        (``reap`` then forgets them: the main loop's reap does, with its sources)."""
        futs = [f for futs in self._running.values() for f in futs]
        done, pending = wait_futures(futs, timeout=timeout)
        for f in done:
            f.result()  # surface a bug in the engine itself rather than hide it
        return not pending

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
