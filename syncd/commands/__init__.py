"""The ``syncd`` command-line commands, one module per group; ``cli.py`` assembles them."""
