"""Errors every connector raises the same way, so the engine knows what to do.

``TransientError``: try again later (timeouts, 5xx, 429, a locked object).
``PermanentError``: retrying the same write cannot help (validation refused,
a 1C business refusal); the command goes to dead letters with the message.
Anything else a sink raises is treated as transient until the attempts run
out.  Messages must name the record and field, and never carry a secret.
"""


class SyncdError(Exception):
    """Base of syncd's own errors."""


class TransientError(SyncdError):
    """Worth retrying later."""


class PermanentError(SyncdError):
    """Retrying the same thing will fail the same way."""


class ClaimLost(TransientError):
    """This attempt no longer owns its command (its claim expired and another took it):
    it must stop writing; the newer attempt goes on from the progress it finds."""
