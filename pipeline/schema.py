"""The case table: its columns, their types and vocabularies (SCHEMA.md), and cell normalisation."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

IDENTITY_COLUMNS = ["case_id", "doc_id", "pmid", "pmcid", "doi", "patient_label"]


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # number | integer | category | list
    vocabulary: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


DIAGNOSES = ("B-ALL", "T-ALL", "DLBCL", "PMBCL", "HGBCL", "FL", "MCL", "CLL", "BL", "MM", "AML", "other")
TARGETS = ("CD19", "CD22", "CD19/CD22", "BCMA", "CD7", "CD30", "other")
PRODUCTS = ("tisagenlecleucel", "axicabtagene ciloleucel", "brexucabtagene autoleucel", "lisocabtagene maraleucel",
            "idecabtagene vicleucel", "ciltacabtagene autoleucel", "relmacabtagene autoleucel",
            "equecabtagene autoleucel", "investigational")
GRADINGS = ("ASTCT", "Lee 2014", "CTCAE", "Penn", "MSKCC", "CARTOX")
PURIFICATION = ("crrt", "hemofiltration", "hemodiafiltration", "hemoadsorption", "dpmas")
STEROIDS = ("dexamethasone", "methylprednisolone", "hydrocortisone", "prednisone", "prednisolone", "none")
YES_NO = ("yes", "no")

FIELDS: list[Field] = [
    Field("age_years", "number", minimum=0, maximum=110),
    Field("sex", "category", ("M", "F")),
    Field("diagnosis", "category", DIAGNOSES),
    Field("car_t_target", "category", TARGETS),
    Field("car_t_product", "category", PRODUCTS),
    Field("crs_grade", "integer", minimum=1, maximum=5),
    Field("crs_grading", "category", GRADINGS),
    Field("icans_grade", "integer", minimum=0, maximum=5),
    Field("hlh", "category", YES_NO),
    Field("crs_onset_day", "integer", minimum=-30, maximum=365),
    Field("pe_start_day", "integer", minimum=-30, maximum=365),
    Field("pe_sessions", "integer", minimum=0, maximum=100),
    Field("pe_volume_ml", "number", minimum=0, maximum=20000),
    Field("pe_plasma_volumes", "number", minimum=0, maximum=5),
    Field("pe_replacement", "category", ("FFP", "albumin", "FFP+albumin", "other")),
    Field("other_purification", "list", PURIFICATION),
    *[Field(f"{marker}_{when}", "number", minimum=0)
      for marker in ("il6", "ifng", "il10", "ferritin", "crp") for when in ("pre", "post")],
    Field("tocilizumab_doses", "integer", minimum=0, maximum=50),
    Field("corticosteroids", "list", STEROIDS),
    Field("other_drugs", "list"),
    Field("crs_resolved", "category", YES_NO),
    Field("outcome", "category", ("alive", "died")),
    Field("response", "category", ("CR", "PR", "SD", "PD")),
]
FIELD_BY_NAME = {f.name: f for f in FIELDS}
SCORED_FIELDS = [f.name for f in FIELDS]
COLUMNS = IDENTITY_COLUMNS + SCORED_FIELDS

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
        if spec.minimum is not None and value < spec.minimum or spec.maximum is not None and value > spec.maximum:
            raise InvalidValue(f"{field} must be between {spec.minimum:g} and {spec.maximum:g}, got {text!r}")
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
