"""SCHEMA.md, written from the registry: the case table's fields as a person reads them."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pipeline.schema.cells import bounds_text
from pipeline.schema.registry import REGISTRY, Field, Registry

TEMPLATE = "SCHEMA.md.j2"
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = REPOSITORY_ROOT / "SCHEMA.md"


def _cell(text: str) -> str:
    """Text that stays inside one cell of a Markdown table."""
    return text.replace("|", "\\|").replace("\n", " ")


def _values(field: Field) -> str:
    if field.vocabulary:
        return ", ".join(f"`{_cell(value)}`" for value in field.vocabulary)
    if field.kind == "list":
        return "any, lower case"
    return _cell(field.unit or "")


def _bounds(field: Field) -> str:
    if field.minimum is None and field.maximum is None:
        return ""
    return bounds_text(field).replace("between ", "").replace(" and ", " to ")


def _sources(field: Field) -> str:
    return ", ".join(word for word, flag in (("group", field.group_statement), ("article", field.per_article)) if flag)


def schema_markdown(registry: Registry = REGISTRY) -> str:
    environment = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent), trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True, undefined=StrictUndefined)
    environment.filters.update(values=_values, bounds=_bounds, sources=_sources)
    return environment.get_template(TEMPLATE).render(identity=registry.identity, groups=registry.groups,
                                                      fields=registry.fields)
