"""Age and sex of the patient."""

from __future__ import annotations

import re

from spacy.tokens import Span

from extractors.cues import GROUP_SUMMARY_WORD
from extractors.evidence import Finding
from extractors.values import number_in_words
from extractors.fields.inputs import Cell, PatientContext
from pipeline.schema import FIELD_BY_NAME

AGE_YEARS = FIELD_BY_NAME["age_years"]

AGE = re.compile(r"""
    \b(?P<n>\d{1,3}(?:\.\d)?)[\s\-‐‑–—]*(?P<unit>years?|yrs?|y|months?|mo|weeks?|wk)s?[\s\-‐‑–—]*old\b  # "34-year-old", "30-month-old"
  | \b(?:aged?|age\ of|age:)\s*(?P<n2>\d{1,3})(?:\s*(?P<unit2>years?|months?))?\b                       # "aged 7", "age of 58 years"
  | \b(?P<n3>\d{1,3})[\s-]?(?:yo|y/o|y\.o\.)\b                                                         # "34 yo", "34-y/o"
  | \b(?P<n4>\d{1,3})\s*(?:-|–)?\s*(?:year|yr|y)s?\s*(?:old)?\s*(?:male|female|man|woman|boy|girl|patient)\b  # "58-y woman"
  | \b(?P<n5>\d{1,3})\s*(?:y|yrs?|years?)?\s*/\s*(?P<sex>[MF])\b                                        # "19/F", "66 y/M"
  | \b(?P<n11>\d{1,3})(?-i:[MF])\b                                                                    # "34M", "58F"
  | \b(?P<n12>\d{1,3})\s(?-i:[MF])(?=\s*[,;])                                                         # "66 M, myeloma"
  | \b(?P<n6>\d{1,3})\s+(?P<unit6>years?|months?)\s+of\s+age\b                                          # "7 years of age"
  | \bage\s*(?:/\s*(?:sex|gender))?\s*(?:\([^)]*\))?\s*[:=]\s*(?P<n8>\d{1,3}(?:\.\d)?)\b                # "Age (y): 61", "Age/sex: 61"
  | \b(?:man|woman|boy|girl|male|female|patient|gentleman|lady)\s+(?:of|aged)\s+(?P<n7>\d{1,3})\s*(?P<unit7>years?|months?)?\b  # "a man of 64"
  | \b(?:male|female|man|woman|boy|girl)\s*,\s*(?P<n10>\d{1,3})\s*(?P<unit10>y|yrs?|years?|months?|mo)\b     # "male, 27 y"
  | \b(?P<words>[a-z]+(?:-[a-z]+)?)[\s\-‐‑–—]+(?P<unit9>years?|months?)[\s\-‐‑–—]+old\b        # "forty-two-year-old"
  | \b(?-i:[MF]),\s*(?P<n13>\d{1,3})\s*(?:y|yo|yrs?|years?)\b                                      # "F, 67 y"
  | \b(?P<n14>\d{1,3})\s?(?:y|yo|yrs?)(?:\s*,\s*|\s+)(?-i:[MF])\b                                  # "67 y, F", "pt 9 y F"
  | \bpatient\s*\(\s*(?-i:[MF])\s*,\s*(?P<n15>\d{1,3})\s*\)                                          # "the patient (F, 58)"
  | \b(?-i:Mr|Mrs|Ms|Miss)\.?\s+(?-i:[A-Z])\w*\.?,\s*(?P<n16>\d{1,3})\s*(?:years?|yrs?|y)\b            # "Mr. K., 58 years"
    """, re.IGNORECASE | re.VERBOSE)
SEX_LETTER = re.compile(r"""
    \b\d{1,3}\s*(?:y|yrs?|years?)?\s*/\s*([MF])\b                          # "34/M", "19 y/F"
  | \b\d{1,3}((?-i:[MF]))\b                                              # "34M", "58F"
  | \b\d{1,3}\s((?-i:[MF]))(?=\s*[,;])                                  # "66 M, myeloma"
  | \b(?:sex|gender)\s*:\s*(?:\d{1,3}\s*(?:y|yrs?|years?)?[,/\ ]\s*)?([MF])\b  # "Sex: F", "Age/gender: 61, M"
  | \b((?-i:[MF])),\s*\d{1,3}\s*(?:y|yo|yrs?|years?)\b                    # "F, 67 y"
  | \b\d{1,3}\s?(?:y|yo|yrs?)(?:\s*,\s*|\s+)((?-i:[MF]))\b                # "67 y, F", "pt 9 y F"
  | \bpatient\s*\(\s*((?-i:[MF]))\s*,\s*\d{1,3}\s*\)                       # "the patient (F, 58)"
    """, re.IGNORECASE | re.VERBOSE)
# an age of a group, not of a patient: "median age 61 years", "mean (SD) age 54"
GROUP_AGE = re.compile(rf"\b{GROUP_SUMMARY_WORD}(?:\s*\([^)]*\))?\s*$", re.IGNORECASE)
MALE_WORDS = ("man", "male", "boy", "gentleman")
FEMALE_WORDS = ("woman", "female", "girl", "lady")
SEX_NOUNS = "|".join(MALE_WORDS + FEMALE_WORDS)  # "man|male|...": a sex noun
SEX_NOUN = re.compile(rf"\b(?:{SEX_NOUNS})\b", re.IGNORECASE)


def sex_of(word: str) -> str | None:
    """M or F for a sex letter or noun: "F", "male", "Boy"."""
    word = word.lower()
    if word == "m" or word in MALE_WORDS:
        return "M"
    if word == "f" or word in FEMALE_WORDS:
        return "F"
    return None


def _age_years(number: str | float, unit: str | None) -> float:
    value = float(number)
    unit = (unit or "year").lower()
    if unit.startswith("mo"):
        return round(value / 12, 1)
    if unit.startswith("w"):
        return round(value / 52, 1)
    return value


def age(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    for sentence in sentences:
        for match in AGE.finditer(sentence.text):
            if GROUP_AGE.search(sentence.text[:match.start()]):
                continue
            number = next((match.group(g) for g in ("n", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n10", "n11", "n12",
                                                           "n13", "n14", "n15", "n16") if match.group(g)), None)
            if number is None:
                in_words = number_in_words(match.group("words"))
                if in_words is None:
                    continue
                number = str(in_words)
            unit = match.group("unit") or match.group("unit2") or match.group("unit6") or match.group("unit7") \
                or match.group("unit9") or match.group("unit10")
            years = _age_years(number, unit)
            if AGE_YEARS.admits(years):
                start = sentence.start_char + match.start()
                return [Finding("age_years", f"{years:g}", start, sentence.start_char + match.end(), "demographics.age")]
    return []


# a patient named with a title: "Mr. K.", "Mrs Dlamini"
HONORIFIC = re.compile(r"\b(?:(?P<m>Mr)|(?P<f>Mrs|Ms|Miss))\.?\s+(?=[A-Z])")


def sex(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    """The first sex noun ("woman", "boy", "34/M", "Mr. K."); failing that, the pronouns' majority."""
    for sentence in sentences:
        slash = SEX_LETTER.search(sentence.text)
        noun = SEX_NOUN.search(sentence.text)
        title = HONORIFIC.search(sentence.text)
        candidates = [m for m in (slash, noun, title) if m]
        if candidates:
            first = min(candidates, key=lambda m: m.start())
            if first is title:
                value = "M" if title.group("m") else "F"
                start, end = title.span("m" if title.group("m") else "f")
            elif first is slash:
                group = next(g for g in range(1, len(slash.groups()) + 1) if slash.group(g))
                value = sex_of(slash.group(group))
                start, end = slash.start(group), slash.end(group)
            else:
                value = sex_of(noun.group(0))
                start, end = noun.start(), noun.end()
            return [Finding("sex", value, sentence.start_char + start, sentence.start_char + end, "demographics.sex")]
    pronouns = []
    for sentence in sentences:
        for match in re.finditer(r"\b(he|his|him|she|her|hers)\b", sentence.text, re.IGNORECASE):
            pronouns.append((match.group(1).lower(), sentence.start_char + match.start(), sentence.start_char + match.end()))
    male = [p for p in pronouns if p[0] in ("he", "his", "him")]
    female = [p for p in pronouns if p[0] in ("she", "her", "hers")]
    if len(male) >= 2 and len(male) >= 3 * len(female):
        return [Finding("sex", "M", male[0][1], male[0][2], "demographics.sex_pronouns")]
    if len(female) >= 2 and len(female) >= 3 * len(male):
        return [Finding("sex", "F", female[0][1], female[0][2], "demographics.sex_pronouns")]
    return []


# -- table cells --------------------------------------------------------------------------------------------------
# cells of an age, a sex, or both: "54", "30 mo", "female", "19/F", "66 y/M"
SEX_CELL = re.compile(rf"^(m|f|{'|'.join(MALE_WORDS + FEMALE_WORDS)})\b", re.IGNORECASE)
AGE_SEX_CELL = re.compile(r"^(\d{1,3}(?:\.\d)?)\s*(y|yrs?|mo|m(?=\s*/))?\s*[/,\s]\s*([MF])\b", re.IGNORECASE)
MONTHS = re.compile(r"\bmo(nths?)?\b", re.IGNORECASE)
YEARS = re.compile(r"\by(ears?)?\b", re.IGNORECASE)


def _age_finding(cell: Cell, years: float) -> list[Finding]:
    return [cell.finding("age_years", f"{years:g}", "age")] if AGE_YEARS.admits(years) else []


def age_cell(cell: Cell) -> list[Finding]:
    """An age column, in years unless the cell or a header without years says months."""
    number = cell.number()
    if number is None:
        return []
    in_months = MONTHS.search(f"{cell.text} {cell.header}") and not YEARS.search(cell.header)
    return _age_finding(cell, _age_years(number, "months" if in_months else None))


def sex_cell(cell: Cell) -> list[Finding]:
    match = SEX_CELL.match(cell.text)
    return [cell.finding("sex", sex_of(match.group(1)), "sex")] if match else []


def age_sex_cell(cell: Cell) -> list[Finding]:
    """A joint column: "19/F", "30 mo/M"."""
    match = AGE_SEX_CELL.match(cell.text)
    if not match:
        return []
    return _age_finding(cell, _age_years(match.group(1), match.group(2))) + \
        [cell.finding("sex", sex_of(match.group(3)), "sex")]
