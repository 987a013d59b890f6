"""Cell normalisation: a cell's text checked against its field in the registry and written canonically."""

from __future__ import annotations

import math
import re

from pipeline.schema.registry import FIELD_BY_NAME, Field

NUMBER_TOLERANCE = 0.01
ROMAN_NUMERALS = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5"}


class InvalidValue(ValueError):
    pass


def _number(field: str, text: str) -> float:
    cleaned = text.replace(",", "").replace("\u2009", "").strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise InvalidValue(f"{field} must be a number, got {text!r}") from None
    if math.isnan(value) or math.isinf(value):
        raise InvalidValue(f"{field} must be a finite number, got {text!r}")
    return value


def format_number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}" if abs(value) < 1 else f"{value:.6g}"


def bounds_text(spec: Field) -> str:
    """The field's bounds in words: "between 1 and 5", "at least 0"."""
    if spec.minimum is not None and spec.maximum is not None:
        return f"between {spec.minimum:g} and {spec.maximum:g}"
    if spec.minimum is not None:
        return f"at least {spec.minimum:g}"
    return f"at most {spec.maximum:g}" if spec.maximum is not None else "a number"


def normalize_cell(field: str, raw) -> str:
    """The canonical text of a cell ('' when blank); raises InvalidValue for a value the schema refuses."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return ""
    text = str(raw).strip()
    if not text:
        return ""
    spec = FIELD_BY_NAME[field]
    if spec.kind == "integer" and text.upper() in ROMAN_NUMERALS:  # grades are often written "IV"
        text = ROMAN_NUMERALS[text.upper()]
    if spec.kind in ("number", "integer"):
        value = _number(field, text)
        if spec.kind == "integer" and not value.is_integer():
            raise InvalidValue(f"{field} must be a whole number, got {text!r}")
        if not spec.admits(value):
            raise InvalidValue(f"{field} must be {bounds_text(spec)}, got {text!r}")
        return format_number(value)
    if spec.kind == "category":
        for allowed in spec.vocabulary:
            if text.lower() == allowed.lower():
                return allowed
        raise InvalidValue(f"{field} must be one of {', '.join(spec.vocabulary)}; got {text!r}")
    items = sorted({item.strip().lower() for item in re.split(r"[;]", text) if item.strip()})
    if spec.vocabulary:
        bad = [item for item in items if item not in spec.vocabulary]
        if bad:
            raise InvalidValue(f"{field} items must be among {', '.join(spec.vocabulary)}; got {', '.join(bad)}")
    return ";".join(items)


def cells_equal(field: str, a: str, b: str) -> bool:
    """Equality after normalisation: numbers within 1 %, categories exactly."""
    spec = FIELD_BY_NAME[field]
    if spec.kind in ("number", "integer"):
        x, y = float(a), float(b)
        if x == y:
            return True
        return abs(x - y) <= NUMBER_TOLERANCE * max(abs(x), abs(y))
    return a == b


def list_items(value: str) -> list[str]:
    return [item for item in value.split(";") if item]
