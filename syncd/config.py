"""Daemon settings: one YAML file, with secrets and deployment values from the environment.

The file is validated against the models below.  Unknown keys are errors, so a
typo never falls back to a default silently.  Every problem becomes a
``ConfigProblem`` with the file, line, column, key and what was expected; the
environment variables in ``ENV_VARS`` win over the file and their problems name
the variable instead of a line.  Secrets are ``SecretStr`` and are never put
into an error message.  Relative paths are resolved against the config file's
folder, so the daemon behaves the same whatever its working directory.

    settings = load_settings("/etc/syncd/syncd.yaml")      # or $SYNCD_CONFIG
    settings.database_url                                   # normalised store URL
    settings.problem(["sources", 0, "options", "path"], "no such file")  # for connectors
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import yaml
from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from syncd.config_base import Name, Strict
from syncd.config_errors import ConfigError, ConfigProblem, dotted, explain, got
from syncd.config_retention import RetentionSettings, take_deprecated_names
from syncd.connectors.onec.settings import ErpSettings
from syncd.connectors.retailcrm.settings import CrmSettings
from syncd.yamlpos import Positions, describe_yaml_error, load_with_positions, locate

# the core's own; each system's section declares its own (``ENV`` of its settings model,
# beside its connector), collected into ENV_VARS below the Settings model
_CORE_ENV_VARS: dict[str, tuple[str, ...]] = {
    "SYNCD_DB_URL": ("store", "url"),
    "SYNCD_WEBHOOK_SECRET": ("http", "webhook_secret"),
    "SYNCD_HTTP_ADDR": ("http", "listen"),
}
_DB_SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg")


class StoreSettings(Strict):
    url: str | None = None
    migrate_on_start: bool = True
    # connections kept for reuse, opened only as the daemon's threads need them: a pool
    # smaller than its threads (main loop, sources, sink workers and their rounds, web)
    # closed and reopened connections all day (on PostgreSQL a server process each)
    pool_size: int = Field(20, ge=1)

    @field_validator("url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if not value:
            return None
        scheme = value.split("://", 1)[0].lower() if "://" in value else None
        if scheme not in _DB_SCHEMES:
            # Only the scheme is named: the rest of the URL may hold a password.
            got = f"scheme {scheme!r}" if scheme else "no scheme"
            raise ValueError(f"expected a postgresql:// or sqlite:/// URL, got {got}")
        try:
            urlsplit(value).port  # noqa: B018  (parsing is the check)
        except ValueError:
            raise ValueError("expected a URL: cannot parse host or port") from None
        return value

    def __repr_args__(self) -> Any:
        for key, value in super().__repr_args__():
            yield key, (_mask_password(value) if key == "url" and value else value)


class HttpSettings(Strict):
    listen: str = "127.0.0.1:8787"
    webhook_secret: SecretStr | None = None
    max_body_bytes: int = Field(1_048_576, ge=1024)

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        match = re.fullmatch(r"(\[[0-9a-fA-F:.]+\]|[^:\[\]\s]+):(\d{1,5})", value)
        if not match or int(match.group(2)) > 65535:
            raise ValueError(f"expected host:port with a port 0..65535, got {value!r}")
        return value


class RetrySettings(Strict):
    max_attempts: int = Field(8, ge=1)
    initial_seconds: float = Field(2.0, gt=0)
    max_seconds: float = Field(600.0, gt=0)
    jitter_seconds: float = Field(2.0, ge=0)


class EngineSettings(Strict):
    tick_seconds: float = Field(1.0, gt=0)
    batch_size: int = Field(500, ge=1, le=10000)
    sink_workers: int = Field(4, ge=1, le=64)
    shutdown_timeout_seconds: float = Field(20.0, gt=0)
    lease_ttl_seconds: float = Field(30.0, gt=0)
    # the instance's own lease: once it lapses, the others take its streams (engine/leasing.py)
    instance_ttl_seconds: float = Field(6.0, gt=0)
    claim_ttl_seconds: float = Field(300.0, gt=0)
    ready_max_cycle_age_seconds: float = Field(60.0, gt=0)
    # planning waits this long at most for streams still reading, so that both
    # sides' changes of one cycle are decided together
    cycle_wait_seconds: float = Field(2.0, ge=0)
    # a webhook starts its stream's poll at once, but never sooner than this after
    # the stream's previous poll started: a burst of webhooks is read by one poll
    webhook_gap_seconds: float = Field(1.0, ge=0)
    done_retention_days: float = Field(
        7.0, ge=0, description="deprecated: the old name of retention.commands_days"
    )
    instance_id: str | None = None
    retry: RetrySettings = Field(default_factory=RetrySettings)


class LogSettings(Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "text"] = "auto"


class SourceSettings(Strict):
    name: Name
    kind: str
    system: str
    interval_seconds: float = Field(60.0, gt=0)
    enabled: bool = True
    options: dict[str, Any] = Field(default_factory=dict)


class FlowSettings(Strict):
    name: Name
    kind: str
    source_system: str
    entities: list[str] = Field(default_factory=list)
    target: str
    options: dict[str, Any] = Field(default_factory=dict)


class SinkSettings(Strict):
    kind: str
    system: str
    options: dict[str, Any] = Field(default_factory=dict)


class Settings(Strict):
    # validate_default: the defaults too must come out absolute.
    state_dir: Path = Field(Path("state"), validate_default=True)
    mappings_dir: Path = Field(Path("mappings"), validate_default=True)
    plugins: list[str] = Field(default_factory=list)
    store: StoreSettings = Field(default_factory=StoreSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    crm: CrmSettings = Field(default_factory=CrmSettings)
    erp: ErpSettings = Field(default_factory=ErpSettings)
    sources: list[SourceSettings] = Field(default_factory=list)
    flows: list[FlowSettings] = Field(default_factory=list)
    sinks: dict[Name, SinkSettings] = Field(default_factory=dict)

    _source_file: Path | None = PrivateAttr(default=None)
    _file_label: str = PrivateAttr(default="")
    _positions: Positions = PrivateAttr(default_factory=dict)

    @field_validator("state_dir", "mappings_dir")
    @classmethod
    def _absolute(cls, value: Path, info: ValidationInfo) -> Path:
        base = (info.context or {}).get("base_dir") or Path.cwd()
        return _resolve(Path(base), value)

    @model_validator(mode="after")
    def _deprecated_names(self) -> Settings:
        take_deprecated_names(self.engine, self.retention)
        return self

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        found: list[tuple[tuple[str | int, ...], str]] = []
        for section in ("sources", "flows"):
            first: dict[str, int] = {}
            for i, part in enumerate(getattr(self, section)):
                if part.name in first:
                    message = f"duplicate name {part.name!r} ({section}[{first[part.name]}] has it)"
                    found.append(((section, i, "name"), message))
                first.setdefault(part.name, i)
        known = ", ".join(sorted(self.sinks)) or "none are configured"
        for i, flow in enumerate(self.flows):
            if flow.target not in self.sinks:
                message = f"{flow.target!r} is not a sink (sinks: {known})"
                found.append((("flows", i, "target"), message))
        if found:
            # A model validator cannot point at a key itself; the problems travel in ctx
            # and load_settings places each at its own line.
            summary = "; ".join(f"{dotted(loc)}: {msg}" for loc, msg in found)
            ctx = {"summary": summary, "found": found}
            raise PydanticCustomError("config_cross", "{summary}", ctx)
        return self

    @property
    def source_file(self) -> Path | None:
        return self._source_file

    @property
    def base_dir(self) -> Path:
        return self._source_file.parent if self._source_file else Path.cwd()

    def resolve_path(self, path: str | Path) -> Path:
        return _resolve(self.base_dir, Path(path))

    def locate(
        self, key_path: Sequence[str | int] | str | int, *more: str | int
    ) -> tuple[int | None, int | None]:
        """(line, column) of a key; of its nearest enclosing key when the file lacks it.

        Takes the path as one sequence, ``locate(["sources", 0])``, or spread out.
        """
        head = (key_path,) if isinstance(key_path, str | int) else tuple(key_path)
        return locate(self._positions, (*head, *more))

    def problem(self, key_path: Sequence[str | int], message: str) -> ConfigProblem:
        line, column = self.locate(key_path)
        return ConfigProblem(self._file_label, line, column, dotted(key_path), message)

    def secret_values(self) -> list[str]:
        """Every secret in clear, so log output can be scrubbed of them: each
        ``SecretStr`` anywhere in the settings (a section declares a secret by its
        type, and is redacted without being named here), and the store URL's password."""
        values = [s.get_secret_value() for s in secrets_in(self)]
        # The store URL may embed a password, as written and percent-decoded.
        password = urlsplit(self.store.url).password if self.store.url else None
        values += [password, unquote(password)] if password else []
        return list(dict.fromkeys(v for v in values if v))

    @property
    def database_url(self) -> str:
        url = self.store.url
        if not url:
            return f"sqlite:///{self.state_dir / 'syncd.db'}"
        scheme, rest = url.split("://", 1)
        if scheme.lower() in ("postgresql", "postgres"):
            return f"postgresql+psycopg://{rest}"
        if scheme.lower() == "sqlite" and rest.startswith("/") and rest[1:2] not in ("", "/"):
            # sqlite:///relative.db: relative to the config file, like every other path.
            file, sep, query = rest[1:].partition("?")
            if file != ":memory:":
                return f"sqlite:///{self.resolve_path(file)}{sep}{query}"
        return url


def _env_vars() -> dict[str, tuple[str, ...]]:
    """Every environment variable that sets a key: the core's and each section's ``ENV``."""
    found = dict(_CORE_ENV_VARS)
    for section, info in Settings.model_fields.items():
        for var, key in getattr(info.annotation, "ENV", {}).items():
            found[var] = (section, key)
    return found


ENV_VARS: dict[str, tuple[str, ...]] = _env_vars()


def config_path_from(path: str | Path | None, env: Mapping[str, str]) -> Path:
    """The file to read: the explicit path, else ``$SYNCD_CONFIG``."""
    if path:
        return Path(path).expanduser()
    if env.get("SYNCD_CONFIG"):
        return Path(env["SYNCD_CONFIG"]).expanduser()
    raise ConfigError("no configuration file: pass --config or set SYNCD_CONFIG")


def secrets_in(value: Any) -> Iterator[SecretStr]:
    """Every ``SecretStr`` within ``value``: a settings model, its sections, lists, maps."""
    if isinstance(value, SecretStr):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from secrets_in(getattr(value, name))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from secrets_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from secrets_in(item)


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the file, apply the environment, validate; raise ConfigError naming every problem."""
    env = os.environ if env is None else env
    file = config_path_from(path, env)
    label = str(file)

    def fail(message: str, line: int | None = None, column: int | None = None) -> ConfigError:
        return ConfigError([ConfigProblem(label, line, column, "", message)])

    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail("file not found") from None
    except UnicodeDecodeError:
        raise fail("cannot read: not UTF-8 text") from None
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror or exc}") from None
    try:
        data, positions = load_with_positions(text)
    except yaml.YAMLError as exc:
        line, column, reason = describe_yaml_error(exc)
        raise fail(f"invalid YAML: {reason}", line, column) from None
    if data is None:
        raise fail("the file is empty; expected a mapping of settings")
    if not isinstance(data, dict):
        raise fail(f"expected a mapping of settings at the top level, got {got(data)}", 1, 1)

    from_env = _apply_env(data, env)
    base = file.resolve().parent
    try:
        settings = Settings.model_validate(data, context={"base_dir": base})
    except ValidationError as exc:
        problems = [p for err in exc.errors() for p in _problems(label, positions, from_env, err)]
        raise ConfigError(sorted(problems, key=lambda p: (p.line or 0, p.column or 0))) from None
    settings._source_file = file.resolve()
    settings._file_label = label
    settings._positions = positions
    return settings


def load_store_settings(
    path: str | Path | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Settings for a command that needs only the store: the named file (``--config`` or
    ``$SYNCD_CONFIG``) as ``load_settings`` reads it, else the environment alone when it
    names the store (``SYNCD_DB_URL``): ``syncd db upgrade`` and ``syncd status`` on a
    host whose only setting is the store's URL."""
    env = os.environ if env is None else env
    if path or env.get("SYNCD_CONFIG") or not env.get("SYNCD_DB_URL"):
        return load_settings(path, env)
    data: dict = {}
    used = _apply_env(data, env)
    try:
        settings = Settings.model_validate(data, context={"base_dir": Path.cwd()})
    except ValidationError as exc:
        raise ConfigError(
            [p for err in exc.errors() for p in _problems("the environment", {}, used, err)]
        ) from None
    settings._file_label = "the environment"
    return settings


def _apply_env(data: dict, env: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    """Put the environment's values into ``data``; return which key came from which variable."""
    used: dict[tuple[str, ...], str] = {}
    # An empty variable (``SYNCD_DB_URL=`` in an EnvironmentFile) means "not set".
    if "state_dir" not in data and env.get("STATE_DIRECTORY"):
        # systemd joins several StateDirectory= entries with ":"; ours is the first.
        data["state_dir"] = env["STATE_DIRECTORY"].split(":")[0]
    for var, (section, key) in ENV_VARS.items():
        if not env.get(var):
            continue
        if data.get(section) is None:
            data[section] = {}
        if isinstance(data[section], dict):  # else the file's own error is reported
            data[section][key] = env[var]
            used[(section, key)] = var
    return used


def _problems(file: str, positions: Positions, from_env: dict, err: Any) -> list[ConfigProblem]:
    loc = tuple(err["loc"])
    found = (
        err["ctx"]["found"]
        if err["type"] == "config_cross"
        else [(loc, explain(err, loc, Settings))]
    )
    out = []
    for where, message in found:
        var = from_env.get(tuple(where[:2]))
        line, column = (None, None) if var else locate(positions, where)
        suffix = f" (from environment variable {var})" if var else ""
        out.append(ConfigProblem(file, line, column, dotted(where), message + suffix))
    return out


def _resolve(base: Path, path: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _mask_password(url: str) -> str:
    return re.sub(r"^([^:/]+://[^:/@]*:)[^@]*@", r"\1***@", url)
