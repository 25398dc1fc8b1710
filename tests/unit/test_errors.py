"""One exception hierarchy: every error syncd itself raises is a ``SyncdError``, so a
caller (a plugin, a wrapper script) can tell syncd's refusals from a bug."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import syncd
from syncd.errors import PermanentError, SyncdError, TransientError

# emulators and the demo stand in for the outside systems: their errors are 1C's and
# the CRM's, not syncd's
OUTSIDE = ("syncd_sandbox", "syncd_sandbox.demo")
# run by alembic only, inside a migration context
NOT_IMPORTABLE = ("syncd.store.migrations.env",)


def syncd_exception_classes() -> list[type]:
    found = []
    for module_info in pkgutil.walk_packages(syncd.__path__, "syncd."):
        if module_info.name.startswith(OUTSIDE) or module_info.name in NOT_IMPORTABLE:
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
                and not name.startswith("_")  # private control flow, never seen outside
            ):
                found.append(value)
    return found


def test_every_error_syncd_declares_is_a_syncd_error():
    classes = syncd_exception_classes()
    names = {c.__name__ for c in classes}
    assert {"ConfigError", "LeaseLost", "CrmError", "ErpError", "RowError"} <= names
    assert [c.__qualname__ for c in classes if not issubclass(c, SyncdError)] == []


def test_retrying_is_still_decided_by_transient_or_permanent_alone():
    """Joining the hierarchy made no error transient or permanent that was neither."""
    from syncd.config_errors import ConfigError
    from syncd.store.leases import LeaseLost

    for cls in (ConfigError, LeaseLost):
        assert not issubclass(cls, TransientError | PermanentError)
