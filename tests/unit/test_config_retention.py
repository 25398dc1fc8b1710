"""The ``retention:`` section: safe defaults, fractional days, the old engine key as an alias."""

from __future__ import annotations

import logging

from syncd.config import load_settings
from tests.unit.test_config import only_problem, write


def test_retention_defaults_keep_a_week_of_events_and_commands_and_a_month_of_the_rest(tmp_path):
    retention = load_settings(write(tmp_path, "log:\n  level: INFO\n"), {}).retention
    assert (retention.events_days, retention.commands_days) == (7.0, 7.0)
    assert (retention.dead_letters_days, retention.conflicts_days) == (30.0, 30.0)
    assert (retention.every_seconds, retention.batch_rows) == (60.0, 500)


def test_retention_takes_fractional_days(tmp_path):
    text = """
        retention:
          events_days: 0.01
          commands_days: 0.5
          dead_letters_days: 0
          conflicts_days: 2.5
          every_seconds: 0.2
          batch_rows: 50
    """
    retention = load_settings(write(tmp_path, text), {}).retention
    assert retention.events_days == 0.01 and retention.commands_days == 0.5
    assert retention.dead_letters_days == 0 and retention.conflicts_days == 2.5
    assert retention.every_seconds == 0.2 and retention.batch_rows == 50


def test_an_empty_retention_section_means_its_defaults(tmp_path):
    settings = load_settings(write(tmp_path, "retention:\n  # nothing set\n"), {})
    assert settings.retention.events_days == 7.0


def test_a_negative_period_is_refused_at_its_line(tmp_path):
    problem = only_problem(write(tmp_path, "retention:\n  events_days: -1\n"))
    assert (problem.line, problem.key) == (2, "retention.events_days")
    assert problem.message == "expected a number of at least 0, got -1"


def test_an_unknown_retention_key_is_an_error(tmp_path):
    problem = only_problem(write(tmp_path, "retention:\n  event_days: 3\n"))
    assert problem.key == "retention.event_days" and "unknown key" in problem.message


def test_the_old_engine_key_still_sets_the_commands_period_with_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="syncd.config_retention"):
        settings = load_settings(write(tmp_path, "engine:\n  done_retention_days: 3\n"), {})
    assert settings.retention.commands_days == 3.0
    assert settings.retention.events_days == 7.0
    (record,) = caplog.records
    assert "deprecated" in record.getMessage() and "retention.commands_days" in record.getMessage()


def test_the_new_key_wins_over_the_old_one(tmp_path, caplog):
    text = "engine:\n  done_retention_days: 3\nretention:\n  commands_days: 1\n"
    with caplog.at_level(logging.WARNING, logger="syncd.config_retention"):
        settings = load_settings(write(tmp_path, text), {})
    assert settings.retention.commands_days == 1.0
    (record,) = caplog.records
    assert "ignored" in record.getMessage()


def test_no_warning_when_the_old_key_is_not_used(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="syncd.config_retention"):
        load_settings(write(tmp_path, "retention:\n  commands_days: 2\n"), {})
    assert caplog.records == []
