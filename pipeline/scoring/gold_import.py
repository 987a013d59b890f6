"""Gold rows from a table typed from a review, through a mapping file (rules as data).

A review's table has its own headings and conventions: "Age/Sex" as "23/M", "CRS grade" as "IV", "PE (times)",
"IL-6 before/after (pg/ml)" as "5230/210", "Outcome" as "Survived". The mapping says, per column of the table,
which SCHEMA.md field(s) it fills and how::

    missing: ["NA", "NR", "-", ""]          # cells that mean "not reported"
    case_id: "{doc_key}-{n}"                # or a column mapped to case_id; n counts rows per document
    columns:
      Reference: {field: doi}
      Age/Sex:   {fields: [age_years, sex], split: "/"}
      CRS grade: {field: crs_grade, roman: true}
      IL-6 before/after (pg/ml): {fields: [il6_pre, il6_post], split: "/", unit: "pg/mL"}
      Outcome:   {field: outcome, values: {Survived: alive, Died: died}}

Every value is then validated by SCHEMA.md's rules (pipeline.schema.normalize_cell), as a curation is; bad
ones stop the import, each told with its line, its column and the allowed values.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import yaml

from pipeline.document.ids import make_doc_id
from pipeline.schema import (COLUMNS, FIELD_BY_NAME, IDENTITY_COLUMNS, MARKER_UNITS, ROMAN_NUMERALS, InvalidValue,
                             normalize_cell)


class GoldImportError(ValueError):
    """What stops an import: one problem, or every bad cell of the table (``problems``, one line each)."""

    def __init__(self, *problems: str):
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def load_mapping(path: Path) -> dict:
    text = Path(path).read_text(encoding="utf-8")
    try:
        mapping = json.loads(text) if Path(path).suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise GoldImportError(f"{path}: unreadable mapping ({exc})") from None
    if not isinstance(mapping, dict) or not isinstance(mapping.get("columns"), dict):
        raise GoldImportError(f"{path}: a mapping needs a 'columns' section")
    for column, spec in mapping["columns"].items():
        names = spec.get("fields") or [spec.get("field")]
        for name in names:
            if name not in FIELD_BY_NAME and name not in IDENTITY_COLUMNS:
                raise GoldImportError(f"{path}: column {column!r} maps to unknown field {name!r}")
            if spec.get("unit") and _marker(name):
                _check_unit(path, column, str(spec["unit"]), MARKER_UNITS[_marker(name)])
    return mapping


def _marker(name: str) -> str | None:
    """The marker a field holds (il6_pre: il6), None for a field that is not a marker's."""
    field = FIELD_BY_NAME.get(name)
    return field.marker if field is not None else None


def _check_unit(path: Path, column: str, unit: str, target: str) -> None:
    import pint

    from extractors.quantities import Quantity, normalize_unit

    try:
        Quantity(1.0, normalize_unit(unit), 0, 0).to(target)
    except pint.DimensionalityError:
        raise GoldImportError(f"{path}: column {column!r}: unit {unit!r} does not convert to {target}") from None
    except Exception:  # pint's parser fails in many ways on what is not a unit (undefined names, bad syntax)
        raise GoldImportError(f"{path}: column {column!r}: unit {unit!r} is not a unit pecrs knows "
                              f"(the field is stored in {target})") from None


def import_table(table: Path, mapping_path: Path) -> list[dict]:
    mapping = load_mapping(mapping_path)
    try:
        frame = pd.read_csv(table, dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise GoldImportError(f"{table}: unreadable table ({exc})") from None
    absent = [c for c in mapping["columns"] if c not in frame.columns]
    if absent:
        raise GoldImportError(f"{table}: no column {', '.join(map(repr, absent))} (columns: {', '.join(frame.columns)})")
    missing = {m.strip().lower() for m in mapping.get("missing", ["NA", "N/A", "NR", "-", "—", ""])}
    rows, per_document, problems = [], Counter(), []
    for number, record in enumerate(frame.to_dict("records"), start=2):  # line 1 is the header
        row = {column: "" for column in COLUMNS}
        for column, spec in mapping["columns"].items():
            try:  # every bad cell is told, not the first only
                for name, raw in _cells(record[column], spec, missing):
                    row[name] = _value(name, raw, spec)
            except GoldImportError as exc:
                problems.append(f"{table} line {number}, column {column!r}: {exc}")
        row["doc_id"] = row["doc_id"] or make_doc_id(doi=row["doi"] or None, pmid=row["pmid"] or None,
                                                     source_file=f"{Path(table).name}#{number}")
        per_document[row["doc_id"]] += 1
        if not row["case_id"]:
            template = mapping.get("case_id", "{doc_key}-{n}")
            row["case_id"] = template.format(doc_key=_doc_key(row["doc_id"]), n=per_document[row["doc_id"]])
        rows.append(row)
    if problems:
        raise GoldImportError(*problems)
    duplicates = [case for case, n in Counter(r["case_id"] for r in rows).items() if n > 1]
    if duplicates:
        raise GoldImportError(f"{table}: case_id repeated: {', '.join(duplicates)}")
    return rows


def _cells(text: str, spec: dict, missing: set[str]) -> list[tuple[str, str]]:
    names = spec.get("fields") or [spec["field"]]
    text = (text or "").strip()
    parts = [text] if len(names) == 1 else [p.strip() for p in text.split(spec.get("split", "/"))]
    if len(names) > 1 and len(parts) == 1 and parts[0].lower() in missing:
        parts = [""] * len(names)
    if len(parts) != len(names):
        raise GoldImportError(f"{text!r} does not split by {spec.get('split', '/')!r} into {', '.join(names)}")
    return [(name, "" if part.lower() in missing else part) for name, part in zip(names, parts)]


def _value(name: str, raw: str, spec: dict) -> str:
    if not raw:
        return ""
    values = {str(k).lower(): str(v) for k, v in (spec.get("values") or {}).items()}
    text = values.get(raw.lower(), raw)
    if spec.get("roman") and text.upper() in ROMAN_NUMERALS:
        text = ROMAN_NUMERALS[text.upper()]
    text = re.sub(r"^[<>≤≥~]\s*", "", text)  # "> 5,000": the bound is the value
    if spec.get("unit") and _marker(name):
        text = _converted(text, spec["unit"], MARKER_UNITS[_marker(name)])
    if name in IDENTITY_COLUMNS:
        return text
    try:
        return normalize_cell(name, text)
    except InvalidValue as exc:
        raise GoldImportError(str(exc)) from None


def _converted(text: str, unit: str, target: str) -> str:
    from extractors.quantities import Quantity, normalize_unit

    try:
        number = float(text.replace(",", ""))
    except ValueError:
        raise GoldImportError(f"not a number: {text!r}") from None
    return f"{Quantity(number, normalize_unit(unit), 0, 0).to(target):g}"


def _doc_key(doc_id: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", doc_id.lower()).strip("-")
