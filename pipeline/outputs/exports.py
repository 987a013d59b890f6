"""A table written in the format its file's suffix names: CSV as text, and JSON, Parquet and Excel typed by
SCHEMA.md's field definitions (numbers as numbers, whole numbers as integers, lists as lists)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from pipeline.outputs.atomic import atomic_write_bytes
from pipeline.schema import FIELD_BY_NAME, list_items

FORMATS = {".csv": "CSV", ".json": "JSON", ".parquet": "Parquet", ".xlsx": "Excel"}


class ExportFormatError(ValueError):
    """A file name whose suffix names no format pecrs writes."""


def export_format(path: Path) -> str:
    """The suffix of ``path`` when pecrs writes that format; ExportFormatError otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        named = f"suffix {Path(path).suffix!r}" if suffix else "no suffix"
        raise ExportFormatError(f"{path}: {named} names no format pecrs writes; end the name in "
                                f"{', '.join(FORMATS)}")
    return suffix


def column_kind(column: str, lists: tuple[str, ...] = ()) -> str:
    """number, integer, list or text: a field's kind from the schema (a category is text)."""
    field = FIELD_BY_NAME.get(column)
    if field is not None:
        return field.kind if field.kind in ("number", "integer", "list") else "text"
    return "list" if column in lists else "text"


def typed_value(kind: str, text: str):
    """A cell's text as its kind's value; a blank is None, or an empty list."""
    text = "" if text is None else str(text)
    if kind == "list":
        return list_items(text)
    if not text:
        return None
    if kind == "number":
        return float(text)
    if kind == "integer":
        return int(float(text))
    return text


def write_table(path: Path, rows: list[dict], columns: list[str], lists: tuple[str, ...] = ()) -> None:
    """Write ``rows`` to ``path`` in the format of its suffix; ``lists`` names the columns beyond the schema's
    fields that hold ';'-separated lists."""
    suffix = export_format(path)
    if suffix == ".csv":
        from pipeline.outputs.writer import csv_text

        atomic_write_bytes(path, csv_text(rows, columns).encode("utf-8"))
        return
    kinds = {column: column_kind(column, lists) for column in columns}
    typed = [{column: typed_value(kinds[column], row.get(column, "")) for column in columns} for row in rows]
    if suffix == ".json":
        atomic_write_bytes(path, (json.dumps(typed, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    elif suffix == ".parquet":
        _write_parquet(path, typed, kinds)
    else:
        _write_xlsx(path, typed, kinds)


def _write_parquet(path: Path, typed: list[dict], kinds: dict[str, str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"number": pa.float64(), "integer": pa.int64(), "list": pa.list_(pa.string()), "text": pa.string()}
    schema = pa.schema([(column, types[kind]) for column, kind in kinds.items()])
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(typed, schema=schema), buffer)
    atomic_write_bytes(path, buffer.getvalue())


def _write_xlsx(path: Path, typed: list[dict], kinds: dict[str, str]) -> None:
    import pandas as pd

    # a spreadsheet cell holds one value: a list is written as in the CSV, "a;b"
    cells = [{column: ";".join(value) if kinds[column] == "list" else value for column, value in row.items()}
             for row in typed]
    buffer = io.BytesIO()
    pd.DataFrame(cells, columns=list(kinds), dtype=object).to_excel(buffer, index=False, engine="openpyxl")
    atomic_write_bytes(path, buffer.getvalue())
