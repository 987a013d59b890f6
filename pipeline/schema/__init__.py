"""The case table: its fields, declared once in fields.toml (see SCHEMA.md), and cell normalisation."""

from pipeline.schema.cells import (NUMBER_TOLERANCE, ROMAN_NUMERALS, InvalidValue, bounds_text, cells_equal,
                                   format_number, list_items, normalize_cell)
from pipeline.schema.registry import (COLUMNS, FIELD_BY_NAME, FIELDS, GROUP_STATEMENT_FIELDS, GROUPS,
                                      IDENTITY_COLUMNS, KINDS, MARKER_BY_ID, MARKER_UNITS, MARKERS,
                                      PER_ARTICLE_FIELDS, REGISTRY, SCORED_FIELDS, Field, Group, Marker,
                                      RegistryError)

__all__ = ["COLUMNS", "FIELD_BY_NAME", "FIELDS", "GROUP_STATEMENT_FIELDS", "GROUPS", "IDENTITY_COLUMNS", "KINDS",
           "MARKER_BY_ID", "MARKER_UNITS", "MARKERS", "NUMBER_TOLERANCE", "PER_ARTICLE_FIELDS", "REGISTRY",
           "ROMAN_NUMERALS", "SCORED_FIELDS", "Field", "Group", "InvalidValue", "Marker", "RegistryError",
           "bounds_text", "cells_equal", "format_number", "list_items", "normalize_cell"]
