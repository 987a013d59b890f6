"""Tables with one row per patient: header cells map to fields, each body cell is its evidence."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.tokens import Doc

from extractors.cues import EXCHANGE_NAME, NUMBER_SIGN, PATIENT_NUMBER, PATIENT_WORD
from extractors.evidence import Finding
from extractors.fields.disease import PRODUCT_TARGET
from extractors.quantities import NUMBER_PATTERN, Quantity, normalize_unit, parse_number
from extractors.table_rules import cell_value, header_field, is_missing, patient_number
from extractors.values import ROMAN_GRADE, grade_value
from pipeline.document.model import Document, Table, TableCell
from pipeline.schema import FIELD_BY_NAME, MARKER_UNITS as TARGET_UNITS

# a cell holding two values, before and after: "6,840/512", "> 5,000 → 1 020", "12.4 to NA"
PAIR = re.compile(r"""
    ^(?P<bound_a>[<>≥≤]\s*)?(?P<a>[\d.,\s\u2009\u202f]+|na|nr|ne|—|-)   # "> 5,000", "NA"
    \s*(?:/|→|->|to)\s*                                                # "/", "→", "to"
    (?P<bound_b>[<>≥≤]\s*)?(?P<b>[\d.,\s\u2009\u202f]+|na|nr|ne|—|-)$
    """, re.IGNORECASE | re.VERBOSE)
UNIT_IN_HEADER = re.compile(r"\(([^)]*?(?:/|mL|ml|L\b)[^)]*)\)")
# a grade in a cell: "3", "IV" (capitals only: a lower-case "i" or "v" in a cell is no grade)
CELL_GRADE = re.compile(rf"\b([0-5]|{ROMAN_GRADE})\b")


@dataclass
class TablePatient:
    number: int
    label: str
    findings: list[Finding] = field(default_factory=list)


def _columns(table: Table) -> dict[int, tuple[str, str]]:
    """Column index -> (field key, header text), from the header rows."""
    grid = table.grid()
    columns = {}
    for col in range(table.n_cols):
        texts = []
        for r in range(max(table.header_rows, 1)):
            cell = grid[r][col] if r < len(grid) else None
            if cell is not None and cell.text not in texts:
                texts.append(cell.text)
        header = " ".join(texts)
        key = header_field(header)
        if key:
            columns[col] = (key, header)
    return columns


def is_patient_table(table: Table) -> bool:
    if table.n_rows < 2:
        return False
    columns = _columns(table)
    keys = {key for key, _ in columns.values()}
    body = [c for c in table.cells if c.col == 0 and not c.is_header and c.row >= max(table.header_rows, 1)]
    labelled = sum(1 for c in body if patient_number(c.text) is not None)
    return bool(body) and labelled >= max(1, 0.8 * len(body)) and (
        ("patient" in keys) and len(keys & {"age_years", "age_sex", "sex", "crs_grade", "pe_sessions", "outcome",
                                            "diagnosis", "car_t_product", "tocilizumab_doses", "corticosteroids"}) >= 1)


def _finding(name: str, value: str, cell: TableCell, how: str) -> Finding:
    return Finding(name, value, cell.start, cell.end, f"tables.{how}")


def _concepts(doc: Doc, cell: TableCell, labels: tuple[str, ...]):
    return [s for s in doc.spans["concepts"] if s.label_ in labels and s.start_char >= cell.start and s.end_char <= cell.end]


def _number(text: str) -> float | None:
    match = re.search(NUMBER_PATTERN, text)
    return parse_number(match.group(0)) if match else None


def _read_cell(doc: Doc, key: str, header: str, cell: TableCell) -> list[Finding]:
    text = cell.text.strip()
    if is_missing(text):
        return []
    if key == "age_sex":
        match = re.match(r"^(\d{1,3}(?:\.\d)?)\s*(y|yrs?|mo|m(?=\s*/))?\s*[/,\s]\s*([MF])\b", text, re.IGNORECASE)
        if not match:
            return []
        age = float(match.group(1)) / (12 if (match.group(2) or "").lower().startswith("mo") else 1)
        return [_finding("age_years", f"{round(age, 1):g}", cell, "age"), _finding("sex", match.group(3).upper(), cell, "sex")]
    if key == "age_years":
        value = _number(text)
        if value is None:
            return []
        if re.search(r"\bmo(nths?)?\b", text + " " + header, re.IGNORECASE) and not re.search(r"\by(ears?)?\b", header, re.IGNORECASE):
            value = round(value / 12, 1)
        return [_finding("age_years", f"{value:g}", cell, "age")]
    if key == "sex":
        match = re.match(r"^(m|male|f|female|man|woman|boy|girl)\b", text, re.IGNORECASE)
        if not match:
            return []
        return [_finding("sex", "M" if match.group(1).lower() in ("m", "male", "man", "boy") else "F", cell, "sex")]
    if key in ("crs_grade", "icans_grade"):
        match = CELL_GRADE.search(text)
        grade = grade_value(match.group(1)) if match else None
        if grade is None and key == "icans_grade" and cell_value(key, text) is not None:
            grade = int(cell_value(key, text))
        return [_finding(key, str(grade), cell, "grade")] if grade is not None and (grade >= 1 or key == "icans_grade") else []
    if key in ("pe_sessions", "tocilizumab_doses", "crs_onset_day", "pe_start_day"):
        match = re.match(r"^[+]?(-?\d{1,3})\b", text.replace("D", "").replace("day", "").strip())
        if not match:
            if key == "tocilizumab_doses" and cell_value(key, text) is not None:
                return [_finding(key, cell_value(key, text), cell, "count")]
            return []
        return [_finding(key, str(int(match.group(1))), cell, "count")]
    if key == "pe_volume_ml":
        value = _number(text)
        if value is None:
            return []
        unit = "L" if re.search(r"\(\s*l\s*\)|\bliters?\b|\blitres?\b", header, re.IGNORECASE) else "mL"
        ml = value * 1000 if unit == "L" else value
        return [_finding(key, f"{ml:g}", cell, "volume")] if FIELD_BY_NAME[key].admits(ml) else []
    if key == "pe_plasma_volumes":
        value = _number(text)
        return [_finding(key, f"{value:g}", cell, "plasma_volumes")] if value and FIELD_BY_NAME[key].admits(value) else []
    if key == "pe_replacement":
        fluids = {s.id_ for s in _concepts(doc, cell, ("FLUID",))}
        fluids |= {"albumin"} if re.search(r"albumin", text, re.IGNORECASE) else set()
        fluids |= {"FFP"} if re.search(r"\bFFP\b|plasma", text, re.IGNORECASE) else set()
        if not fluids:
            return []
        return [_finding(key, "FFP+albumin" if len(fluids) > 1 else fluids.pop(), cell, "replacement")]
    if key in TARGET_UNITS:
        return _marker_pair(key, header, cell)
    if key == "corticosteroids":
        found = sorted({s.id_ for s in _concepts(doc, cell, ("STEROID",)) if s.id_ != "corticosteroids"})
        if not found and cell_value(key, text) is not None:
            found = [cell_value(key, text)]
        return [_finding(key, value, cell, "steroids") for value in found]
    if key == "other_drugs":
        return [_finding(key, v, cell, "drugs") for v in sorted({s.id_ for s in _concepts(doc, cell, ("DRUG",))})]
    if key == "other_purification":
        return [_finding(key, v, cell, "purification") for v in sorted({s.id_ for s in _concepts(doc, cell, ("PURIFICATION",))})]
    if key in ("car_t_product", "car_t_target"):
        products = _concepts(doc, cell, ("CART_PRODUCT",))
        targets = _concepts(doc, cell, ("CART_TARGET",))
        found = []
        if products:
            found.append(_finding("car_t_product", products[0].id_, cell, "product"))
            if not targets:
                found.append(_finding("car_t_target", PRODUCT_TARGET[products[0].id_], cell, "product_target"))
        elif targets and (re.search(r"investigational|trial|in-house|academic", text, re.IGNORECASE)
                          or any(s.label_ == "INVESTIGATIONAL" for s in doc.spans["concepts"])):
            found.append(_finding("car_t_product", "investigational", cell, "product"))
        if targets:
            found.append(_finding("car_t_target", targets[0].id_, cell, "target"))
        return found
    if key == "diagnosis":
        spans = _concepts(doc, cell, ("DIAGNOSIS",))
        return [_finding(key, spans[0].id_, cell, "diagnosis")] if spans else []
    if key == "response":
        spans = _concepts(doc, cell, ("RESPONSE",))
        match = re.match(r"^(CR|PR|SD|PD)\b", text)
        value = spans[0].id_ if spans else (match.group(1) if match else None)
        return [_finding(key, value, cell, "response")] if value else []
    # a column read by its wording alone (hlh, outcome, crs_resolved)
    value = cell_value(key, text)
    return [_finding(key, value, cell, key)] if value is not None else []


def _marker_pair(marker: str, header: str, cell: TableCell) -> list[Finding]:
    unit_match = UNIT_IN_HEADER.search(header)
    unit = normalize_unit(unit_match.group(1).strip()) if unit_match else TARGET_UNITS[marker]
    target = TARGET_UNITS[marker]
    lowered = header.lower()
    text = cell.text.replace(" ", "")
    pair = PAIR.match(cell.text.strip())
    values: list[tuple[str, str]] = []
    if pair and ("/" in lowered or "→" in lowered or ("pre" in lowered and "post" in lowered) or ("before" in lowered and "after" in lowered)):
        values = [(f"{marker}_pre", pair.group("a")), (f"{marker}_post", pair.group("b"))]
    elif re.search(r"\b(post|after)\b", lowered):
        values = [(f"{marker}_post", text)]
    elif re.search(r"\b(pre|before|peak|baseline)\b", lowered):
        values = [(f"{marker}_pre", text)]
    findings = []
    for name, raw in values:
        number = _number(raw)
        if number is None or is_missing(raw.strip()):
            continue
        try:
            value = Quantity(number, unit, 0, 0).to(target)
        except Exception:
            continue
        findings.append(_finding(name, f"{value:g}", cell, "marker"))
    return findings


LABEL_CELL = re.compile(rf"^{PATIENT_WORD}", re.IGNORECASE)


def _label(text: str, number: int) -> str:
    return text if LABEL_CELL.match(text) else f"Patient {number}"


def is_transposed_patient_table(table: Table) -> bool:
    """One column per patient ("Pt 1", "Case 2" ...) and one row per variable."""
    grid = table.grid()
    if len(grid) < 3 or table.n_cols < 3:
        return False
    header = [cell for cell in grid[0][1:] if cell is not None]
    numbered = [c for c in header if patient_number(c.text) is not None and re.match(r"^\D", c.text)]
    keyed = [row[0] for row in grid[1:] if row[0] is not None and header_field(row[0].text)]
    return len(numbered) >= 2 and len(numbered) >= 0.8 * len(header) and len(keyed) >= 3


def table_patients(doc: Doc, document: Document) -> list[TablePatient]:
    patients: dict[int, TablePatient] = {}
    for table in document.tables:
        grid = table.grid()
        if is_patient_table(table):
            columns = _columns(table)
            for r in range(max(table.header_rows, 1), table.n_rows):
                row = grid[r]
                number = patient_number(row[0].text) if row[0] is not None else None
                if number is None:
                    continue
                patient = patients.setdefault(number, TablePatient(number, _label(row[0].text, number)))
                for col, (key, header) in columns.items():
                    cell = row[col] if col < len(row) else None
                    if key == "patient" or cell is None or cell.row != r and cell.rowspan == 1:
                        continue
                    patient.findings.extend(_read_cell(doc, key, header, cell))
        elif is_transposed_patient_table(table):
            for col in range(1, table.n_cols):
                head = grid[0][col]
                number = patient_number(head.text) if head is not None else None
                if number is None:
                    continue
                patient = patients.setdefault(number, TablePatient(number, _label(head.text, number)))
                for row in grid[1:]:
                    key = header_field(row[0].text) if row[0] is not None else None
                    cell = row[col] if col < len(row) else None
                    if key in (None, "patient") or cell is None or cell is row[0]:
                        continue
                    patient.findings.extend(_read_cell(doc, key, row[0].text, cell))
    return [patients[n] for n in sorted(patients)]


# -- laboratory courses: one axis days, the other markers ------------------------------------------------
DAY_HEADER = re.compile(r"""
    ^(?:(?:post-?infusion\s+)?day|d)\s*(?P<n>[+\-−]?\s*\d{1,3})\b   # "Day +4", "D7", "Post-infusion day 3"
  | ^(?P<s>[+\-−])\s*(?P<m>\d{1,3})$                               # "+4", "−1"
    """, re.IGNORECASE | re.VERBOSE)
# a footnote dating values on exchange days after the procedure: "values on TPE days were drawn after the exchange"
AFTER_EXCHANGE_NOTE = re.compile(rf"\bafter\b.{{0,60}}\b(?:{EXCHANGE_NAME}\b|exchange|session|procedure)", re.IGNORECASE)
# "Samples were drawn at 06:00, i.e. before any plasma exchange performed on that day"
BEFORE_EXCHANGE_NOTE = re.compile(rf"\bbefore\b.{{0,60}}\b(?:{EXCHANGE_NAME}\b|exchange|session|procedure)", re.IGNORECASE)


def _notes_on(document: Document, table: Table) -> list[str]:
    """What the article says of a table's samples: its footnotes, and the sentences that cite it by its label
    ("Table 1 shows the markers.") with the sentence after each."""
    notes = list(table.footnotes)
    if not table.label:
        return notes
    sentences = document.sentences
    for i, sentence in enumerate(sentences):
        if table.label in document.quote(sentence.start, sentence.end):
            notes += [document.quote(s.start, s.end) for s in sentences[i:i + 2]]
    return notes


def _day_of(text: str) -> int | None:
    match = DAY_HEADER.match(text.strip())
    if not match:
        return None
    raw = (match.group("n") or (match.group("s") + match.group("m"))).replace(" ", "").replace("−", "-")
    return int(raw)


def _marker_of(doc: Doc, cell: TableCell) -> str | None:
    spans = _concepts(doc, cell, ("MARKER",))
    return spans[0].id_ if spans and spans[0].start_char - cell.start <= 2 else None


# "Laboratory course of patient 2", "Case B: cytokines by day"
CAPTION_PATIENT = re.compile(rf"""
    \b(?P<word>{PATIENT_WORD})\s*(?:{NUMBER_SIGN}\s*)?(?P<n>{PATIENT_NUMBER})\b   # "patient 2", "Case #II", "Pt. B"
    (?!\s*(?:%|mg))                                                              # not "case 2 %"
    """, re.IGNORECASE | re.VERBOSE)
# the column of a long table naming each row's patient: "Patient", "Case", "Pt.", "No.", "#", "ID"
PATIENT_HEADER = re.compile(rf"^(?:{PATIENT_WORD}s?|{NUMBER_SIGN}|id)$", re.IGNORECASE)
# the day column of a long table: "Day", "Days after infusion", "Days post CAR-T", "Time point"
DAY_COLUMN_HEADER = re.compile(r"""
    ^(?:day | days?\s+(?:after|post)[-\ ]?(?:infusion|car[-\ ]?t) | time\s*point | timepoint)\b
    """, re.IGNORECASE | re.VERBOSE)


def _caption_patient(table: Table) -> int | None:
    """The patient a table is about when its label or caption names one patient."""
    from extractors.patients import label_number

    found = {label_number(m) for m in CAPTION_PATIENT.finditer(f"{table.label} {table.caption}")} - {0}
    return found.pop() if len(found) == 1 else None


def lab_course(doc: Doc, document: Document, pe_days: list[int], patient: int = 1, single: bool = True) -> list[Finding]:
    """Pre and post values from tables of markers by day, given the days of the exchanges. A table whose
    caption names a patient, or whose rows carry a patient column, gives only that patient's values; any
    other lab table belongs to the article's lone patient."""
    if not pe_days:
        return []
    first, last = min(pe_days), max(pe_days)
    findings: dict[str, Finding] = {}
    for table in document.tables:
        grid = table.grid()
        if len(grid) < 2:
            continue
        owner = _caption_patient(table)
        if owner is not None and owner != patient:
            continue
        notes = _notes_on(document, table)
        after_on_pe_days = any(AFTER_EXCHANGE_NOTE.search(note) for note in notes)
        before_on_pe_days = not after_on_pe_days and any(BEFORE_EXCHANGE_NOTE.search(note) for note in notes)
        series = _long_series(doc, grid, patient)
        if series is None:
            if owner is None and not single:
                continue
            series = _series(doc, grid)
        for marker, unit_text, points in series:
            unit = normalize_unit(unit_text) if unit_text else TARGET_UNITS[marker]
            before = [p for p in points if p[0] < first or before_on_pe_days and p[0] == first]
            if after_on_pe_days:
                after = [p for p in points if p[0] == last] or [p for p in points if p[0] > last]
            else:
                after = [p for p in points if p[0] > last]
            for name, chosen in ((f"{marker}_pre", before[-1] if before else None), (f"{marker}_post", after[0] if after else None)):
                if chosen is None or name in findings:
                    continue
                day, cell = chosen
                number = _number(cell.text)
                if number is None or is_missing(cell.text) or re.match(r"^\s*[<≤]", cell.text):
                    continue
                try:
                    value = Quantity(number, unit, 0, 0).to(TARGET_UNITS[marker])
                except Exception:
                    continue
                findings[name] = _finding(name, f"{value:g}", cell, "lab_course")
    return list(findings.values())


def _long_series(doc: Doc, grid, patient: int) -> list[tuple[str, str, list[tuple[int, TableCell]]]] | None:
    """Long format, one row per patient and day ("Patient | Day | IL-6 (pg/mL) | ..."): the series of
    ``patient``; None when the table is not in this format."""
    header = grid[0]
    patient_col = next((c for c, cell in enumerate(header) if cell is not None and PATIENT_HEADER.match(cell.text.strip())), None)
    day_col = next((c for c, cell in enumerate(header) if cell is not None and DAY_COLUMN_HEADER.match(cell.text.strip())), None)
    if patient_col is None or day_col is None:
        return None
    rows = []
    for row in grid[1:]:
        who, when = row[patient_col], row[day_col]
        if who is None or when is None or patient_number(who.text) != patient:
            continue
        day = _day_of(when.text)
        if day is None and re.fullmatch(r"\s*[+\-−]?\d{1,3}\s*", when.text):
            day = int(when.text.strip().replace("−", "-"))
        if day is not None:
            rows.append((day, row))
    series = []
    for c, cell in enumerate(header):
        marker = _marker_of(doc, cell) if cell is not None and c not in (patient_col, day_col) else None
        if marker:
            unit = UNIT_IN_HEADER.search(cell.text)
            points = [(day, row[c]) for day, row in rows if row[c] is not None and row[c] is not cell]
            series.append((marker, unit.group(1) if unit else "", sorted(points, key=lambda p: p[0])))
    return series


def _series(doc: Doc, grid) -> list[tuple[str, str, list[tuple[int, TableCell]]]]:
    """(marker, unit, [(day, cell)]) for days across the header row or down the first column."""
    header = grid[0]
    series = []
    day_columns = {c: _day_of(cell.text) for c, cell in enumerate(header) if cell is not None}
    if sum(d is not None for d in day_columns.values()) >= 2:
        for row in grid[1:]:
            if row[0] is None:
                continue
            marker = _marker_of(doc, row[0])
            if marker:
                unit = UNIT_IN_HEADER.search(row[0].text)
                points = [(day_columns[c], row[c]) for c in range(1, len(row))
                          if day_columns.get(c) is not None and row[c] is not None and row[c] is not row[0]]
                series.append((marker, unit.group(1) if unit else "", sorted(points, key=lambda p: p[0])))
        return series
    day_rows = {r: _day_of(row[0].text) for r, row in enumerate(grid) if row[0] is not None}
    if sum(d is not None for d in day_rows.values()) >= 2:
        for c, cell in enumerate(header):
            marker = _marker_of(doc, cell) if cell is not None else None
            if marker:
                unit = UNIT_IN_HEADER.search(cell.text)
                points = [(day_rows[r], grid[r][c]) for r in range(1, len(grid))
                          if day_rows.get(r) is not None and grid[r][c] is not None]
                series.append((marker, unit.group(1) if unit else "", sorted(points, key=lambda p: p[0])))
    return series
