"""Faithful local emulators of the outside systems, for the demo and the tests.

A distribution of its own (``syncd-sandbox``, in ``sandbox/`` of the checkout):
syncd's production wheel carries no emulator, no demo and no test connector.
It holds the sandbox RetailCRM (``crm_*``) and 1C (``erp_*``), ``syncd demo``
and the benches' harnesses (``demo``), and the ``feed_file`` source and
``directory`` sink (``connectors``), which syncd registers from the
``syncd.parts`` entry point when this package is installed.
"""

__version__ = "0.1.0"
