"""Writing daemon configs and running ``syncd`` as a real process, for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from syncd.config import load_settings
from syncd.engine.contracts import PartContext
from syncd.engine.pipeline import Pipeline, build_pipeline
from syncd.metrics import Metrics
from tests.support.paths import ROOT


def write_config(
    tmp: Path,
    db_url: str,
    *,
    sources: list[dict] | None = None,
    sink_options: dict | None = None,
    engine: dict | None = None,
    http: dict | None = None,
    extra: dict | None = None,
) -> Path:
    """A daemon config: feed file ``feed.jsonl`` → copy flow → directory ``out/``."""
    config: dict[str, Any] = {
        "state_dir": str(tmp / "state"),
        "store": {"url": db_url},
        "log": {"level": "INFO", "format": "json"},
        "http": {"listen": "127.0.0.1:0", "webhook_secret": "test-webhook-secret-123"},
        "engine": {
            "tick_seconds": 0.05,
            "lease_ttl_seconds": 5,
            "shutdown_timeout_seconds": 5,
            "retry": {"initial_seconds": 0.05, "max_seconds": 0.2, "jitter_seconds": 0.01},
            **(engine or {}),
        },
        "sources": sources
        if sources is not None
        else [
            {
                "name": "feed",
                "kind": "feed_file",
                "system": "demo",
                "interval_seconds": 0.1,
                "options": {"path": str(tmp / "feed.jsonl"), "batch_lines": 3},
            }
        ],
        "flows": [
            {"name": "copy", "kind": "copy", "source_system": "demo", "target": "out"},
        ],
        "sinks": {
            "out": {
                "kind": "directory",
                "system": "files",
                "options": {"path": str(tmp / "out"), **(sink_options or {})},
            }
        },
    }
    if http:
        config["http"].update(http)
    if extra:
        config.update(extra)
    path = tmp / "syncd.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def write_feed(tmp: Path, changes: list[dict], append: bool = False) -> Path:
    path = tmp / "feed.jsonl"
    with path.open("a" if append else "w", encoding="utf-8") as fh:
        for change in changes:
            fh.write(json.dumps(change, ensure_ascii=False) + "\n")
    return path


def change(entity: str, key: str, version: int, **data: Any) -> dict:
    return {"entity": entity, "id": key, "version": str(version), "data": data}


def syncd(*args: str, env: dict | None = None, check: bool = False, timeout: float = 120):
    """Run ``python cli.py ARGS`` to completion."""
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
    )


def parts_of(
    tmp_path: Path,
    *,
    sources: list[dict] | None = None,
    extra: dict | None = None,
    env: dict | None = None,
    metrics: Metrics | None = None,
) -> Pipeline:
    """The pipeline a config with these parts builds, in this process, running nothing."""
    db = f"sqlite:///{tmp_path}/parts.db"
    config = write_config(tmp_path, db, sources=sources or [], extra=extra)
    settings = load_settings(config, env or {})
    return build_pipeline(settings, PartContext(settings, metrics or Metrics()))


def start_daemon(config: Path, *args: str, env: dict | None = None, log: Path | None = None):
    """Start ``syncd run`` in the background; its output goes to ``log``."""
    log = log or config.with_suffix(".log")
    out = log.open("ab")
    return subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "run", "--config", str(config), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    """Signal the daemon and wait for it; one that hangs dumps its threads' stacks
    (SIGUSR1, into its log) before the test fails, to show what it waited on."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGUSR1)
        try:
            proc.wait(timeout=2)  # a moment to write the dump; it is not expected to exit
        except subprocess.TimeoutExpired:
            pass
        raise


def outputs(out_dir: Path) -> dict[str, dict]:
    """What the directory sink holds: {"entity/key": data}."""
    found = {}
    for path in sorted(out_dir.glob("*/*.json")):
        found[f"{path.parent.name}/{path.stem}"] = json.loads(path.read_text(encoding="utf-8"))
    return found


def journal(out_dir: Path) -> list[dict]:
    path = out_dir / "writes.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def log_records(log: Path) -> list[dict]:
    """The daemon's JSON log lines (other lines, e.g. a crash trace, are skipped)."""
    if not log.exists():
        return []
    records = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except ValueError:
                pass
    return records


def logged(log: Path, message: str) -> dict | None:
    return next((r for r in log_records(log) if message in r.get("msg", "")), None)


def order_flows(erp_entities: list[str], options: dict | None = None) -> list[dict]:
    """The config entries of the two order flows: 1C's ``erp_entities`` to the CRM, the
    CRM's orders to 1C (``options``: the flows' own, when given)."""
    extra = {"options": options} if options is not None else {}
    return [
        {
            "name": "orders_from_erp",
            "kind": "order_sync",
            "source_system": "erp",
            "entities": list(erp_entities),
            "target": "crm",
            **extra,
        },
        {
            "name": "orders_from_crm",
            "kind": "order_sync",
            "source_system": "crm",
            "entities": ["order"],
            "target": "erp",
            **extra,
        },
    ]
