"""Reading the mappings folder, with every problem at its file, line and column.

    mappings = load_mappings(Path("mappings"))     # MappingError lists what is wrong
    mappings.orders.fields, mappings.statuses.stage_of_crm("client-confirmed")

A problem reads ``mappings/orders.yaml:12:7: fields[1].owner: expected one of
'erp', 'crm', 'none', got 'erpp'``; a YAML syntax error (a wrong indentation)
gives the line and column where the parser stopped.  ``Mappings.problem``
places problems found later (against ``$metadata``, against the CRM's
statuses) the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from syncd.config_errors import ConfigProblem, dotted, explain
from syncd.errors import SyncdError
from syncd.mappings.model import FILES, CustomersMapping, OrdersMapping, StatusesMapping
from syncd.mappings.robot import RobotMapping
from syncd.yamlpos import Positions, describe_yaml_error, load_with_positions, locate

ROBOT = "robot.yaml"


class MappingError(SyncdError, ValueError):
    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Mappings:
    folder: Path
    orders: OrdersMapping
    statuses: StatusesMapping
    customers: CustomersMapping
    positions: dict[str, Positions] = field(default_factory=dict, repr=False)
    robot: RobotMapping | None = None  # robot.yaml, when the folder has one

    def problem(self, file: str, path: list[Any], message: str) -> ConfigProblem:
        line, column = locate(self.positions.get(file, {}), path)
        return ConfigProblem(str(self.folder / file), line, column, dotted(path), message)


def _read(folder: Path, name: str, problems: list[ConfigProblem]) -> tuple[Any, Positions]:
    path = folder / name
    label = str(path)
    if not path.exists():
        problems.append(ConfigProblem(label, None, None, "", "file is missing"))
        return None, {}
    try:
        data, positions = load_with_positions(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        line, column, reason = describe_yaml_error(exc)
        problems.append(ConfigProblem(label, line, column, "", f"not valid YAML: {reason}"))
        return None, {}
    except UnicodeDecodeError:
        problems.append(ConfigProblem(label, None, None, "", "not UTF-8 text"))
        return None, {}
    return data if data is not None else {}, positions


def _validate(
    model: type[BaseModel], data: Any, label: str, positions: Positions, problems: list
) -> BaseModel | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            line, column = locate(positions, loc)
            message = explain(err, loc, model).replace(
                "config/syncd.example.yaml", "the file's schema in mappings/schema"
            )
            problems.append(ConfigProblem(label, line, column, dotted(loc), message))
        return None


def load_one(path: Path, model: type[BaseModel]) -> BaseModel:
    """One mapping file of ``model``; MappingError with every problem found."""
    problems: list[ConfigProblem] = []
    data, positions = _read(path.parent, path.name, problems)
    parsed = None
    if data is not None:
        parsed = _validate(model, data, str(path), positions, problems)
    if problems or parsed is None:
        raise MappingError(problems)
    return parsed


def load_mappings(folder: Path) -> Mappings:
    """The three mapping files of ``folder``; MappingError with every problem found."""
    problems: list[ConfigProblem] = []
    parsed: dict[str, BaseModel | None] = {}
    positions: dict[str, Positions] = {}
    if not folder.is_dir():
        raise MappingError([ConfigProblem(str(folder), None, None, "", "no such folder")])
    for name, model in FILES.items():
        data, positions[name] = _read(folder, name, problems)
        if data is not None:
            parsed[name] = _validate(model, data, str(folder / name), positions[name], problems)
    if (folder / ROBOT).exists():  # optional: without it the robot is off
        data, positions[ROBOT] = _read(folder, ROBOT, problems)
        if data is not None:
            parsed[ROBOT] = _validate(
                RobotMapping, data, str(folder / ROBOT), positions[ROBOT], problems
            )
    if problems:
        raise MappingError(problems)
    mappings = Mappings(
        folder,
        parsed["orders.yaml"],  # type: ignore[arg-type]
        parsed["statuses.yaml"],  # type: ignore[arg-type]
        parsed["customers.yaml"],  # type: ignore[arg-type]
        positions,
        parsed.get(ROBOT),  # type: ignore[arg-type]
    )
    problems = robot_against_statuses(mappings)
    if problems:
        raise MappingError(problems)
    return mappings


def robot_against_statuses(m: Mappings) -> list[ConfigProblem]:
    """The CRM statuses the robot reads and sets, each with a stage in statuses.yaml
    that keeps the order going: a status mapped to a terminal stage would end the
    order in 1C (Статус Закрыт, every line cancelled) when the robot sets it."""
    robot, s = m.robot, m.statuses
    if robot is None or not robot.enabled:
        return []
    problems = []
    for path, code in (
        (["orders", "status"], robot.orders.status),
        (["outcomes", "agreed"], robot.outcomes.agreed),
        (["outcomes", "needs_agreement"], robot.outcomes.needs_agreement),
    ):
        stage = s.crm.get(code)
        if stage is None:
            message = f"status {code!r} has no stage in statuses.yaml crm: map it there"
        elif stage in s.terminal:
            message = f"status {code!r} is mapped to the terminal stage {stage!r} in statuses.yaml"
        else:
            continue
        problems.append(m.problem(ROBOT, path, message))
    chain = robot.call_chain
    if chain.enabled:
        own = [(["call_chain", "no_answer_status"], chain.no_answer_status)]
        if chain.return_status is not None:  # else outcomes.needs_agreement, checked above
            own.append((["call_chain", "return_status"], chain.return_status))
        for path, code in own:
            stage = s.crm.get(code)
            if stage is None:
                message = f"status {code!r} has no stage in statuses.yaml crm: map it there"
            elif stage in s.terminal:
                message = (
                    f"status {code!r} is mapped to the terminal stage {stage!r} in "
                    "statuses.yaml: the call chain keeps the order going through it"
                )
            else:
                continue
            problems.append(m.problem(ROBOT, path, message))
        stage = s.crm.get(chain.cancel_status)
        if stage not in s.terminal:
            problems.append(
                m.problem(
                    ROBOT,
                    ["call_chain", "cancel_status"],
                    f"status {chain.cancel_status!r} must map to a terminal stage in "
                    f"statuses.yaml (it maps to {stage!r}): else the cancellation never "
                    "reaches 1C",
                )
            )
    if robot.outcomes.reasons_to == "custom_field" and not robot.outcomes.custom_field_code:
        problems.append(
            m.problem(ROBOT, ["outcomes", "reasons_to"], "custom_field needs custom_field_code")
        )
    return problems
