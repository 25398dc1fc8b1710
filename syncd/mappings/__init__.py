"""The admin's mapping files: how 1C and RetailCRM objects correspond.

``model`` declares the files (and generates their JSON Schema), ``load``
reads a folder with file:line errors, ``transforms`` converts values,
``check`` compares a mapping with the live systems.

    from syncd.mappings import load_mappings
    mappings = load_mappings(Path("mappings"))   # MappingError names file:line
"""

from syncd.mappings.load import MappingError, Mappings, load_mappings

__all__ = ["MappingError", "Mappings", "load_mappings"]
