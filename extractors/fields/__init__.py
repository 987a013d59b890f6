"""Field readers: each module reads one group of case-table fields, from a patient's sentences (its prose rules) and
from a table cell (its cell readers), through the same value functions: the lexicon's concepts for vocabularies, the
registry's Field.admits for bounds, extractors/quantities.py and the registry's unit for units.

A prose rule is ``rule(sentences, patient) -> list[Finding]`` (``patient`` a PatientContext, what the case assembly
knows of the patient beforehand); a cell reader is ``reader(cell) -> list[Finding]`` (``cell`` a Cell). This module
registers both: ``RULES`` with the fields each rule reads, in the order they run, and ``CELL_READERS`` by what a
column's header names.
"""

from __future__ import annotations

import re
from typing import Callable

from spacy.tokens import Doc, Span

from extractors.evidence import Finding
from extractors.fields import demographics, disease, drugs, labs, outcome, purification, toxicity
from extractors.fields.inputs import Cell, PatientContext
from extractors.table_rules import header_field, is_missing
from pipeline.document.model import TableCell
from pipeline.schema import MARKER_BY_ID, MARKERS

ProseRule = Callable[[list[Span], PatientContext], list[Finding]]
CellReader = Callable[[Cell], list[Finding]]

MARKER_FIELDS = tuple(name for marker in MARKERS for name in (marker.pre, marker.post))

RULES: dict[ProseRule, tuple[str, ...]] = {
    demographics.age: ("age_years",), demographics.sex: ("sex",),
    disease.diagnosis: ("diagnosis",), disease.car_t: ("car_t_product", "car_t_target"),
    toxicity.crs_grade: ("crs_grade",), toxicity.crs_onset: ("crs_onset_day",), toxicity.icans: ("icans_grade",),
    toxicity.hlh: ("hlh",),
    purification.plasma_exchange: ("pe_sessions", "pe_start_day", "pe_volume_ml", "pe_plasma_volumes",
                                   "pe_replacement"),
    purification.other_purification: ("other_purification",),
    labs.markers: MARKER_FIELDS,
    drugs.tocilizumab: ("tocilizumab_doses",), drugs.corticosteroids: ("corticosteroids",),
    drugs.other_drugs: ("other_drugs",),
    outcome.outcome: ("outcome",), outcome.response: ("response",), outcome.crs_resolved: ("crs_resolved",),
}

# By the key a header names (extractors/resources/tables/headers.jsonl): a field; a marker, whose column gives its
# _pre and _post values; or age_sex, a joint column of both.
CELL_READERS: dict[str, CellReader] = {
    "age_years": demographics.age_cell, "sex": demographics.sex_cell, "age_sex": demographics.age_sex_cell,
    "diagnosis": disease.diagnosis_cell, "car_t_product": disease.car_t_cell, "car_t_target": disease.car_t_cell,
    "crs_grade": toxicity.grade_cell, "icans_grade": toxicity.grade_cell, "hlh": toxicity.hlh_cell,
    "crs_onset_day": toxicity.onset_cell,
    "pe_sessions": purification.sessions_cell, "pe_start_day": purification.start_day_cell,
    "pe_volume_ml": purification.volume_cell, "pe_plasma_volumes": purification.plasma_volumes_cell,
    "pe_replacement": purification.replacement_cell, "other_purification": purification.other_purification_cell,
    **{marker.id: labs.marker_cell for marker in MARKERS},
    "tocilizumab_doses": drugs.tocilizumab_cell, "corticosteroids": drugs.corticosteroids_cell,
    "other_drugs": drugs.other_drugs_cell,
    "outcome": outcome.outcome_cell, "response": outcome.response_cell, "crs_resolved": outcome.crs_resolved_cell,
}

def fields_read_by(key: str) -> set[str]:
    """The case-table fields a header's key (of CELL_READERS) gives values of: a marker's before and after, age and
    sex together, else the field it names."""
    if key in MARKER_BY_ID:
        return {MARKER_BY_ID[key].pre, MARKER_BY_ID[key].post}
    return {"age_years", "sex"} if key == "age_sex" else {key}


# Fields read only one way, and why.
READ_ONE_WAY = {
    "crs_grading": "per article: the system the article grades CRS by, read once from its text for all its patients "
                   "(cases._grading), neither from one patient's sentences nor from a cell",
}


def read_cell(key: str, header: str, cell: TableCell, doc: Doc) -> list[Finding]:
    """What a cell says of the field (or marker, or joint column) ``key`` its ``header`` names; a cell reporting
    no value ("NA", "—") says nothing, whatever its column."""
    return read_value(key, header, cell.text, cell.start, cell.end, doc)


def read_value(key: str, header: str, written: str, start: int, end: int, doc: Doc) -> list[Finding]:
    """What a value written under a header says (a table's cell, or the value of a line "Label: value" at
    ``start``-``end`` of the text)."""
    text = written.strip()
    if is_missing(text):
        return []
    lead = start + (len(written) - len(written.lstrip()))
    joint = _joint_parts(key, header, text)
    if joint is not None:
        return [found for part_key, part_header, offset, part in joint if not is_missing(part)
                for found in CELL_READERS[part_key](Cell(part_key, part_header, part, lead + offset,
                                                         lead + offset + len(part), doc))]
    return CELL_READERS[key](Cell(key, header, text, start, end, doc))


SLASH = re.compile(r"\s*/\s*")
BRACKETED = re.compile(r"(?P<first>[^()]*?\S)\s*\((?P<second>[^()]+)\)")


def _joint_parts(key: str, header: str, text: str) -> list[tuple[str, str, int, str]] | None:
    """A column of two fields, its header and its cells split at a slash: "TPE sessions / first day" over "3 / day 4"
    is pe_sessions 3 and pe_start_day 4 ("first day" says of what through the words before it: "TPE first day"); or
    the second in brackets: "CRS grade (onset day)" over "4 (D1)" is crs_grade 4 and crs_onset_day 1.
    None where the header does not name two different fields, one of them ``key``, or the cell does not split as
    the header does (a marker's "before / after" column splits into one marker twice)."""
    heads, parts = SLASH.split(header), list(SLASH.finditer(text))
    bracketed = False
    if len(heads) == 2 and len(parts) == 1:
        halves = [(0, text[:parts[0].start()]), (parts[0].end(), text[parts[0].end():])]
    else:
        # or the second field in brackets: "CRS grade (onset day)" over "4 (D1)"
        head, cell = BRACKETED.fullmatch(header.strip()), BRACKETED.fullmatch(text)
        if not head or not cell:
            return None
        heads, bracketed = [head.group("first"), head.group("second")], True
        halves = [(0, cell.group("first")), (cell.start("second"), cell.group("second"))]
    subject = heads[0].rsplit(None, 1)[0] if " " in heads[0].strip() else ""
    keys = [header_field(heads[0]), header_field(heads[1]) or header_field(f"{subject} {heads[1]}")]
    if None in keys or keys[0] == keys[1] or key not in keys or any(k not in CELL_READERS for k in keys):
        return None
    if bracketed and CELL_READERS[keys[0]] is CELL_READERS[keys[1]]:
        return None  # one reader reads both from the whole cell: "CAR-T product (target)" over "Academic (CD19)"
    return [(part_key, head, offset, part) for part_key, head, (offset, part) in zip(keys, heads, halves)]
