"""Every thread's stack on SIGUSR1: what a daemon that stopped making progress waits on.

``kill -USR1 <pid>`` (``systemctl kill -s USR1 syncd``) writes, to stderr (the journal),
one block per thread in faulthandler's layout::

    Thread 0x00007f92e09fa6c0 "source_0" (most recent call first):
      File "/srv/syncd/syncd/engine/daemon.py", line 175 in run

The daemon carries on.  The stacks are read by a Python signal handler, which runs in
the main thread between two bytecodes while holding the GIL, so every other thread's
frames stand still while they are read.  ``faulthandler.register(all_threads=True)``
reads them from the C signal handler while the other threads run on, and a frame freed
under it can stop the dump half-way or kill the process.

Usage::

    from syncd import stack_dump
    stack_dump.install()          # in the main thread, once
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from types import FrameType


def format_stacks() -> str:
    """Every live thread's stack, the thread this runs in marked ``Current thread``."""
    names = {t.ident: t.name for t in threading.enumerate()}
    me = threading.get_ident()
    blocks = []
    for ident, frame in sys._current_frames().items():
        head = "Current thread" if ident == me else "Thread"
        lines = [f'{head} 0x{ident:016x} "{names.get(ident, "?")}" (most recent call first):']
        for entry in reversed(traceback.extract_stack(frame)):
            lines.append(f'  File "{entry.filename}", line {entry.lineno} in {entry.name}')
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _dump(signum: int, frame: FrameType | None) -> None:
    data = format_stacks().encode("utf-8", "replace")
    fd = sys.stderr.fileno() if sys.stderr is not None else 2
    while data:  # one write per chunk the pipe takes; log lines may follow, never interleave
        data = data[os.write(fd, data) :]


def install(signum: int = signal.SIGUSR1) -> None:
    """Print every thread's stack on ``signum``; call from the main thread."""
    signal.signal(signum, _dump)
