"""What a field reader reads: a prose rule, the patient's sentences and what is known of the patient beforehand
(PatientContext); a cell reader, one table cell with the header that names its field (Cell)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from spacy.tokens import Doc, Span

from extractors.evidence import Finding, concepts
from extractors.lexicon import concept_of
from extractors.quantities import UNIT, find_quantities
from extractors.table_rules import cell_value
from extractors.values import COUNT, count_value, number_in


@dataclass(frozen=True)
class PatientContext:
    """What the case assembly knows of a patient before the rules read its sentences."""
    infusion_date: date | None = None  # the CAR-T infusion's calendar date (day 0), when the account gives one
    hours_from_infusion: bool = False  # the account dates events in hours after the infusion ("at 96 h")


# a unit in a header's brackets: "IL-6 (pg/mL)", "TPE volume (L)"
UNIT_IN_HEADER = re.compile(r"\(([^)]*?(?:/|mL|ml|L\b)[^)]*)\)")
# a unit set off by a comma after the marker: "CRP, mg/dL (pre → post)", "Ferritin, µg/L"
UNIT_AFTER_COMMA = re.compile(rf",\s*({UNIT.pattern})", re.IGNORECASE)
# a whole number opening a cell, a day's "D" or "day" left out: "3", "+5", "D7", "day 12", "-1"
CELL_INTEGER = re.compile(r"^[+]?(-?\d{1,3})\b")
# a count written as times: "×2", "x 3", "2×"
CELL_TIMES = re.compile(r"^(?:[×x]\s*(\d{1,2})|(\d{1,2})\s*[×x])$", re.IGNORECASE)
# a count in words, alone or with what it counts: "two", "twice", "one dose", "three sessions"
COUNTED_IN_WORDS = re.compile(rf"^\s*({COUNT})(?:\s+(?:doses?|sessions?|procedures?|exchanges?|times))?\s*\.?\s*$",
                              re.IGNORECASE)
# the items of a cell that lists several: "Albumin/FFP (1:1)", "DEX, MP", "FFP + 5% HAS"; and a note in brackets
CELL_ITEM = re.compile(r"[^/+,;&]+")
NOTE = re.compile(r"\([^)]*\)")
# the figures an item may carry beside its name: "albumin 50:50", "5% albumin", "FFP 2:1"
ITEM_FIGURES = re.compile(r"(?<![\w-])\d+(?:[.,:]\d+)*\s*%?(?![\w-])")
# the prefix of the extractor name of every value read from a table cell ("tables.grade")
CELL_EXTRACTOR = "tables"


def header_unit(header: str) -> str | None:
    """The unit a header gives in brackets, or else after a comma, as written: "IL-6 pre/post (pg/mL)" -> "pg/mL",
    "CRP, mg/dL (pre → post)" -> "mg/dL"."""
    bracketed, after_comma = UNIT_IN_HEADER.search(header), UNIT_AFTER_COMMA.search(header)
    if after_comma and (bracketed is None or not UNIT.search(bracketed.group(1))):  # "(pre/post)" is no unit
        return after_comma.group(1)
    return bracketed.group(1).strip() if bracketed else None


@dataclass(frozen=True)
class Cell:
    """A table cell that reports a value: what its header names (a field, a marker, or a joint column such as
    age_sex; extractors/resources/tables/headers.jsonl), the header's text, the cell's text and its place in the
    document's text, which is the evidence of what is read from it."""
    key: str
    header: str
    text: str  # without surrounding white space
    start: int
    end: int
    doc: Doc

    @property
    def unit(self) -> str | None:
        """The unit the header gives its numbers in, as written."""
        return header_unit(self.header)

    def concepts(self, labels: str | tuple[str, ...]) -> list[Span]:
        """The lexicon's concepts of ``labels`` within the cell, in order: its concept spans, and each item of a list
        that no span covers when the lexicon spells it (the tokenizer leaves "Albumin/FFP" one token)."""
        labels = (labels,) if isinstance(labels, str) else labels
        spans = [s for s in concepts(self.doc) if s.start_char >= self.start and s.end_char <= self.end]
        found = [s for s in spans if s.label_ in labels]
        for item in CELL_ITEM.finditer(self.text):
            start, end = self.start + item.start(), self.start + item.end()
            if any(s.start_char < end and s.end_char > start for s in spans):
                continue
            concept = concept_of(ITEM_FIGURES.sub("", NOTE.sub("", item.group())))
            if concept is not None and concept[0] in labels:
                tokens = self.doc.char_span(start, end, alignment_mode="expand")
                found.append(Span(self.doc, tokens.start, tokens.end, label=concept[0], span_id=concept[1]))
        return sorted(found, key=lambda s: s.start_char)

    def number(self) -> float | None:
        return number_in(self.text, self.doc._.decimal_comma)

    def integer(self) -> int | None:
        match = CELL_INTEGER.match(self.text.replace("D", "").replace("day", "").strip())
        return int(match.group(1)) if match else None

    def count(self) -> int | None:
        """How many times, as a number ("2"), in words ("two", "twice") or as times ("×2", "2x"); a measure ("8 mg/kg")
        counts nothing."""
        times = CELL_TIMES.match(self.text)
        if times:
            return int(times.group(1) or times.group(2))
        measured = any(quantity.start == 0 for quantity in find_quantities(self.text))
        in_words = COUNTED_IN_WORDS.match(self.text)  # "two", "twice", "one dose"
        in_words = count_value(in_words.group(1)) if in_words else None
        return None if measured else self.integer() if in_words is None else in_words

    def wording(self, field: str | None = None) -> str | None:
        """The value the cell's wording gives ``field`` (its own column's by default): "absent" under HLH is no
        (extractors/resources/tables/cells.jsonl)."""
        return cell_value(field or self.key, self.text)

    def finding(self, field: str, value: str, how: str) -> Finding:
        return Finding(field, value, self.start, self.end, f"{CELL_EXTRACTOR}.{how}")

    def wording_findings(self) -> list[Finding]:
        """The column's field read from the cell's wording alone."""
        value = self.wording()
        return [self.finding(self.key, value, self.key)] if value is not None else []
