"""syncd: keeps a 1C:Enterprise ERP and RetailCRM in step.

The package is cut by concept: ``config`` (settings), ``model`` (canonical
records), ``store`` (durable state), ``engine`` (running sources, flows and
sinks), ``connectors`` (one folder per outside system) and ``web`` (HTTP).
"""

__version__ = "0.1.0"
