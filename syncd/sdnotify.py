"""The systemd notify protocol, in a few lines of standard library.

systemd passes ``NOTIFY_SOCKET`` (a path, or an abstract socket when it
starts with ``@``) and, with ``WatchdogSec=``, ``WATCHDOG_USEC``.  The daemon
sends datagrams of ``KEY=VALUE`` lines.  ``watchdog()`` is called from every
iteration of the main loop and sends at most every quarter of the interval,
so what systemd watches is a loop that keeps turning, not just a live process.
Outside systemd (no ``NOTIFY_SOCKET``) every call is a cheap no-op.

    notifier = Notifier()
    notifier.ready("running")
    notifier.watchdog()          # each main-loop iteration
    notifier.reloading(); ...; notifier.ready("reloaded")
    notifier.stopping()
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify(3) messages; ``clock`` is injectable so tests need no sleep."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        env = os.environ if env is None else env
        address = env.get("NOTIFY_SOCKET") or ""
        # A leading '@' names a socket in Linux's abstract namespace, spelt with NUL.
        self._address = "\0" + address[1:] if address.startswith("@") else address
        self.enabled: bool = bool(address)
        self.watchdog_interval: float | None = _watchdog_interval(env)
        self._clock = clock
        self._last_ping: float | None = None

    def notify(self, *lines: str) -> bool:
        """Send one datagram of ``lines``; False when disabled or on a socket error."""
        if not self.enabled or not lines:
            return False
        data = "\n".join(lines).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(data, self._address)
        except OSError as exc:
            # The supervisor's socket going away must never take the daemon down.
            log.debug("sd_notify %r failed: %s", lines, exc)
            return False
        return True

    def ready(self, status: str | None = None) -> None:
        """Startup (or a reload) finished."""
        self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def reloading(self) -> None:
        """A reload begins; Type=notify-reload needs the CLOCK_MONOTONIC timestamp with it."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    def status(self, text: str) -> None:
        self.notify(f"STATUS={text}")

    def watchdog(self) -> bool:
        """Ping the watchdog unless a ping went out less than a quarter interval ago.

        Returns whether a ping was sent.
        """
        if not self.enabled or self.watchdog_interval is None:
            return False
        now = self._clock()
        if self._last_ping is not None and now - self._last_ping < self.watchdog_interval / 4:
            return False
        sent = self.notify("WATCHDOG=1")
        if sent:
            # Only a delivered ping counts: after a transient failure the next
            # iteration retries instead of waiting another quarter interval.
            self._last_ping = now
        return sent


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    usec = (env.get("WATCHDOG_USEC") or "").strip()
    if not (usec.isascii() and usec.isdigit()) or int(usec) == 0:
        return None
    pid = (env.get("WATCHDOG_PID") or "").strip()
    # The variables are inherited by children; only the process systemd named pings.
    if pid and pid != str(os.getpid()):
        return None
    return int(usec) / 1e6
