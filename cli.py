"""The ``syncd`` command: ``syncd --help`` lists what it does.

Installed as the ``syncd`` console script; ``python cli.py …`` works the same.
"""

from __future__ import annotations

import click

from syncd import __version__
from syncd.commands.admin import check_config, db_group, inbox_group
from syncd.commands.backfill import backfill_group
from syncd.commands.bindings import bindings_group
from syncd.commands.check import check_command
from syncd.commands.conflicts import conflicts_group
from syncd.commands.customers import customers_group
from syncd.commands.db_copy import db_copy_command
from syncd.commands.demo import demo_command
from syncd.commands.inspect import dead_letters_group, status_command
from syncd.commands.mappings import mappings_group
from syncd.commands.robot import robot_group
from syncd.commands.run import run_command
from syncd.commands.sandbox import sandbox_group
from syncd.commands.timers import timers_group


@click.group()
@click.version_option(__version__, prog_name="syncd")
def main() -> None:
    """syncd keeps a 1C:Enterprise ERP and RetailCRM in step."""


for command in (
    run_command,
    status_command,
    dead_letters_group,
    db_group,
    check_config,
    check_command,
    inbox_group,
    sandbox_group,
    mappings_group,
    conflicts_group,
    bindings_group,
    demo_command,
    customers_group,
    backfill_group,
    robot_group,
    timers_group,
):
    main.add_command(command)
db_group.add_command(db_copy_command)

if __name__ == "__main__":
    main()
