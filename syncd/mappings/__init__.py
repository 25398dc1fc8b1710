"""The admin's mapping files: how 1C and RetailCRM objects correspond.

``model`` declares the files (and generates their JSON Schema), ``load``
reads a folder with file:line errors, ``transforms`` converts values,
``check`` compares a mapping with the live systems.
"""
