"""Numbers with units in clinical prose, normalised with pint.

"IL-6 > 5,000 pg/mL", "7.9 ng/mL", "ferritin 1 234 µg/L", "CRP 12.5mg/dL", "3,000 mL", "2.8 L".
A bound ("> 5,000", "above 5,000") is the value, as SCHEMA.md asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pint

# Unit spellings as written, mapped to what pint parses.
UNIT_SPELLINGS: dict[str, str] = {
    "pg/ml": "pg/mL", "ng/ml": "ng/mL", "ng/l": "ng/L", "µg/l": "ug/L", "μg/l": "ug/L", "ug/l": "ug/L",
    "mcg/l": "ug/L", "µg/ml": "ug/mL", "μg/ml": "ug/mL", "ug/ml": "ug/mL", "mg/dl": "mg/dL", "mg/l": "mg/L",
    "g/l": "g/L", "mg/ml": "mg/mL", "pg/l": "pg/L", "ml": "mL", "l": "L", "litres": "L", "liters": "L",
    "litre": "L", "liter": "L", "ml/kg": "mL/kg", "iu/ml": "IU/mL", "u/l": "U/L", "iu/l": "IU/L",
    "mg/kg": "mg/kg", "mg": "mg", "g": "g", "mg/m2": "mg/m^2", "mg/m²": "mg/m^2", "pmol/l": "pmol/L",
    "nmol/l": "nmol/L",
    "cc": "mL",  # cubic centimetres: "3000 cc per session"
}
# "ng per milliliter", "mg per deciliter", "mg per kilogram": units spelled out (NEJM style)
_MASSES = {"pg": "pg", "ng": "ng", "µg": "ug", "μg": "ug", "ug": "ug", "mcg": "ug", "mg": "mg", "g": "g"}
_VOLUMES = {"milliliter": "mL", "millilitre": "mL", "liter": "L", "litre": "L", "deciliter": "dL", "decilitre": "dL",
            "kilogram": "kg"}
# "micrograms/l", "nanograms per millilitre": masses spelled out
_MASS_WORDS = {"picogram": "pg", "nanogram": "ng", "microgram": "ug", "milligram": "mg", "gram": "g"}
_VOLUME_ABBREVIATIONS = {"ml": "mL", "l": "L", "dl": "dL"}
for _mass, _pint_mass in _MASSES.items():
    for _volume, _pint_volume in _VOLUMES.items():
        UNIT_SPELLINGS[f"{_mass} per {_volume}"] = f"{_pint_mass}/{_pint_volume}"
for _word, _pint_mass in _MASS_WORDS.items():
    for _plural in (_word, _word + "s"):
        for _volume, _pint_volume in (_VOLUMES | _VOLUME_ABBREVIATIONS).items():
            if _pint_volume != "kg":
                UNIT_SPELLINGS[f"{_plural}/{_volume}"] = UNIT_SPELLINGS[f"{_plural} per {_volume}"] = f"{_pint_mass}/{_pint_volume}"
# a volume per exchange: "2000 ml/session", "3 L per procedure"
for _volume, _pint_volume in (("ml", "mL"), ("l", "L"), ("cc", "mL")):
    for _per in ("session", "procedure", "exchange", "run"):
        UNIT_SPELLINGS[f"{_volume}/{_per}"] = UNIT_SPELLINGS[f"{_volume} per {_per}"] = _pint_volume
_UNIT_ALTERNATION = "|".join(sorted((re.escape(u) for u in UNIT_SPELLINGS), key=len, reverse=True))
# a whole unit as written, alone: "mg/dL", not the "L" of "CRP, mg/dL" nor the "m" of "mmol"
UNIT = re.compile(rf"(?<![A-Za-z0-9/])(?:{_UNIT_ALTERNATION})(?![A-Za-z0-9/])", re.IGNORECASE)
# "5,000", "1 234", "12.5", and a decimal comma ("25,6 mg/dL", "1,25"): a comma before one or two digits is no
# thousands separator (those group three)
# thousands grouped by a comma, a (thin or narrow) space or, in Swiss usage, an apostrophe: "5,000", "1 234", "1'840"
# and in scientific notation: "1.2 × 10^4", "8.6x10E2", "3 × 10⁴"
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
_SCIENTIFIC = r"\d+(?:[.,]\d+)?\s?[×xX*]\s?10\s?(?:(?:\^|[eE])\s?[+\-−]?\d{1,2}|[⁺⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})(?!\d)"
NUMBER_PATTERN = _SCIENTIFIC + r"|\d{1,3}(?:[,\u2009\u202f '’]\d{3})+(?:\.\d+)?(?!,?\d)|\d+,\d{1,2}(?!\d)|\d+(?:\.\d+)?"
SCIENTIFIC = re.compile(r"^(?P<mantissa>\d+(?:[.,]\d+)?)\s?[×xX*]\s?10\s?(?:\^|[eE])?\s?(?P<exponent>[+\-−]?\d{1,2})$")
DECIMAL_COMMA = re.compile(r"^\d+,\d{1,2}$")
# "> ", "≥", "more than ", "in excess of ", "up to "
_BOUND = r"(?:[<>≥≤]=?|(?:more|greater|higher)\ than|above|over|exceeding|in\ excess\ of|beyond|up\ to)\s*"
QUANTITY = re.compile(rf"""
    (?P<bound>{_BOUND})?                   # "> ", "above "
    (?<![\w\-‐.,])(?P<number>{NUMBER_PATTERN})\s?  # "5,000", "1 234", "12.5"; not the "6" of "IL-6 420"
    (?P<unit>{_UNIT_ALTERNATION})          # "pg/mL", "mg per deciliter", "L"
    (?![A-Za-z0-9/])                       # a whole unit: not the "m" of "mmol"
    """, re.IGNORECASE | re.VERBOSE)


@lru_cache(maxsize=1)
def units() -> pint.UnitRegistry:
    registry = pint.UnitRegistry()
    registry.define("international_unit = [iu] = IU")
    return registry


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str  # pint-parsable spelling
    start: int
    end: int
    bound: str = ""

    def to(self, target: str) -> float:
        if self.unit == target:
            return self.value
        return float(units().Quantity(self.value, self.unit).to(target).magnitude)

    def convertible_to(self, target: str) -> bool:
        try:
            self.to(target)
            return True
        except (pint.DimensionalityError, pint.UndefinedUnitError):
            return False


# a document's own way of writing numbers: a decimal comma with a unit ("5,1 mg/dL") and no decimal point with one
_COMMA_DECIMAL = re.compile(rf"\b\d+,\d{{1,2}}\s?(?:{_UNIT_ALTERNATION})(?![A-Za-z0-9/])", re.IGNORECASE)
_POINT_DECIMAL = re.compile(rf"\b\d+\.\d{{1,2}}\s?(?:{_UNIT_ALTERNATION})(?![A-Za-z0-9/])", re.IGNORECASE)
DOT_THOUSANDS = re.compile(r"^\d{1,3}(?:\.\d{3})+(?:,\d+)?$")


def writes_decimal_comma(text: str) -> bool:
    """Whether a document writes decimals with a comma ("5,1 mg/dL") and never with a point: then a dot groups
    thousands ("18.500 ng/mL" is 18,500), as in Spanish, German or Italian."""
    return bool(_COMMA_DECIMAL.search(text)) and not _POINT_DECIMAL.search(text)


def parse_number(text: str, decimal_comma: bool = False) -> float:
    """"5,000" -> 5000, "1 234" -> 1234, "25,6" -> 25.6, "1.2 × 10^4" -> 12000; with ``decimal_comma`` (the document's way), "18.500" -> 18500."""
    text = text.strip()
    scientific = SCIENTIFIC.match(text.translate(_SUPERSCRIPTS))
    if scientific:
        exponent = int(scientific.group("exponent").replace("−", "-"))
        return float(scientific.group("mantissa").replace(",", ".")) * 10 ** exponent
    if decimal_comma and DOT_THOUSANDS.match(text):
        return float(text.replace(".", "").replace(",", "."))
    if DECIMAL_COMMA.match(text):
        return float(text.replace(",", "."))
    return float(re.sub(r"[,\u2009\u202f '’]", "", text))


def normalize_unit(spelling: str) -> str:
    return UNIT_SPELLINGS.get(spelling.lower().replace("μ", "µ"), spelling)


def find_quantities(text: str, offset: int = 0, decimal_comma: bool = False) -> list[Quantity]:
    found = []
    for match in QUANTITY.finditer(text):
        found.append(Quantity(
            value=parse_number(match.group("number"), decimal_comma), unit=normalize_unit(match.group("unit")),
            start=offset + match.start(), end=offset + match.end(), bound=(match.group("bound") or "").strip(),
        ))
    return found
