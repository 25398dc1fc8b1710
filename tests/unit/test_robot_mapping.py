"""robot.yaml: optional, validated at file:line, and consistent with statuses.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from syncd.mappings.load import MappingError, load_mappings
from tests.support.paths import ROOT


def folder(tmp_path: Path, robot: str | None) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", target)
    if robot is None:
        (target / "robot.yaml").unlink()
    else:
        (target / "robot.yaml").write_text(robot, encoding="utf-8")
    return target


def problems(tmp_path: Path, robot: str) -> list[str]:
    with pytest.raises(MappingError) as caught:
        load_mappings(folder(tmp_path, robot))
    return [str(p) for p in caught.value.problems]


def test_the_shipped_robot_is_on_with_the_seeds_five_conditions():
    robot = load_mappings(ROOT / "mappings").robot
    assert robot is not None and robot.enabled
    c = robot.conditions
    assert (c.total_below, c.no_customer_comment, c.paid, c.address, c.in_stock) == (
        10000, True, True, True, True,
    )  # fmt: skip
    assert (robot.outcomes.agreed, robot.outcomes.needs_agreement) == (
        "client-confirmed", "requires-agreement",
    )  # fmt: skip


def test_without_robot_yaml_there_is_no_robot(tmp_path):
    assert load_mappings(folder(tmp_path, None)).robot is None


def test_a_wrong_value_is_named_at_its_line(tmp_path):
    found = problems(
        tmp_path,
        "outcomes:\n  needs_agreement: requires-agreement\nconditions:\n  total_below: -5\n",
    )
    assert len(found) == 1 and "robot.yaml:4:" in found[0] and "conditions.total_below" in found[0]


def test_the_needs_agreement_status_must_be_given(tmp_path):
    (found,) = problems(tmp_path, "outcomes:\n  agreed: client-confirmed\n")
    assert "robot.yaml:1:" in found and "outcomes.needs_agreement: required key is missing" in found


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("cancel-other", "status 'cancel-other' is mapped to the terminal stage 'cancelled'"),
        ("call-me-later", "status 'call-me-later' has no stage in statuses.yaml crm"),
    ],
)
def test_a_status_the_robot_sets_must_keep_the_order_going(tmp_path, code, message):
    (found,) = problems(tmp_path, f"outcomes:\n  needs_agreement: {code}\n")
    assert "robot.yaml:2:" in found and "outcomes.needs_agreement" in found and message in found


def test_a_disabled_robot_is_not_held_to_the_status_map(tmp_path):
    text = "enabled: false\noutcomes:\n  needs_agreement: call-me-later\n"
    robot = load_mappings(folder(tmp_path, text)).robot
    assert robot is not None and not robot.enabled


def test_reasons_in_a_custom_field_need_its_code(tmp_path):
    text = "outcomes:\n  needs_agreement: requires-agreement\n  reasons_to: custom_field\n"
    (found,) = problems(tmp_path, text)
    assert "outcomes.reasons_to" in found and "custom_field_code" in found


def test_a_missed_call_does_not_end_the_order():
    """The CRM files "Недозвон" under cancel, but the operator calls again: mapped to a
    terminal stage, the first missed call closed the order in 1C for good."""
    statuses = load_mappings(ROOT / "mappings").statuses
    assert statuses.crm["no-call"] not in statuses.terminal


@pytest.mark.parametrize(
    ("chain", "where", "message"),
    [
        ("  no_answer_status: cancel-other\n", "no_answer_status", "terminal stage"),
        ("  return_status: no-such-status\n", "return_status", "has no stage"),
        ("  cancel_status: no-call\n", "cancel_status", "must map to a terminal stage"),
    ],
)
def test_the_call_chains_statuses_must_fit_their_part(tmp_path, chain, where, message):
    robot = f"outcomes:\n  needs_agreement: requires-agreement\ncall_chain:\n{chain}"
    (found,) = problems(tmp_path, robot)
    assert where in str(found) and message in str(found)
