"""The retention clock: the real time, moved forward by a file benchmarks and tests write."""

from __future__ import annotations

import logging
import time

import pytest

from syncd import clock


@pytest.fixture(autouse=True)
def fresh_clock(monkeypatch):
    monkeypatch.delenv(clock.OFFSET_FILE_ENV, raising=False)
    clock.forget()
    clock._warned.clear()
    yield
    clock.forget()


def test_without_the_variable_the_clock_is_the_real_time():
    before = time.time()
    assert before <= clock.now() <= time.time()
    assert clock.offset() == 0.0


def test_the_offset_file_moves_the_clock_forward(tmp_path, monkeypatch):
    offset_file = tmp_path / "offset"
    offset_file.write_text("86400.5\n")
    monkeypatch.setenv(clock.OFFSET_FILE_ENV, str(offset_file))
    assert clock.offset() == 86400.5
    assert clock.now() >= time.time() + 86400


def test_the_file_is_read_again_at_most_once_a_second(tmp_path, monkeypatch):
    offset_file = tmp_path / "offset"
    offset_file.write_text("10")
    monkeypatch.setenv(clock.OFFSET_FILE_ENV, str(offset_file))
    seen_at = [1000.0]
    monkeypatch.setattr(clock.time, "monotonic", lambda: seen_at[0])
    assert clock.offset() == 10
    offset_file.write_text("20")
    seen_at[0] += 0.5
    assert clock.offset() == 10  # read half a second ago: not again
    seen_at[0] += 0.6
    assert clock.offset() == 20


@pytest.mark.parametrize("content", ["a week", "", "nan", "inf"])
def test_a_file_without_a_number_means_no_offset_with_one_warning(
    tmp_path, monkeypatch, caplog, content
):
    offset_file = tmp_path / "offset"
    offset_file.write_text(content)
    monkeypatch.setenv(clock.OFFSET_FILE_ENV, str(offset_file))
    with caplog.at_level(logging.WARNING, logger="syncd.clock"):
        for _ in range(3):
            clock.forget()
            assert clock.offset() == 0.0
    assert len(caplog.records) == 1
    assert "does not hold a number" in caplog.records[0].getMessage()


def test_a_missing_file_means_no_offset_with_one_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv(clock.OFFSET_FILE_ENV, str(tmp_path / "absent"))
    with caplog.at_level(logging.WARNING, logger="syncd.clock"):
        for _ in range(3):
            clock.forget()
            assert clock.offset() == 0.0
    assert len(caplog.records) == 1
    assert "cannot read it" in caplog.records[0].getMessage()
