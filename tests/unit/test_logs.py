"""Structured logging: JSON/text output, and secrets that never reach a line."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Iterator

import pytest

from syncd import logs
from syncd.logs import register_secret, setup_logging

SECRET = "crm-KEY/with+odd&chars"


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def isolated_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no registered secret and gets the root logger back after."""
    monkeypatch.setattr(logs, "_secrets", ())
    monkeypatch.setattr(logs, "_installed", None)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in logs._NOISY}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, lvl in noisy.items():
        logging.getLogger(name).setLevel(lvl)
    logging.captureWarnings(False)


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


def test_json_line_carries_fields_and_extras() -> None:
    stream = io.StringIO()
    setup_logging("INFO", "auto", stream)  # StringIO is not a terminal: JSON

    class Opaque:
        def __str__(self) -> str:
            return "opaque!"

    logging.getLogger("syncd.engine").info(
        "order %s sent", "SITE-1001", extra={"sink": "crm", "attempt": 2, "obj": Opaque()}
    )
    logging.getLogger("syncd.engine").debug("not shown at INFO")

    (entry,) = json_lines(stream)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["ts"])
    assert entry["level"] == "INFO"
    assert entry["logger"] == "syncd.engine"
    assert entry["msg"] == "order SITE-1001 sent"
    assert entry["sink"] == "crm"
    assert entry["attempt"] == 2
    assert entry["obj"] == "opaque!"
    assert "exc" not in entry
    assert "args" not in entry and "levelno" not in entry  # standard attributes stay out


def test_exception_goes_to_exc_field() -> None:
    stream = io.StringIO()
    setup_logging("INFO", "json", stream)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("t").exception("failed")
    (entry,) = json_lines(stream)
    assert entry["msg"] == "failed"
    assert entry["level"] == "ERROR"
    assert "Traceback" in entry["exc"] and "RuntimeError: boom" in entry["exc"]


def test_registered_secret_never_appears_anywhere() -> None:
    stream = io.StringIO()
    setup_logging("DEBUG", "json", stream)
    register_secret(SECRET)
    log = logging.getLogger("syncd.crm")

    log.info("calling with %s", SECRET)
    log.info("url-encoded", extra={"url": "https://crm/api?key=" + "crm-KEY%2Fwith%2Bodd%26chars"})
    log.info("nested", extra={"request": {"headers": {"x": SECRET}}, "list": [SECRET, 1]})
    try:
        raise ValueError(f"CRM refused key {SECRET!r}")
    except ValueError:
        log.exception("call failed", extra={"key_used": SECRET})

    text = stream.getvalue()
    assert SECRET not in text
    assert "crm-KEY" not in text  # no partial or encoded form either
    entries = json_lines(stream)
    assert len(entries) == 4
    assert entries[0]["msg"] == "calling with ***"
    assert entries[2]["request"] == {"headers": {"x": "***"}}
    assert entries[2]["list"] == ["***", 1]
    assert "ValueError: CRM refused key '***'" in entries[3]["exc"]
    assert entries[3]["key_used"] == "***"


def test_secret_in_text_traceback_is_masked() -> None:
    stream = io.StringIO()
    setup_logging("INFO", "text", stream)
    register_secret(SECRET)
    try:
        raise ConnectionError(SECRET)
    except ConnectionError:
        logging.getLogger("t").error("down", exc_info=True, extra={"peer": SECRET})
    out = stream.getvalue()
    assert SECRET not in out
    assert "ConnectionError: ***" in out
    assert "peer=***" in out


def test_a_secret_that_holds_another_is_masked_whole() -> None:
    """The shorter secret registered first must not be replaced first: the longer one
    that contains it would then leak its own rest (``***-ext-KEY9876``)."""
    register_secret("Zx81kQ-base")
    register_secret("Zx81kQ-base-ext-KEY9876")
    line = logs.redact("keys: Zx81kQ-base-ext-KEY9876 and Zx81kQ-base")
    assert line == "keys: *** and ***"
    assert "KEY9876" not in logs.redact("https://x/?k=Zx81kQ-base-ext-KEY9876")


def test_short_and_empty_secrets_are_ignored() -> None:
    register_secret(None)
    register_secret("")
    register_secret("abc")
    assert logs.redact("abc abcd") == "abc abcd"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET https://shop.retailcrm.ru/api/v5/orders?apiKey=Zx81kQ&limit=20",
            "GET https://shop.retailcrm.ru/api/v5/orders?apiKey=***&limit=20",
        ),
        ("form apikey=Zx81kQ&site=a", "form apikey=***&site=a"),
        (
            "headers {'X-API-KEY': 'Zx81kQ', 'Accept': 'json'}",
            "headers {'X-API-KEY': '***', 'Accept': 'json'}",
        ),
        ("X-API-KEY: Zx81kQ", "X-API-KEY: ***"),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ***"),
        ("{'Authorization': 'Bearer eyJ.a.b'}", "{'Authorization': 'Bearer ***'}"),
        ("login password=hunter22 ok", "login password=*** ok"),
        ('{"password": "hunter22"}', '{"password": "***"}'),
        ("cb?token=t0k3n&id=5", "cb?token=***&id=5"),
        ("X-Syncd-Token: t0k3n", "X-Syncd-Token: ***"),
        ("postgresql://syncd:pa55@db:5432/syncd", "postgresql://syncd:***@db:5432/syncd"),
        ("nothing to hide here", "nothing to hide here"),
    ],
)
def test_credential_shapes_are_masked(text: str, expected: str) -> None:
    assert logs.redact(text) == expected


def test_api_key_in_logged_url_is_masked_in_json() -> None:
    stream = io.StringIO()
    setup_logging("INFO", "json", stream)
    logging.getLogger("urlish").warning(
        "GET %s failed", "https://x.retailcrm.ru/api/v5/orders?apiKey=Zx81kQ"
    )
    (entry,) = json_lines(stream)
    assert entry["msg"] == "GET https://x.retailcrm.ru/api/v5/orders?apiKey=*** failed"
    assert "Zx81kQ" not in stream.getvalue()


def test_text_on_a_terminal_json_elsewhere() -> None:
    tty = FakeTTY()
    setup_logging("INFO", "auto", tty)
    logging.getLogger("syncd.engine").info("message", extra={"key": "value", "n": 3})
    line = tty.getvalue().rstrip("\n")
    with pytest.raises(ValueError):
        json.loads(line)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO syncd\.engine: message key=value n=3", line
    )

    forced = FakeTTY()
    setup_logging("INFO", "json", forced)
    logging.getLogger("x").info("hi")
    assert json.loads(forced.getvalue())["msg"] == "hi"


def test_calling_setup_twice_replaces_the_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    setup_logging("INFO", "json", first)
    setup_logging("WARNING", "json", second)
    streams = [getattr(h, "stream", None) for h in logging.getLogger().handlers]
    assert first not in streams
    assert streams.count(second) == 1
    logging.getLogger("x").warning("only once")
    logging.getLogger("x").info("below the new level")
    assert first.getvalue() == ""
    assert [e["msg"] for e in json_lines(second)] == ["only once"]


def test_noisy_libraries_quietened_and_bad_arguments_rejected() -> None:
    setup_logging("DEBUG", "json", io.StringIO())
    assert logging.getLogger("urllib3").level == logging.WARNING
    assert logging.getLogger("waitress").level == logging.WARNING
    assert logging.getLogger().level == logging.DEBUG
    with pytest.raises(ValueError):
        setup_logging("LOUD", "json", io.StringIO())
    with pytest.raises(ValueError):
        setup_logging("INFO", "xml", io.StringIO())


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_bad_log_arguments_do_not_leak_the_raw_arguments(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = io.StringIO()
    setup_logging("INFO", fmt, stream)
    # pytest's own capture handlers would trip over the bad call: only ours listens.
    logging.getLogger().handlers[:] = [logs._installed]
    register_secret(SECRET)
    logging.getLogger("x").info("two %s %s but one given", SECRET)
    assert "bad log arguments" in stream.getvalue()
    assert SECRET not in stream.getvalue()
    assert SECRET not in capsys.readouterr().err  # logging's error path printed nothing raw


def test_masking_that_would_break_json_withholds_the_line() -> None:
    # The JSON escape of "\n1234x" ends with the registered "n1234x": masking it
    # would leave "\***", which is not JSON.
    stream = io.StringIO()
    setup_logging("INFO", "json", stream)
    register_secret("n1234x")
    logging.getLogger("x").info("a\n1234x")
    (entry,) = json_lines(stream)
    assert entry["msg"] == "log line withheld: redaction broke it"
    assert entry["logger"] == "x"


def test_register_secret_is_thread_safe() -> None:
    values = [f"secret-value-{i:03d}" for i in range(200)]
    threads = [
        threading.Thread(target=lambda chunk=values[i::8]: [register_secret(v) for v in chunk])
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert logs.redact(" ".join(values)) == " ".join(["***"] * len(values))


def test_a_secret_of_four_characters_is_masked() -> None:
    register_secret("q7Zx")
    assert logs.redact("key q7Zx.") == "key ***."


ODD = "p@ss/wörd=1+2 'x\"y\\z"  # quotes, a backslash, a non-ASCII letter, URL specials


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda s: s, id="as is"),
        pytest.param(lambda s: __import__("urllib.parse").parse.quote(s, safe=""), id="url"),
        pytest.param(lambda s: __import__("urllib.parse").parse.quote_plus(s), id="form"),
        pytest.param(lambda s: repr(s)[1:-1], id="repr"),
        pytest.param(lambda s: json.dumps(s, ensure_ascii=False)[1:-1], id="json"),
        pytest.param(lambda s: json.dumps(s)[1:-1], id="json ascii"),
        pytest.param(lambda s: json.dumps(repr(s)[1:-1], ensure_ascii=False)[1:-1], id="json repr"),
    ],
)
def test_a_secret_is_masked_whole_in_every_form_it_takes_in_a_line(form) -> None:
    register_secret(ODD)
    written = form(ODD)
    assert logs.redact(f"<{written}>") == "<***>", written


def test_floats_that_json_cannot_carry_become_text_and_others_stay_numbers() -> None:
    assert logs._clean(1.5) == 1.5 and isinstance(logs._clean(1.5), float)
    assert [logs._clean(x) for x in (float("nan"), float("inf"))] == ["nan", "inf"]


def test_nesting_is_followed_eight_levels_deep_then_written_as_text() -> None:
    def nested(depth: int, kind: type) -> object:
        value: object = "leaf"
        for _ in range(depth):
            value = {"k": value} if kind is dict else [value]
        return value

    for kind in (dict, list):
        cleaned = logs._clean(nested(9, kind))
        for _ in range(8):
            cleaned = cleaned["k"] if kind is dict else cleaned[0]
        assert isinstance(cleaned, str), kind  # the ninth level: its text
        assert logs._clean(nested(8, kind)) == nested(8, kind)


def test_a_value_under_a_sensitive_key_is_masked_at_any_depth() -> None:
    cleaned = logs._clean({"order": {"password": "hunter2", "number": "ЗК-1"}, "token": 7})
    assert cleaned == {"order": {"password": "***", "number": "ЗК-1"}, "token": "***"}


def test_a_json_line_carries_the_time_a_traceback_given_as_text_and_the_stack() -> None:
    record = logging.LogRecord("syncd.x", logging.INFO, __file__, 1, "m", None, None)
    record.created, record.msecs = 1795770000.25, 250
    record.exc_text = "Traceback: boom"
    record.stack_info = "Stack (most recent call last): here"
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["ts"] == "2026-11-27T09:00:00.250Z"  # UTC, whatever the host's zone
    assert line["exc"] == "Traceback: boom" and "here" in line["stack"]
