"""The configuration module: loading, environment overrides, located errors, secrets."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import SecretStr

from syncd.config import (
    ENV_VARS,
    ConfigError,
    ConfigProblem,
    Settings,
    config_path_from,
    load_settings,
)
from tests.support.documented import env_vars as documented_env_vars
from tests.support.paths import ROOT


def write(tmp_path: Path, text: str, name: str = "syncd.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems_of(path: Path, env: dict | None = None) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as info:
        load_settings(path, env or {})
    return info.value.problems


def only_problem(path: Path, env: dict | None = None) -> ConfigProblem:
    problems = problems_of(path, env)
    assert len(problems) == 1, problems
    return problems[0]


# -- defaults and paths -------------------------------------------------------


def test_minimal_file_gives_the_documented_defaults(tmp_path):
    settings = load_settings(write(tmp_path, "log:\n  level: DEBUG\n"), {})

    assert settings.log.level == "DEBUG"
    assert settings.log.format == "auto"
    assert settings.state_dir == tmp_path.resolve() / "state"
    assert settings.mappings_dir == tmp_path.resolve() / "mappings"
    assert settings.store.url is None and settings.store.migrate_on_start is True
    assert settings.store.pool_size == 20
    assert settings.http.listen == "127.0.0.1:8787"
    assert settings.http.webhook_secret is None
    assert settings.http.max_body_bytes == 1048576
    engine = settings.engine
    assert (engine.tick_seconds, engine.batch_size, engine.sink_workers) == (1.0, 500, 4)
    assert (engine.lease_ttl_seconds, engine.claim_ttl_seconds) == (30.0, 300.0)
    assert (engine.shutdown_timeout_seconds, engine.ready_max_cycle_age_seconds) == (20.0, 60.0)
    assert engine.done_retention_days == 7.0 and engine.instance_id is None
    retry = engine.retry
    assert (retry.max_attempts, retry.initial_seconds, retry.max_seconds) == (8, 2.0, 600.0)
    assert retry.jitter_seconds == 2.0
    assert settings.sources == [] and settings.flows == [] and settings.sinks == {}
    assert settings.crm.timezone == settings.erp.timezone == "Europe/Moscow"
    assert settings.secret_values() == []
    assert settings.source_file == (tmp_path / "syncd.yaml").resolve()


def test_a_section_left_empty_means_its_defaults(tmp_path):
    settings = load_settings(write(tmp_path, "engine:\n  # all commented out\nsources:\n"), {})
    assert settings.engine.batch_size == 500
    assert settings.sources == []


def test_relative_paths_resolve_against_the_config_folder_not_the_cwd(tmp_path, monkeypatch):
    config = write(
        tmp_path,
        """
        state_dir: ../var/state
        mappings_dir: maps
        store:
          url: sqlite:///db/syncd.db
        """,
        name="etc/syncd.yaml",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    settings = load_settings("../etc/syncd.yaml", {})

    etc = config.parent.resolve()
    assert settings.state_dir == tmp_path.resolve() / "var" / "state"
    assert settings.mappings_dir == etc / "maps"
    assert settings.base_dir == etc
    assert settings.resolve_path("feed.jsonl") == etc / "feed.jsonl"
    assert settings.resolve_path("/abs/feed.jsonl") == Path("/abs/feed.jsonl")
    assert settings.database_url == f"sqlite:///{etc / 'db' / 'syncd.db'}"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@db:5432/syncd", "postgresql+psycopg://u:p@db:5432/syncd"),
        ("postgres://u:p@db/syncd", "postgresql+psycopg://u:p@db/syncd"),
        ("postgresql+psycopg://u@db/syncd", "postgresql+psycopg://u@db/syncd"),
        ("sqlite:////var/lib/syncd/syncd.db", "sqlite:////var/lib/syncd/syncd.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
    ],
)
def test_database_url_is_normalised(tmp_path, url, expected):
    settings = load_settings(write(tmp_path, f"store:\n  url: '{url}'\n"), {})
    assert settings.database_url == expected


def test_database_url_defaults_to_sqlite_under_the_state_dir(tmp_path):
    settings = load_settings(write(tmp_path, "state_dir: st\n"), {})
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'st' / 'syncd.db'}"
    assert settings.database_url.startswith("sqlite:////")  # an absolute file path


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:pw@db/x", "got scheme 'mysql'"),
        ("db.example/syncd", "got no scheme"),
        ("postgresql://u:pw@db:port/x", "cannot parse host or port"),
    ],
)
def test_unusable_database_url_is_refused_without_echoing_it(tmp_path, url, message):
    problem = only_problem(write(tmp_path, f"store:\n  url: '{url}'\n"))
    assert (problem.line, problem.key) == (2, "store.url")
    assert message in problem.message
    assert "pw" not in str(problem)


# -- environment ------------------------------------------------------------------


def test_env_vars_are_the_documented_ones():
    """The variables syncd reads are docs/configuration.md's table, each overriding the
    setting the table names (SYNCD_CONFIG names the file instead)."""
    documented = documented_env_vars()
    assert documented.pop("SYNCD_CONFIG") is None
    assert documented == ENV_VARS


FILE_VALUES = {
    ("store", "url"): "sqlite:////from/file.db",
    ("http", "listen"): "127.0.0.1:1111",
}
ENV_VALUES = {
    ("store", "url"): "postgresql://syncd@db/syncd",
    ("http", "listen"): "[::1]:2222",
}


@pytest.mark.parametrize("var", sorted(ENV_VARS))
def test_environment_wins_over_the_file(tmp_path, var):
    section, key = ENV_VARS[var]
    in_file = FILE_VALUES.get((section, key), "from-file")
    in_env = ENV_VALUES.get((section, key), "from-env")
    config = write(tmp_path, f"{section}:\n  {key}: '{in_file}'\n")

    assert _value(load_settings(config, {}), section, key) == in_file
    assert _value(load_settings(config, {var: in_env}), section, key) == in_env


@pytest.mark.parametrize("var", sorted(ENV_VARS))
def test_environment_fills_a_key_the_file_lacks(tmp_path, var):
    section, key = ENV_VARS[var]
    in_env = ENV_VALUES.get((section, key), "from-env")
    settings = load_settings(write(tmp_path, "log: {level: INFO}\n"), {var: in_env})
    assert _value(settings, section, key) == in_env


def _value(settings, section, key):
    value = getattr(getattr(settings, section), key)
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def test_an_empty_environment_variable_counts_as_unset(tmp_path):
    config = write(tmp_path, "crm:\n  site: shop\n")
    assert load_settings(config, {"SYNCD_CRM_SITE": ""}).crm.site == "shop"


def test_state_directory_from_systemd_only_when_the_file_has_no_state_dir(tmp_path):
    env = {"STATE_DIRECTORY": "/var/lib/syncd:/var/lib/other"}
    assert load_settings(write(tmp_path, "log: {}\n"), env).state_dir == Path("/var/lib/syncd")
    explicit = write(tmp_path, "state_dir: mine\n", name="explicit.yaml")
    assert load_settings(explicit, env).state_dir == tmp_path.resolve() / "mine"


def test_a_bad_environment_value_names_the_variable_instead_of_a_line(tmp_path):
    config = write(tmp_path, "http:\n  listen: 127.0.0.1:8787\n")
    problem = only_problem(config, {"SYNCD_HTTP_ADDR": "localhost:99999"})
    assert problem.line is None and problem.column is None
    assert problem.key == "http.listen"
    assert problem.message.endswith("(from environment variable SYNCD_HTTP_ADDR)")
    assert str(problem).startswith(f"{config}: http.listen: expected host:port")


def test_config_error_formats_problems_with_and_without_a_position():
    error = ConfigError(
        [
            ConfigProblem("a.yaml", 3, 7, "log.level", "expected one of ..."),
            ConfigProblem("a.yaml", None, None, "crm.url", "bad (from environment variable X)"),
            ConfigProblem("a.yaml", None, None, "", "file not found"),
        ]
    )
    assert str(error).splitlines() == [
        "a.yaml:3:7: log.level: expected one of ...",
        "a.yaml: crm.url: bad (from environment variable X)",
        "a.yaml: file not found",
    ]
    assert ConfigError("plain words").problems == [ConfigProblem("", None, None, "", "plain words")]


def test_config_path_comes_from_the_argument_then_syncd_config(tmp_path):
    assert config_path_from("a.yaml", {"SYNCD_CONFIG": "b.yaml"}) == Path("a.yaml")
    assert config_path_from(None, {"SYNCD_CONFIG": "b.yaml"}) == Path("b.yaml")
    with pytest.raises(ConfigError) as info:
        config_path_from(None, {})
    assert str(info.value) == "no configuration file: pass --config or set SYNCD_CONFIG"

    config = write(tmp_path, "engine: {batch_size: 7}\n")
    assert load_settings(env={"SYNCD_CONFIG": str(config)}).engine.batch_size == 7


# -- located errors ---------------------------------------------------------------


def test_wrong_type_names_file_line_column_key_and_expected_type(tmp_path):
    config = write(
        tmp_path,
        """
        log:
          level: INFO
        engine:
            batch_size: abc
        """,
    )
    problem = only_problem(config)
    assert problem == ConfigProblem(
        str(config), 4, 5, "engine.batch_size", "expected an integer between 1 and 10000, got 'abc'"
    )
    assert str(problem) == (
        f"{config}:4:5: engine.batch_size: expected an integer between 1 and 10000, got 'abc'"
    )


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("engine:\n  sink_workers: 65\n", "engine.sink_workers", "between 1 and 64, got 65"),
        ("engine:\n  tick_seconds: 0\n", "engine.tick_seconds", "greater than 0, got 0"),
        ("http:\n  max_body_bytes: 10\n", "http.max_body_bytes", "at least 1024, got 10"),
        ("store:\n  migrate_on_start: maybe\n", "store.migrate_on_start", "true or false"),
        ("log:\n  format: xml\n", "log.format", "one of auto, json, text, got 'xml'"),
        ("engine:\n  retry: 5\n", "engine.retry", "expected a mapping of keys, got 5"),
        ("flows: {}\n", "flows", "expected a list, got a mapping"),
        ("crm:\n  site: 0123\n", "crm.site", "expected text, got 83; put it in quotes"),
        ("crm:\n  timezone: MSK\n", "crm.timezone", "unknown time zone 'MSK'; expected e.g."),
        ("sinks:\n  5: {kind: a, system: b}\n", "sinks[5]", "expected text, got 5"),
        ("engine:\n  batch_size:\n", "engine.batch_size", "got nothing (an empty value)"),
    ],
)
def test_value_problems_say_what_was_expected(tmp_path, text, key, message):
    problem = only_problem(write(tmp_path, text))
    assert problem.key == key
    assert problem.line == (1 if "\n  " not in text else 2)
    assert problem.column == (1 if "\n  " not in text else 3)
    assert message in problem.message


def test_every_problem_is_reported_at_once_in_file_order(tmp_path):
    config = write(
        tmp_path,
        """
        engine:
          batch_size: 0
        log:
          level: LOUD
        """,
    )
    error = pytest.raises(ConfigError, load_settings, config, {}).value
    assert [(p.line, p.key) for p in error.problems] == [(2, "engine.batch_size"), (4, "log.level")]
    assert str(error).splitlines() == [str(p) for p in error.problems]


def test_an_unknown_key_is_an_error_at_its_line_with_a_suggestion(tmp_path):
    config = write(
        tmp_path,
        """
        engine:
          batch_size: 100
          tick_secods: 5
        """,
    )
    problem = only_problem(config)
    assert (problem.line, problem.column, problem.key) == (3, 3, "engine.tick_secods")
    assert "unknown key" in problem.message
    assert "did you mean 'tick_seconds'" in problem.message


def test_a_missing_required_key_points_at_its_parent(tmp_path):
    config = write(
        tmp_path,
        """
        sources:
          - name: feed
            kind: feed_file
        """,
    )
    problem = only_problem(config)
    assert (problem.line, problem.column, problem.key) == (2, 5, "sources[0].system")
    assert "required key is missing" in problem.message


def test_yaml_syntax_error_gives_its_line(tmp_path):
    config = write(tmp_path, "engine:\n  batch_size: 5\n  tick_seconds: [1, 2\nlog: {}\n")
    problem = only_problem(config)
    assert problem.file == str(config)
    assert problem.line == 4
    assert "invalid YAML" in problem.message


def test_a_key_written_twice_is_an_error_at_the_second(tmp_path):
    problem = only_problem(write(tmp_path, "log: {}\nengine: {}\nlog: {level: INFO}\n"))
    assert problem.line == 3
    assert "duplicate key 'log' (first at line 1)" in problem.message


def test_yaml_merge_keys_still_work(tmp_path):
    config = write(
        tmp_path,
        """
        sinks:
          a: &base {kind: directory, system: files, options: {path: a}}
          b:
            <<: *base
            options: {path: b}
        """,
    )
    sinks = load_settings(config, {}).sinks
    assert (sinks["b"].kind, sinks["b"].options) == ("directory", {"path": "b"})


def test_missing_file(tmp_path):
    problem = only_problem(tmp_path / "nope.yaml")
    assert str(problem) == f"{tmp_path / 'nope.yaml'}: file not found"


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_empty_file(tmp_path, text):
    problem = only_problem(write(tmp_path, text))
    assert "the file is empty" in problem.message


def test_top_level_must_be_a_mapping(tmp_path):
    problem = only_problem(write(tmp_path, "- engine\n- log\n"))
    assert (problem.line, problem.column) == (1, 1)
    assert "expected a mapping of settings at the top level, got a list" in problem.message


# -- cross-field checks -------------------------------------------------------------

SINKS = "sinks:\n  out: {kind: directory, system: files}\n"


def test_duplicate_source_names_point_at_the_second(tmp_path):
    config = write(
        tmp_path,
        """
        sources:
          - name: feed
            kind: feed_file
            system: demo
          - name: feed
            kind: feed_file
            system: demo
        """,
    )
    problem = only_problem(config)
    assert (problem.line, problem.column, problem.key) == (5, 5, "sources[1].name")
    assert problem.message == "duplicate name 'feed' (sources[0] has it)"


def test_duplicate_flow_names_and_unknown_targets_are_all_reported(tmp_path):
    config = write(
        tmp_path,
        SINKS
        + textwrap.dedent(
            """
            flows:
              - {name: copy, kind: copy, source_system: demo, target: out}
              - {name: copy, kind: copy, source_system: demo, target: outt}
            """
        ),
    )
    problems = problems_of(config)
    assert {(p.line, p.key) for p in problems} == {(6, "flows[1].name"), (6, "flows[1].target")}
    target = next(p for p in problems if p.key == "flows[1].target")
    assert target.message == "'outt' is not a sink (sinks: out)"
    line = config.read_text().splitlines()[5]
    assert target.column == line.index("target: outt") + 1


def test_flow_target_must_name_a_sink(tmp_path):
    config = write(
        tmp_path,
        """
        flows:
          - name: copy
            kind: copy
            source_system: demo
            target: crm
        """,
    )
    problem = only_problem(config)
    assert (problem.line, problem.column, problem.key) == (5, 5, "flows[0].target")
    assert problem.message == "'crm' is not a sink (sinks: none are configured)"


def test_names_must_be_lower_case_identifiers(tmp_path):
    config = write(tmp_path, "sinks:\n  Out-1: {kind: directory, system: files}\n")
    problem = only_problem(config)
    assert (problem.line, problem.key) == (2, "sinks.Out-1")
    assert "lower-case letters, digits and _" in problem.message


@pytest.mark.parametrize("listen", ["0.0.0.0:0", "localhost:65535", "[::1]:8787"])
def test_listen_accepts_host_port(tmp_path, listen):
    settings = load_settings(write(tmp_path, f"http:\n  listen: '{listen}'\n"), {})
    assert settings.http.listen == listen


@pytest.mark.parametrize("listen", ["8787", "localhost:65536", "::1:8787", "host:", ":80"])
def test_listen_refuses_anything_else(tmp_path, listen):
    problem = only_problem(write(tmp_path, f"http:\n  listen: '{listen}'\n"))
    assert (problem.line, problem.key) == (2, "http.listen")


# -- locating keys for later validators -----------------------------------------------


def test_locate_and_problem_for_connector_options(tmp_path):
    config = write(
        tmp_path,
        """
        sources:
          - name: feed
            kind: feed_file
            system: demo
            options:
              path: feed.jsonl
        """,
    )
    settings = load_settings(config, {})
    assert settings.locate(["sources", 0, "options", "path"]) == (6, 7)
    assert settings.locate("sources", 0, "options", "path") == (6, 7)
    # absent from the file: the nearest enclosing key
    assert settings.locate(["sources", 0, "options", "batch_lines"]) == (5, 5)
    problem = settings.problem(["sources", 0, "options", "path"], "no such file")
    assert str(problem) == f"{config}:6:7: sources[0].options.path: no such file"


# -- secrets ---------------------------------------------------------------------------------


def test_secrets_never_appear_in_errors(tmp_path):
    config = write(
        tmp_path,
        """
        crm:
          api_key: 918273645
          api_kee: TOPSECRET-typo
        erp:
          password: [TOPSECRET-list]
        store:
          url: mysql://syncd:TOPSECRET-db@db/syncd
        engine:
          batch_size: none
        """,
    )
    env = {"SYNCD_WEBHOOK_SECRET": "TOPSECRET-env", "SYNCD_ERP_USER": "u"}
    with pytest.raises(ConfigError) as info:
        load_settings(config, env)
    text = str(info.value) + repr(info.value.problems)
    assert {p.key for p in info.value.problems} == {
        "crm.api_key",
        "crm.api_kee",
        "erp.password",
        "store.url",
        "engine.batch_size",
    }
    for secret in ("918273645", "TOPSECRET"):
        assert secret not in text
    api_key = next(p for p in info.value.problems if p.key == "crm.api_key")
    assert api_key.message.startswith("expected text (the value is secret and not shown)")


def test_secrets_stay_out_of_pydantic_errors_when_settings_are_built_directly():
    from pydantic import ValidationError

    from syncd.config import Settings

    with pytest.raises(ValidationError) as info:
        Settings.model_validate({"crm": {"api_key": 918273645}, "store": {"url": 564738291}})
    assert "918273645" not in str(info.value)
    assert "564738291" not in str(info.value)


def test_a_store_url_of_the_wrong_type_is_not_echoed(tmp_path):
    problem = only_problem(write(tmp_path, "store:\n  url: 564738291\n"))
    assert problem.key == "store.url"
    assert "564738291" not in str(problem)


def test_valid_secrets_stay_out_of_repr_but_are_listed_for_redaction(tmp_path):
    config = write(tmp_path, "http:\n  webhook_secret: TOPSECRET-file\n")
    env = {
        "SYNCD_CRM_API_KEY": "TOPSECRET-key",
        "SYNCD_ERP_PASSWORD": "TOPSECRET-pw",
        "SYNCD_DB_URL": "postgresql://syncd:TOPSECRET%40db@db/syncd",
    }
    settings = load_settings(config, env)
    assert "TOPSECRET" not in repr(settings)
    assert "TOPSECRET" not in str(settings)
    assert set(settings.secret_values()) == {
        "TOPSECRET-file",
        "TOPSECRET-key",
        "TOPSECRET-pw",
        "TOPSECRET%40db",
        "TOPSECRET@db",
    }
    assert settings.database_url == "postgresql+psycopg://syncd:TOPSECRET%40db@db/syncd"


# -- the shipped files ------------------------------------------------------------------------


def test_demo_config_loads(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # the demo must not depend on the working directory
    settings = load_settings(ROOT / "config" / "demo.yaml", {})
    assert settings.state_dir == ROOT / "state" / "demo"
    assert settings.mappings_dir == ROOT / "mappings"
    assert settings.database_url == f"sqlite:///{ROOT / 'state' / 'demo' / 'syncd.db'}"
    assert [s.name for s in settings.sources] == ["erp_changes", "erp_stock", "crm_orders"]
    assert all(f.target in settings.sinks for f in settings.flows)
    assert settings.erp.odata_url.startswith("http://127.0.0.1:")  # the sandboxes only
    assert settings.crm.url.startswith("http://127.0.0.1:")


def test_example_config_loads_with_secrets_from_the_environment():
    env = {
        "SYNCD_DB_URL": "postgresql://syncd:pw@db.example.internal:5432/syncd",
        "SYNCD_CRM_API_KEY": "crm-key",
        "SYNCD_ERP_PASSWORD": "erp-pw",
        "SYNCD_WEBHOOK_SECRET": "hook",
    }
    settings = load_settings(ROOT / "config" / "syncd.example.yaml", env)
    assert settings.state_dir == Path("/var/lib/syncd")
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert {"crm-key", "erp-pw", "hook", "pw"} <= set(settings.secret_values())
    assert settings.engine.batch_size == 500


def test_example_config_lists_every_key():
    import yaml

    from syncd.config import Settings

    data = yaml.safe_load((ROOT / "config" / "syncd.example.yaml").read_text(encoding="utf-8"))
    for name, field in Settings.model_fields.items():
        assert name in data, name
        model = field.annotation
        if isinstance(model, type) and hasattr(model, "model_fields"):
            listed = {
                key
                for key, f in model.model_fields.items()
                if not (f.description or "").startswith("deprecated")
            }
            assert listed == set(data[name] or {}), name
    assert set(data["engine"]["retry"]) == {
        "max_attempts",
        "initial_seconds",
        "max_seconds",
        "jitter_seconds",
    }


def secret_settings_declared(model: type, prefix: tuple = ()) -> set[str]:
    """The dotted names of every setting typed SecretStr, read from the model classes."""
    import typing

    from pydantic import BaseModel

    found = set()
    for name, info in model.model_fields.items():
        args = typing.get_args(info.annotation) or (info.annotation,)
        if SecretStr in args:
            found.add(".".join((*prefix, name)))
        for arg in args:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                found |= secret_settings_declared(arg, (*prefix, name))
    return found


def test_every_secret_setting_is_documented_as_one_and_scrubbed_from_logs(tmp_path):
    """The settings typed SecretStr are the ones docs/configuration.md marks (secret), and
    each one set is among the values logs are scrubbed of, found by walking the settings."""
    documented = set()
    for line in (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| `SYNCD_") and "(secret)" in line:
            documented.add(line.split("|")[2].split("`")[1])
    declared = secret_settings_declared(Settings)
    assert declared == documented == {"crm.api_key", "erp.password", "http.webhook_secret"}
    env = {
        "SYNCD_CRM_API_KEY": "s3cret-key-value",
        "SYNCD_ERP_PASSWORD": "s3cret-pw-value",
        "SYNCD_WEBHOOK_SECRET": "s3cret-hook-value",
    }
    settings = load_settings(write(tmp_path, "state_dir: .\n"), env)
    assert set(settings.secret_values()) == set(env.values())
