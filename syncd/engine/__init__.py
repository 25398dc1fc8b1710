"""The engine: sources bring events in, flows plan them into commands, sinks apply them.

What a connector or a plugin needs is here, the front door:

    from syncd.engine import Source, SourceBatch, Flow, FlowContext, Sink, Result, register

``contracts`` declares the parts and what passes between them, ``pipeline``
registers and builds them from the config, ``daemon`` runs the main loop
(``Engine``); the other modules are the loop's steps.  Names are loaded on first
use, so a connector importing the contracts does not import the daemon.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOME = {
    "Engine": "daemon",
    "register": "pipeline",
    "build_pipeline": "pipeline",
    "PartContext": "contracts",
    "Source": "contracts",
    "SourceBatch": "contracts",
    "Rejected": "contracts",
    "Flow": "contracts",
    "FlowContext": "contracts",
    "Sink": "contracts",
    "Result": "contracts",
    "WebhookRoute": "contracts",
    "WebhookIntake": "contracts",
    "retrying_calls": "retry",
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'syncd.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(f"syncd.engine.{_HOME[name]}"), name)
