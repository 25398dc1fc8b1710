"""Reloading: a running engine takes a new configuration without stopping its loop.

SIGHUP only sets a flag.  At the next iteration the file is loaded and every
part built (``stage``): a broken file is refused there, the running
configuration stays, and ``syncd_config_last_reload_successful`` drops to 0.
A good one waits while reads and writes of the old parts are in flight — the
loop goes on meanwhile, renewing leases and feeding the watchdog, and starts
nothing new — and is then swapped in: new parts, retry policy, secrets, log
level and webhooks; sources it no longer has give back their leases and lose
their gauges.  ``store.url`` and ``http.listen`` need a restart.
"""

from __future__ import annotations

import logging
import time

from syncd.config import ConfigError, ConfigProblem, Settings, load_settings
from syncd.engine.pipeline import Pipeline, build_pipeline
from syncd.engine.retry import RetryPolicy
from syncd.logs import register_secret, setup_logging

log = logging.getLogger("syncd.engine.daemon")


class Reloading:
    """The reload half of ``Engine`` (its attributes are the engine's)."""

    _staged: tuple[Settings, Pipeline] | None

    def _stage_reload(self) -> None:
        """Validate the file again; a good one waits (in ``_staged``) for work in flight."""
        self.notifier.reloading()
        log.info("reloading configuration from %s", self.config_path)
        try:
            if not self.config_path:
                raise ConfigError([ConfigProblem("", None, None, "", "no file to reload from")])
            new = load_settings(self.config_path)
            pipeline = build_pipeline(new, self._context(new))
        except ConfigError as exc:
            self.metrics.config_reload_ok.set(0)
            log.error("reload refused, keeping the running configuration:\n%s", exc)
            self.notifier.ready("reload failed; running the previous configuration")
            return
        if self._staged is not None:  # a second SIGHUP before the first applied
            self._staged[1].close()
        self._staged = (new, pipeline)

    def _swap_in(self, new: Settings, pipeline: Pipeline) -> None:
        self._staged = None
        if new.database_url != self.settings.database_url:
            log.warning("database_url changed; it takes effect only after a restart")
        if new.http.listen != self.settings.http.listen:
            log.warning("http.listen changed; it takes effect only after a restart")
        gone = set(self.pipeline.sources) - set(pipeline.sources)
        old, self.pipeline, self.settings = self.pipeline, pipeline, new
        old.close()
        for name in gone:
            self.leases.release(f"source:{name}")
        self.metrics.forget_streams(gone)  # no alerts about streams that no longer exist
        self.policy = RetryPolicy.from_settings(new.engine.retry)
        for secret in new.secret_values():
            register_secret(secret)
        setup_logging(new.log.level, new.log.format)
        if self._web is not None:
            self.attach_web(self._web)
        self.metrics.config_reload_ok.set(1)
        self.metrics.config_reload_time.set(time.time())
        log.info("configuration reloaded")
        self.notifier.ready("configuration reloaded")
