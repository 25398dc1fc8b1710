"""A POS export file taken safely: a regular file only, and its reader can stop only itself.

- ``open_export`` refuses anything but a regular file without reading it: a
  symbolic link (to a file or a directory), a FIFO, a device, a socket, a
  directory.  It looks at the entry itself (``lstat``) so that a device or a
  FIFO is never opened, then opens it with ``O_NOFOLLOW`` (a link swapped in
  meanwhile fails to open) and ``O_NONBLOCK`` (a FIFO swapped in cannot hang
  the open), and checks the *opened* descriptor (``fstat``) — no
  check-then-open race.  A file over ``max_file_bytes`` is refused unread.
- ``guarded`` runs a reader and turns anything it raises — ``Refused``,
  RecursionError, MemoryError, UnicodeError, OSError, any Exception — into
  one final ``Unreadable`` item.  The caller sets that file aside; the files
  behind it go on.  The reason kept for logs and dead letters names the file's
  line and the error's type, never the file's content.

    stream, digest = open_export(path, limits)
    with stream:
        for item in guarded(read_csv(stream, mapping)):   # Receipt | Reject | Unreadable
            ...
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from syncd.connectors.pos.receipts import Limits, Receipt, Refused, Reject, Unreadable

NOT_REGULAR = "not a regular file: not read (POS exports must be regular files)"


def what_it_is(mode: int) -> str | None:
    """None for a regular file, else what the entry is, in words."""
    if stat.S_ISREG(mode):
        return None
    for test, words in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return words
    return "a special file"


def open_export(path: Path, limits: Limits) -> tuple[BinaryIO, str]:
    """The file open for reading, and its sha256; ``Refused`` if not a regular file or too big."""
    kind = what_it_is(os.lstat(path).st_mode)
    if kind:
        raise Refused(f"{kind}, {NOT_REGULAR}")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # became a link since the look
            raise Refused(f"a symbolic link, {NOT_REGULAR}") from None
        raise
    try:
        opened = os.fstat(fd)
        kind = what_it_is(opened.st_mode)
        if kind:
            raise Refused(f"{kind}, {NOT_REGULAR}")
        if opened.st_size > limits.max_file_bytes:
            raise Refused(
                f"{opened.st_size} bytes, over max_file_bytes ({limits.max_file_bytes}): not read"
            )
        stream = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    try:
        return stream, content_hash(stream)
    except BaseException:
        stream.close()
        raise


def content_hash(stream: BinaryIO) -> str:
    """sha256 of the whole file; the stream is left at its start."""
    digest = hashlib.sha256()
    stream.seek(0)
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def refusal(exc: Exception, line: int = 0, *, opening: bool = False) -> Unreadable:
    """What stopped a file, for logs (``reason``) and for the file's rejects (``detail``)."""
    if isinstance(exc, Refused):
        return Unreadable(line, str(exc), str(exc))
    if opening:
        reason = f"could not be opened: {type(exc).__name__}"
    else:
        where = f"after line {line}" if line else "before the first line"
        reason = f"the reader stopped {where}: {type(exc).__name__}"
    return Unreadable(line, reason, f"{reason}: {str(exc)[:300]}")


def guarded(items: Iterator[Receipt | Reject]) -> Iterator[Receipt | Reject | Unreadable]:
    """``items`` as they come; whatever the reader raises ends them with one ``Unreadable``."""
    line = 0
    while True:
        try:
            item = next(items)
        except StopIteration:
            return
        except Exception as exc:  # any at all: by construction, one file cannot stop the stream
            yield refusal(exc, line)
            return
        line = max(line, item.line)
        yield item
