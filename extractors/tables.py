"""Patients in tables: which table gives one row (or one column) per patient, which row is which patient and which
header names which field; the cells are read by the field readers (extractors.fields.read_cell), each cell the
evidence of what it says. Laboratory courses by day give markers' values before and after the exchanges."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from spacy.tokens import Doc

from extractors.assertion import flagged, is_affirmed
from extractors.cues import EXCHANGE_NAME, NUMBER_SIGN, PATIENT_NUMBER, PATIENT_WORD
from extractors.evidence import Finding, concepts
from extractors.fields import read_cell
from extractors.fields.inputs import CELL_EXTRACTOR, header_unit
from extractors.quantities import UNIT
from extractors.fields.labs import header_time, marker_value
from extractors.table_rules import AFTER_ALL, AFTER_THE_LAST, header_field, is_missing, patient_number, sample_time
from extractors.values import find_dates, number_in
from pipeline.document.model import Document, Table, TableCell
from pipeline.schema import MARKER_BY_ID


@dataclass
class TablePatient:
    number: int
    label: str
    findings: list[Finding] = field(default_factory=list)


def _header_rows(table: Table) -> int:
    """The table's header rows, with the rows under them that go on heading the columns: an empty first cell and no
    number ("Patient | IL-6 (pg/ml) | ..." over " | before/after | ...")."""
    grid = table.grid()
    rows = max(table.header_rows, 1)
    while rows < len(grid) - 1 and (grid[rows][0] is None or not grid[rows][0].text.strip()) \
            and not any(cell is not None and re.search(r"\d", cell.text) for cell in grid[rows]):
        rows += 1
    return rows


def _columns(table: Table) -> dict[int, tuple[str, str]]:
    """Column index -> (field key, header text), from the header rows."""
    grid = table.grid()
    header_rows = _header_rows(table)
    columns = {}
    for col in range(table.n_cols):
        texts = []
        for r in range(header_rows):
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
    grid = table.grid()
    if any(cell is not None and DAY_COLUMN_HEADER.match(cell.text.strip()) for cell in grid[0]):
        return False  # one row per patient and day: a laboratory course (lab_course), not one row per patient
    body = [c for c in table.cells if c.col == 0 and not c.is_header and c.row >= _header_rows(table)]
    labelled = sum(1 for c in body if patient_number(c.text) is not None)
    return bool(body) and labelled >= max(1, 0.8 * len(body)) and (
        ("patient" in keys) and len(keys & ({"age_years", "age_sex", "sex", "crs_grade", "pe_sessions", "outcome",
                                             "diagnosis", "car_t_product", "tocilizumab_doses", "corticosteroids"}
                                            | set(MARKER_BY_ID))) >= 1)


def _concepts(doc: Doc, cell: TableCell, labels: tuple[str, ...]):
    return [s for s in concepts(doc) if s.label_ in labels and s.start_char >= cell.start and s.end_char <= cell.end]


LABEL_CELL = re.compile(rf"^{PATIENT_WORD}", re.IGNORECASE)


def _label(text: str, number: int) -> str:
    """A row's patient label as the table writes it ("Pt 3", "Patient B"; a letter alone is "Patient A")."""
    if LABEL_CELL.match(text):
        return text
    return f"Patient {text.strip().rstrip('.')}" if re.fullmatch(r"\s*[A-H]\.?\s*", text) else f"Patient {number}"


def is_transposed_patient_table(table: Table) -> bool:
    """One column per patient ("Pt 1", "Case 2" ...) and one row per variable."""
    grid = table.grid()
    if len(grid) < 3 or table.n_cols < 3:
        return False
    header = [cell for cell in grid[0][1:] if cell is not None]
    numbered = [c for c in header if patient_number(c.text) is not None and re.match(r"^\D", c.text)]
    keyed = [row[0] for row in grid[1:] if row[0] is not None and header_field(row[0].text)]
    return len(numbered) >= 2 and len(numbered) >= 0.8 * len(header) and len(keyed) >= 3


# a table note giving a column's unit in words: "b CRP in mg/dL.", "Ferritin values are expressed in µg/L"
UNIT_IN_WORDS = re.compile(rf"\b(?:in|as)\s+({UNIT.pattern})", re.IGNORECASE)


def footnote_unit(key: str, footnotes: list[str]) -> str | None:
    """The unit a table's notes give the values of marker ``key`` in ("b CRP in mg/dL." when the header's mark
    "CRP before → after TPE^b" points there), as written; None when no note does."""
    for note in footnotes:
        for clause in re.split(r"[.;]\s+", note):
            if header_field(clause) != key:
                continue
            in_words = UNIT_IN_WORDS.search(clause)
            unit = header_unit(clause) or (in_words.group(1) if in_words else None)
            if unit:
                return unit
    return None


def _header_with_unit(key: str, header: str, table: Table) -> str:
    """A marker's header with the unit the table's notes give it when the header itself names none."""
    if key not in MARKER_BY_ID or header_unit(header) is not None:
        return header
    unit = footnote_unit(key, table.footnotes)
    return f"{header} ({unit})" if unit else header


def table_patients(doc: Doc, document: Document) -> list[TablePatient]:
    patients: dict[int, TablePatient] = {}
    for table in document.tables:
        grid = table.grid()
        if is_patient_table(table):
            columns = _columns(table)
            for r in range(_header_rows(table), table.n_rows):
                row = grid[r]
                number = patient_number(row[0].text) if row[0] is not None else None
                if number is None:
                    continue
                patient = patients.setdefault(number, TablePatient(number, _label(row[0].text, number)))
                for col, (key, header) in columns.items():
                    cell = row[col] if col < len(row) else None
                    if key == "patient" or cell is None or cell.row != r and cell.rowspan == 1:
                        continue
                    patient.findings.extend(read_cell(key, _header_with_unit(key, header, table), cell, doc))
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
                    patient.findings.extend(read_cell(key, _header_with_unit(key, row[0].text, table), cell, doc))
    return [patients[n] for n in sorted(patients)]



# a summary over patients, not one patient's value: "Age, median (range)", "n (%)", "Published cases (n = 19)"
AGGREGATE = re.compile(r"\b(?:median|mean|range|iqr|n\s*\(%\)|%|n\s*=|cases|patients)\b", re.IGNORECASE)


def _sheet_owner(table: Table) -> int:
    """The patient a two-column sheet is about when its value column or its caption names one ("Parameter |
    Patient 2"); 0 when it names none."""
    head = table.grid()[0][1]
    named = patient_number(head.text) if head is not None and re.match(r"^\D", head.text) else None
    return named if named is not None else (_caption_patient(table) or 0)


def is_patient_sheet(table: Table) -> bool:
    """One patient's data as a sheet of two columns, a variable's name and its value ("Parameter | Value",
    "Number of TPE sessions | 3", "IL-6 pre-TPE (pg/mL) | 2450"); not a summary over patients."""
    grid = table.grid()
    if table.n_cols != 2 or len(grid) < 3 or is_patient_table(table):
        return False
    if any(cell is not None and AGGREGATE.search(cell.text) for cell in grid[0]) or \
            AGGREGATE.search(table.caption or "") and not _caption_patient(table):
        return False
    keyed = [row for row in grid if row[0] is not None and header_field(row[0].text) not in (None, "patient")]
    return len(keyed) >= 3 and not any(AGGREGATE.search(row[0].text) for row in keyed)


def patient_sheets(doc: Doc, document: Document, patient: int = 1, single: bool = True) -> list[Finding]:
    """What one patient's two-column sheets say, each value from its cell, the row's name as its header. A sheet
    naming no patient belongs to a lone patient."""
    findings: list[Finding] = []
    for table in document.tables:
        if not is_patient_sheet(table):
            continue
        owner = _sheet_owner(table)
        if owner != patient and not (owner == 0 and single):
            continue
        for name, value in table.grid():
            key = header_field(name.text) if name is not None else None
            if key in (None, "patient") or value is None or value is name or value.is_header:
                continue
            findings.extend(read_cell(key, _header_with_unit(key, name.text, table), value, doc))
    return findings


# -- a table of the exchanges, one row per session -------------------------------------------------------------
# the first column's heading: "Session", "Procedure no.", "TPE #", "Exchange"
SESSION_COLUMN = re.compile(rf"""
    ^\s*(?:{EXCHANGE_NAME}\s*)?(?:sessions?|procedures?|exchanges?|runs?)?\s*(?:no\.?|number|\#)?\s*$
    """, re.IGNORECASE | re.VERBOSE)
# of a session's cells, those that stand for all the sessions ("2.9 L" each time): kept only when every row agrees
SAME_EACH_SESSION = ("pe_volume_ml", "pe_plasma_volumes")


# a session's row telling it was not held: "Cancelled: catheter thrombosis", "not done"
NOT_HELD_ROW = re.compile(r"\b(?:cancel+ed|not\s+(?:done|performed|held|given)|abandoned|omitted)\b", re.IGNORECASE)


def _session_rows(table: Table, patient: int = 1) -> tuple[int, list, int] | None:
    """(heading rows, body rows, the session column) of a table with one row per exchange: a column headed by the
    session and numbered 1, 2, 3 ... down its rows, first or after a patient column ("Patient | Session | Day ...",
    the rows of ``patient`` then); a row telling the session was not held is none."""
    grid = table.grid()
    lines = max(table.header_rows, _heading_lines(grid))

    def head(c: int) -> str:
        return " ".join(grid[r][c].text for r in range(lines) if c < len(grid[r]) and grid[r][c] is not None)

    column = 1 if PATIENT_HEADER.match(head(0).strip()) and table.n_cols > 2 else 0
    body = [row for row in grid[lines:] if row[column] is not None and row[column].text.strip()]
    if column:
        body = [row for row in body if row[0] is not None and patient_number(row[0].text) == patient]
    if not head(column).strip() or not SESSION_COLUMN.match(head(column)) or len(body) < (1 if column else 2):
        return None
    numbers = [row[column].text.strip().rstrip(".") for row in body]
    if numbers != [str(n) for n in range(1, len(body) + 1)]:
        return None
    held = [row for row in body if not any(cell is not None and NOT_HELD_ROW.search(cell.text) for cell in row)]
    return (lines, held, column) if held else None


def _markers_around_each_session(table: Table) -> bool:
    """Whether a table's columns give a marker at a time of the session ("IL-6 before (pg/mL) | IL-6 after
    (pg/mL)"), as the marker's cell reader reads the header (labs.header_time)."""
    grid = table.grid()
    headings = [" ".join(grid[r][c].text for r in range(_header_rows(table)) if grid[r][c] is not None)
                for c in range(table.n_cols)]
    return any(header_field(h) in MARKER_BY_ID and header_time(h) is not None for h in headings)


def session_table(doc: Doc, document: Document, patient: int = 1, single: bool = True) -> list[Finding]:
    """What a table of the exchanges, one row per session, tells of the lone patient (or the patient its caption
    names): as many sessions as rows, the first row's day, the fluids of all the rows, a volume every row gives, and
    each marker before the first session and after the last."""
    findings: list[Finding] = []
    for table in document.tables:
        rows = _session_rows(table, patient)
        if rows is None:
            continue
        lines, body, column = rows
        owner = _caption_patient(table)
        # rows under a patient column are that patient's; a table without one is the lone patient's or its caption's
        if not column and (owner != patient if owner is not None else not single):
            continue
        grid = table.grid()
        headings = {c: " ".join(dict.fromkeys(grid[r][c].text for r in range(lines) if grid[r][c] is not None))
                    for c in range(column + 1, table.n_cols)}
        first, last = body[0][column], body[-1][column]
        findings.append(Finding("pe_sessions", str(len(body)), first.start, last.end, "tables.session_rows"))
        read = [{} for _ in body]
        for c, heading in headings.items():
            key = header_field(heading)
            day_column = key is None and DAY_COLUMN_HEADER.match(heading)
            for i, row in enumerate(body):
                cell = row[c] if c < len(row) else None
                if cell is None or cell is row[column]:
                    continue
                if day_column:
                    day = _row_day(cell.text, True)
                    if day is not None:
                        read[i].setdefault("pe_start_day", Finding("pe_start_day", str(day), cell.start, cell.end,
                                                                   "tables.session_day"))
                elif key not in (None, "patient", "pe_sessions"):
                    for found in read_cell(key, _header_with_unit(key, heading, table), cell, doc):
                        read[i].setdefault(found.field, found)
        findings += _over_the_sessions(read)
    return findings


def _over_the_sessions(read: list[dict[str, Finding]]) -> list[Finding]:
    """The sessions' cells as one patient's values: the first session's day and markers before it, the last one's
    markers after it, the fluids of all, a volume only when every session had it."""
    first, last = read[0], read[-1]
    found = [first[name] for name in first if name == "pe_start_day" or name.endswith("_pre")]
    found += [last[name] for name in last if name.endswith("_post")]
    for name in SAME_EACH_SESSION:
        values = [row.get(name) for row in read]
        if all(values) and len({v.value for v in values}) == 1:
            found.append(values[0])
    fluids = [row["pe_replacement"] for row in read if "pe_replacement" in row]
    if fluids:
        kinds = {part for fluid in fluids for part in fluid.value.split("+")}
        value = "FFP+albumin" if {"FFP", "albumin"} <= kinds else fluids[0].value
        found.append(replace(fluids[0], value=value, end=fluids[-1].end) if value != fluids[0].value else fluids[0])
    return found

# -- laboratory courses: one axis days, the other markers ------------------------------------------------
DAY_HEADER = re.compile(r"""
    ^(?:(?:post-?infusion\s+)?day|d)\s*(?P<n>[+\-−]?\s*\d{1,3})\b   # "Day +4", "D7", "Post-infusion day 3"
  | ^(?P<s>[+\-−])\s*(?P<m>\d{1,3})$                               # "+4", "−1"
    """, re.IGNORECASE | re.VERBOSE)
# a word placing a sample before a procedure: "before", "prior to", "precedes"
BEFORE_WORD = r"(?:before|prior\s+to|precede[sd]?|preceding)"
# a footnote dating values on exchange days after the procedure: "values on TPE days were drawn after the exchange"
AFTER_EXCHANGE_NOTE = re.compile(rf"""
    (?<!morning\ )(?<!day\ )                                  # not "the morning after the last PLEX": the next day
    \bafter\b(?:(?!\b{BEFORE_WORD}\b|\binfusions?\b|\().){{0,60}}  # "after", with no "before" on the way, not
                                                         # "after the first infusion (TPE on D+4 ...)"
    \b(?:{EXCHANGE_NAME}\b|exchange|session|procedure)        # "... the exchange", "... that day's session"
    """, re.IGNORECASE | re.VERBOSE)
# "Samples were drawn at 06:00, i.e. before any plasma exchange performed on that day", "each morning sample
# precedes that day's exchange"
BEFORE_EXCHANGE_NOTE = re.compile(rf"""
    \b{BEFORE_WORD}\b(?:(?!\bafter\b).){{0,60}}              # "before", with no "after" on the way
    \b(?:{EXCHANGE_NAME}\b|exchange|session|procedure)        # "... any procedure on that day"
  | \b(?:{EXCHANGE_NAME}\b|exchanges?|sessions?)[^.;]{{0,40}}  # "TPE sessions on D+4, after the morning sample"
    \bafter\s+(?:the\s+|each\s+|that\s+day'?s\s+)?(?:morning\s+|daily\s+)?(?:samples?|blood\s+draws?|bloods)\b
    """, re.IGNORECASE | re.VERBOSE)


# a day a note on a table's samples names: "D+5 sampled before the first exchange", "Day 7: after the second TPE"
NOTE_DAY = re.compile(r"\b(?:day|d)\s*(?P<n>[+\-−]?\s*\d{1,3})\b", re.IGNORECASE)
# a note's statements: "D+5 sampled before ...; D+6 sampled between ..."; a clause set against another is one of its
# own ("fell for 48 hours after the second exchange, but rose again from D+9": D+9 is not dated by the exchange)
NOTE_PARTS = re.compile(r";|(?<=[.:])\s+|,?\s+(?:but|whereas|although|though)\s+")


def _paragraph_after(document: Document, table: Table) -> list[str]:
    """The sentences of the paragraph right after a table, where a text document leaves notes that carry no mark."""
    after = [s for s in document.sentences if s.start >= table.end]
    if not after:
        return []
    first = min(after, key=lambda s: s.start)
    return [document.quote(s.start, s.end) for s in after if s.paragraph_id == first.paragraph_id]


# a sentence telling when samples were drawn: "Samples were drawn at 06:00 each day, before any exchange of that day"
SAMPLING = re.compile(r"\b(?:samples?|drawn|taken|measured)\b", re.IGNORECASE)


def _sampling_before(document: Document, table: Table) -> list[str]:
    """The sentences of the paragraph of text right before a table (its caption passed over) that tell when its
    samples were drawn."""
    before = [p for p in document.paragraphs if p.end <= table.start and p.kind == "paragraph"]
    if not before:
        return []
    last = max(before, key=lambda p: p.start)
    return [text for s in document.sentences if s.paragraph_id == last.id
            if SAMPLING.search(text := document.quote(s.start, s.end))]


def _day_statements(notes: list[str], days: set[int]) -> tuple[dict[int, tuple[str, int]], list[str]]:
    """When the samples of single days were drawn, from the notes' statements naming one of the table's days and a
    time ("D+7 sampled on the morning after the second exchange" -> {7: ("post", 2)}), and the notes' other
    statements."""
    times, others = {}, []
    for note in notes:
        for part in NOTE_PARTS.split(note):
            named = {int(m.group("n").replace(" ", "").replace("−", "-")) for m in NOTE_DAY.finditer(part)} & days
            time = sample_time(part) if len(named) == 1 else None
            if time is None:
                others.append(part)
            else:
                times.setdefault(named.pop(), time)
    return times, others


# a sample of the day after an exchange: "drawn the morning after the second and last PLEX"
MORNING_AFTER = re.compile(r"\b(?:morning|day)\s+after\b", re.IGNORECASE)


def _exchange_day_statements(notes: list[str], pe_days: list[int]) -> dict[int, tuple[str, int]]:
    """When the samples of the first and last exchange days were drawn, from notes that name the exchange but no day
    (footnote marks lost: "before the first TPE. after the third TPE.", three exchanges on days 5 to 7): before the
    first, on the first exchange's day; after the last, on the last one's."""
    times: dict[int, tuple[str, int]] = {}
    if not pe_days:
        return times
    for note in notes:
        for part in NOTE_PARTS.split(note):
            time = sample_time(part)
            if time == ("pre", 0):
                times.setdefault(pe_days[0], time)
            elif time is not None and time[0] == "post" and time[1] in (len(pe_days), AFTER_THE_LAST):
                # "Drawn the morning after the second and last PLEX": the day after the last one's
                times.setdefault(pe_days[-1] + (1 if MORNING_AFTER.search(part) else 0), time)
    return times


# a heading row going on under the first (a typed table's heading wrapped over lines): "(unit)", "(before", "1st PE)"
VALUE_CELL = re.compile(r"^\s*[<>≤≥]?\s*\d[\d\s.,]*\s*$")


def _heading_lines(grid) -> int:
    """The rows a table's column headings take: the first, and those under it that hold no value and no row heading
    but a parenthesis or nothing ("D+2" over "(before" over "1st PE)")."""
    rows = 1
    while rows < len(grid) - 1 and (grid[rows][0] is None or grid[rows][0].text.strip().startswith("(")) and \
            not any(cell is not None and VALUE_CELL.match(cell.text) for cell in grid[rows]):
        rows += 1
    return rows


def _heading_times(grid) -> dict[int, tuple[str, int]]:
    """When each day's samples were drawn, as a day's heading (over the lines it takes) or its row says: "D+5
    (pre-PEX)", "D+2 (before 1st PE)", "D7 | morning after TPE 2 | 310 | ..."."""
    times = {}
    lines = _heading_lines(grid)
    for c, cell in enumerate(grid[0]):
        day = _day_of(cell.text) if cell is not None else None
        heading = " ".join(dict.fromkeys(grid[r][c].text for r in range(lines) if grid[r][c] is not None))
        time = sample_time(heading) if day is not None else None
        if time is not None:
            times.setdefault(day, time)
    for row in grid[1:]:
        day = _day_of(row[0].text) if row[0] is not None else None
        time = sample_time(" | ".join(c.text for c in row if c is not None)) if day is not None else None
        if time is not None:
            times.setdefault(day, time)
    return times


def _pre_post_points(points, times: dict[int, tuple[str, int]], pe_days: list[int], before_on_pe_days: bool,
                     after_on_pe_days: bool) -> tuple[tuple | None, tuple | None]:
    """The (day, cell) before the first exchange and the first after the last: the days the table's headings and notes
    say so of, else by the days of the exchanges among the days they say nothing of. Of the days said to follow an
    exchange, those after the latest one named count ("after TPE 2" over "after TPE 1")."""
    def said(time: str) -> list:
        return [p for p in points if times.get(p[0], ("",))[0] == time]

    unsaid = [p for p in points if p[0] not in times]
    first, last = (min(pe_days), max(pe_days)) if pe_days else (None, None)
    pre = said("pre")[-1:]
    if not pre and first is not None:
        pre = [p for p in unsaid if p[0] < first or before_on_pe_days and p[0] == first][-1:]
    post = said("post")
    if post:
        latest = max(times[p[0]][1] for p in post)
        post = [p for p in post if times[p[0]][1] == latest]
        if latest == AFTER_ALL and last is not None:  # "post-PEX" on several days: the first after the last exchange
            post = [p for p in post if p[0] >= last] or post
    elif last is not None:
        if after_on_pe_days:
            post = [p for p in unsaid if p[0] == last] or [p for p in unsaid if p[0] > last]
        else:
            post = [p for p in unsaid if p[0] > last]
    return (pre[0] if pre else None), (post[0] if post else None)


def _citing_sentences(document: Document, table: Table) -> list[str]:
    """The sentences that cite a table by its label ("Table 1 shows the markers."), each with the sentence after it."""
    if not table.label:
        return []
    sentences, cited = document.sentences, []
    for i, sentence in enumerate(sentences):
        if table.label in document.quote(sentence.start, sentence.end):
            cited += [document.quote(s.start, s.end) for s in sentences[i:i + 2]]
    return cited


def _exchange_day_sampling(notes: list[str]) -> str | None:
    """When notes say the values of exchange days were drawn: "post" (after that day's exchange), "pre" (before
    it), or None when they do not say."""
    if any(AFTER_EXCHANGE_NOTE.search(note) for note in notes):
        return "post"
    if any(BEFORE_EXCHANGE_NOTE.search(note) for note in notes):
        return "pre"
    return None


def _day_of(text: str) -> int | None:
    match = DAY_HEADER.match(text.strip())
    if not match:
        return None
    raw = (match.group("n") or (match.group("s") + match.group("m"))).replace(" ", "").replace("−", "-")
    return int(raw)


# a heading that is an hour after the infusion, in an account counting hours: "H77", "H+104", "Hour 60"
HOUR_HEADER = re.compile(r"^\s*(?:(?-i:H)\s?\+?\s?|hour\s+)(?P<h>\d{1,4})\s*$", re.IGNORECASE)


def _row_day(text: str, bare: bool, infused: date | None = None) -> float | None:
    """The day a row is of: "Day 5", "D+5"; under a "Day" column heading also a bare "5" or "-1"; a calendar date
    ("12.03", "12 Mar") counted from the infusion's, when it is known; an hour ("H77") as a fraction of days."""
    day = _day_of(text)
    if day is None and bare and re.fullmatch(r"\s*[+\-−]?\d{1,3}\s*", text):
        day = int(text.strip().replace("−", "-"))
    hour = HOUR_HEADER.match(text) if day is None else None
    if hour:
        return int(hour.group("h")) / 24
    return day if day is not None else _date_day(text, infused)


# a heading that is a date and nothing else, day before month: "12.03", "12.03.2024", "12.03*" (a note's mark after it)
HEADING_DATE = re.compile(r"^\s*(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.?(?P<y>(?:19|20)\d{2})?\s*[*†‡§a-h]?\s*$")


def _date_day(text: str, infused: date | None) -> int | None:
    """The day after the infusion that a heading's date falls on ("12.03" five days after 07.03.2024)."""
    if infused is None:
        return None
    match = HEADING_DATE.match(text)
    try:
        if match:
            when = date(int(match.group("y") or infused.year), int(match.group("m")), int(match.group("d")))
        else:
            found = find_dates(text, infused.year)
            if not found or found[0][1] > 2 or len(text.strip()) - found[0][2] > 2:
                return None
            when = found[0][0]
    except ValueError:
        return None
    return (when - infused).days


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


# an entry of a day's events that names an exchange ("TPE no. 3", "Plasma exchange 1")
EXCHANGE_EVENT = re.compile(rf"\b(?:{EXCHANGE_NAME}|plasma\s+exchange)\b", re.IGNORECASE)


def _day_rows(grid, infused: date | None = None) -> list[tuple[int, list]]:
    """(day, row) of a table with one row per day: "Day 5" or, under a "Day" column heading, a bare 5, or a date."""
    header = grid[0]
    bare = header[0] is not None and bool(DAY_COLUMN_HEADER.match(header[0].text.strip()))
    rows = [(_row_day(row[0].text, bare, infused), row) for row in grid[1:] if row[0] is not None]
    return [(day, row) for day, row in rows if day is not None]


def _exchange_held(doc: Doc, cell: TableCell) -> bool:
    """Whether a day's events name an exchange held: one ConText does not find postponed, cancelled or only
    planned ("TPE postponed (MAP < 55 mmHg)", "TPE no. 5 planned, not performed"), in an entry that is no sample's
    time ("morning after TPE 2")."""
    offset = 0
    for entry in cell.text.split(";"):
        start, end = cell.start + offset, cell.start + offset + len(entry)
        offset += len(entry) + 1
        if not EXCHANGE_EVENT.search(entry) or sample_time(entry) is not None:
            continue
        named = [s for s in _concepts(doc, cell, ("PE",)) if start <= s.start_char and s.end_char <= end]
        if any(is_affirmed(span) for span in named):
            return True
    return False


def _exchange_cells(doc: Doc, document: Document) -> dict[int, TableCell]:
    """Day -> the cell of a table of one row per day whose events give an exchange held that day ("TPE no. 2;
    CVVHDF started"), or whose column headed by the exchange is filled that day ("TPE": "Session 1", "yes");
    entries of exchanges not held ("TPE postponed") left out."""
    found: dict[int, TableCell] = {}
    for table in document.tables:
        grid = table.grid()
        if len(grid) < 3 or _caption_patient(table) is not None:
            continue
        exchange_columns = {c for c, head in enumerate(grid[0]) if head is not None and EXCHANGE_COLUMN.match(head.text)}
        for day, row in _day_rows(grid):
            for c, cell in enumerate(row[1:], 1):
                if cell is None:
                    continue
                if _exchange_held(doc, cell) or c in exchange_columns and _column_filled(doc, cell):
                    found.setdefault(day, cell)
    return found


# a column of a day table headed by the exchange alone: "TPE", "Plasma exchange", "PLEX (session)"
EXCHANGE_COLUMN = re.compile(rf"^\s*(?:{EXCHANGE_NAME}|plasma\s+exchange)s?\s*(?:\([^)]*\))?\s*$", re.IGNORECASE)


def _column_filled(doc: Doc, cell: TableCell) -> bool:
    """A cell of the exchange's column that tells of one held: filled, not a dash or a no, not told as cancelled."""
    if is_missing(cell.text) or re.fullmatch(r"\s*(?:no|none|0|nil|n)\s*", cell.text, re.IGNORECASE):
        return False
    span = doc.char_span(cell.start, cell.end, alignment_mode="expand")
    return span is None or not flagged(span, "NEGATED_EXISTENCE", "HYPOTHETICAL")


def table_exchange_days(doc: Doc, document: Document) -> list[int]:
    """The exchange days a table of one row per day gives; [] when no table does."""
    return sorted(_exchange_cells(doc, document))


def table_exchange_sessions(doc: Doc, document: Document) -> list[Finding]:
    """The sessions a table of one row per day counts, one a day it gives an exchange on, with the last one's cell
    as evidence ("TPE no. 4; CVVHDF + CytoSorb")."""
    cells = _exchange_cells(doc, document)
    if not cells:
        return []
    last = cells[max(cells)]
    return [Finding("pe_sessions", str(len(cells)), last.start, last.end, "tables.exchange_days")]


# a date in figures, whichever order its day and month are in: "03/04/2024", "12.03", "2024-04-08"
NUMERIC_DATE = re.compile(r"^\s*(?:\d{1,2}[./-]\d{1,2}(?:[./-](?:19|20)?\d{2})?|(?:19|20)\d{2}-\d{2}-\d{2})\s*$")
# a cell that tells an event in words, not a value: "Plasmapheresis, session 1", "First fever, 39.4 °C; onset of CRS"
EVENT_WORDS = re.compile(r"[^\W\d_]{3,}(?:\W+[^\W\d_]{2,}){1,}")


def timeline_rows(doc: Doc, document: Document) -> list[Span]:
    """The rows of tables of events in time order (a time in the first column: "H+54", "Day 5", "D+3", a date; events told in
    words in the others), as spans the prose readers can read like sentences of the account: each row is dated by its
    first cell ("H+54 | Plasmapheresis, session 1 | – | 40 mL/kg exchanged")."""
    rows = []
    for table in document.tables:
        grid = table.grid()
        if len(grid) < 4 or _caption_patient(table) is not None:
            continue
        body = [row for row in grid[1:] if row and row[0] is not None]
        timed = [row for row in body if _row_day(row[0].text, False) is not None or find_dates(row[0].text)
                 or NUMERIC_DATE.match(row[0].text)]
        told = [row for row in timed if sum(bool(cell is not None and cell is not row[0] and EVENT_WORDS.search(cell.text))
                                           for cell in row[1:]) >= 1]
        if len(timed) < 3 or len(timed) < 0.6 * len(body) or len(told) < 0.5 * len(timed):
            continue
        for row in timed:
            span = doc.char_span(row[0].start, max(c.end for c in row if c is not None), alignment_mode="expand")
            if span is not None:
                rows.append(span)
    return rows


def course_event_cells(doc: Doc, document: Document) -> list:
    """The cells of the days' events in tables of one row per day ("TPE 2; MP 1 g", "Hydrocortisone 50 mg q6h for
    refractory shock"), as spans the prose readers of treatments can read: the cells after a row's day that are
    words, not numbers."""
    spans = []
    for table in document.tables:
        grid = table.grid()
        day_rows = _day_rows(grid) if len(grid) >= 3 and _caption_patient(table) is None else []
        for _, row in day_rows if len(day_rows) >= 2 else []:
            for cell in row[1:]:
                if cell is not None and re.search(r"[^\W\d_]{3}", cell.text):
                    span = doc.char_span(cell.start, cell.end, alignment_mode="expand")
                    if span is not None:
                        spans.append(span)
    return spans


GRADED = ("crs_grade", "icans_grade")


def _course_grades(doc: Doc, grid) -> list[Finding]:
    """The highest CRS and ICANS grades a table of one row per day gives in a grade column ("CRS grade": 1, 2, 3, 3,
    2), each with its first cell of that grade as evidence."""
    findings = []
    day_rows = _day_rows(grid)
    for c, head in enumerate(grid[0]):
        key = header_field(head.text) if head is not None and len(day_rows) >= 2 else None
        if key not in GRADED:
            continue
        cells = [row[c] for _, row in day_rows if c < len(row) and row[c] is not None and row[c] is not head]
        graded = [f for cell in cells for f in read_cell(key, head.text, cell, doc)]
        if graded:
            findings.append(max(graded, key=lambda f: (int(f.value), -f.start)))
    return findings


def lab_course(doc: Doc, document: Document, pe_days: list[int], patient: int = 1, single: bool = True,
               infused: date | None = None, told_within: frozenset[str] = frozenset()) -> list[Finding]:
    """Pre and post values from tables of markers by day (or by date, given the infusion's), given the days of the
    exchanges, and the highest CRS and ICANS grades such a table gives by day. A table whose caption names a patient,
    or whose rows carry a patient column, gives only that patient's values; any other lab table belongs to the
    article's lone patient, or to the patient in the middle of whose account it stands (``told_within``, table ids)."""
    findings: dict[str, Finding] = {}
    for table in document.tables:
        grid = table.grid()
        if len(grid) < 2:
            continue
        if _session_rows(table, patient) is not None and _markers_around_each_session(table):
            continue  # a table of the sessions, each with its values before and after: session_table reads it
        owner = _caption_patient(table)
        own_columns = _patient_columns(grid, table.header_rows, patient)
        if own_columns is not None:  # "Patient 1" over "D+1 | D+4 | D+7", "Patient 2" over ...: the patient's own
            if len(own_columns[0]) < 2:
                continue
            grid, owner = own_columns, patient
        if owner is not None and owner != patient:
            continue
        series = _long_series(doc, grid, patient)
        if series is None:
            if owner is None and not single and table.id not in told_within:
                continue
            series = _series(doc, grid, 1 if own_columns else _header_rows(table), infused)
            times = _heading_times(grid)
        else:
            times = {}
        for finding in _course_grades(doc, grid):
            findings.setdefault(finding.field, finding)
        days = {day for _, _, points in series for day, _ in points}
        said, own_notes = _day_statements([table.caption, *table.footnotes], days)
        said_citing, citing_notes = _day_statements(_citing_sentences(document, table), days)
        said_below, below = _day_statements(_paragraph_after(document, table), days)  # a day's statement, there
        # (of the sentences citing the table, only those naming a day: "fell for 48 hours after the second exchange"
        # tells of the course, not of when a sample was drawn)
        times = {**_exchange_day_statements(own_notes, pe_days), **said_below, **said_citing, **said, **times}
        if not pe_days and not times:
            continue
        # the table's own caption and footnotes (in a text document, the paragraph below it) date its samples over
        # a discussion citing it ("the largest fall in IL-6 came after the first exchange")
        above = _sampling_before(document, table)
        sampled = next(filter(None, map(_exchange_day_sampling, (own_notes, below, above, citing_notes))), None)
        after_on_pe_days, before_on_pe_days = sampled == "post", sampled == "pre"
        for marker, unit, points in series:
            # a day the marker was not measured on ("–") is passed over: the value nearest before or after counts
            points = [p for p in points if _marker_cell(doc, f"{marker}_pre", marker, unit, p[1], "lab_course")]
            before, after = _pre_post_points(points, times, pe_days, before_on_pe_days, after_on_pe_days)
            for name, chosen in ((f"{marker}_pre", before), (f"{marker}_post", after)):
                if chosen is None or name in findings:
                    continue
                found = _marker_cell(doc, name, marker, unit, chosen[1], "lab_course")
                if found is not None:
                    findings[name] = found
    return list(findings.values())


def _patient_columns(grid, heading_rows: int, patient: int) -> list[list] | None:
    """The first column and ``patient``'s columns of a table whose top heading row names a patient over each group
    of columns, with the heading row under it ("Patient 1" spanning "D+1 | D+4 | D+7"), from that row down; None for
    a table not set out so."""
    if heading_rows < 2:
        return None
    groups: dict[int, list[int]] = {}
    for c, (top, under) in enumerate(zip(grid[0], grid[heading_rows - 1])):
        who = patient_number(top.text) if c and top is not None and top is not under else None
        if who is not None:
            groups.setdefault(who, []).append(c)
    if len(groups) < 2:
        return None
    return [[row[0]] + [row[c] for c in groups.get(patient, [])] for row in grid[heading_rows - 1:]]


def _marker_cell(doc: Doc, name: str, marker: str, unit: str | None, cell: TableCell, how: str) -> Finding | None:
    """The value of field ``name`` a marker's cell gives in the registry's unit; none for a missing value or a
    bound below ("<10")."""
    number = number_in(cell.text, doc._.decimal_comma)
    if number is None or is_missing(cell.text) or re.match(r"^\s*[<≤]", cell.text):
        return None
    value = marker_value(number, unit, marker)
    return None if value is None else Finding(name, f"{value:g}", cell.start, cell.end, f"{CELL_EXTRACTOR}.{how}")


def _long_series(doc: Doc, grid, patient: int) -> list[tuple[str, str | None, list[tuple[int, TableCell]]]] | None:
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
        day = _row_day(when.text, bare=True)
        if day is not None:
            rows.append((day, row))
    series = []
    for c, cell in enumerate(header):
        marker = _marker_of(doc, cell) if cell is not None and c not in (patient_col, day_col) else None
        if marker:
            points = [(day, row[c]) for day, row in rows if row[c] is not None and row[c] is not cell]
            series.append((marker, header_unit(cell.text), sorted(points, key=lambda p: p[0])))
    return series


def _series(doc: Doc, grid, heading_rows: int = 1, infused: date | None = None
            ) -> list[tuple[str, str | None, list[tuple[int, TableCell]]]]:
    """(marker, unit as the header writes it or None, [(day, cell)]) for days across the header row or down the first
    column (or dates, counted from the infusion's); a column's unit may stand in a heading row under its marker
    ("Ferritin" over "(pmol/L)")."""
    header = grid[0]
    series = []
    day_columns = {c: _row_day(cell.text, False, infused) for c, cell in enumerate(header) if cell is not None}
    if sum(d is not None for d in day_columns.values()) >= 2:
        for row in grid[1:]:
            if row[0] is None:
                continue
            marker = _marker_of(doc, row[0])
            if marker:
                points = [(day_columns[c], row[c]) for c in range(1, len(row))
                          if day_columns.get(c) is not None and row[c] is not None and row[c] is not row[0]]
                series.append((marker, header_unit(row[0].text), sorted(points, key=lambda p: p[0])))
        return series
    day_rows = _day_rows(grid, infused)
    if len(day_rows) >= 2:
        for c, cell in enumerate(header):
            marker = _marker_of(doc, cell) if cell is not None else None
            if marker:
                points = [(day, row[c]) for day, row in day_rows if row[c] is not None]
                headings = (grid[r][c].text for r in range(heading_rows) if grid[r][c] is not None)
                heading = " ".join(dict.fromkeys(headings))
                series.append((marker, header_unit(heading), sorted(points, key=lambda p: p[0])))
    return series


# -- tables of markers before and after the exchanges -----------------------------------------------------------
# a row or column heading that places its values against the exchanges: "Before PE (day 5)", "After the third TPE",
# "Pre-PLEX", "Post-exchange"
TIME_HEADER = re.compile(rf"""
    ^\s*(?:(?P<pre>before|pre-?|prior\ to)|(?P<post>after|post-?|following))
    \s*(?:the\s+)?(?:\w+\s+){{0,2}}?(?:{EXCHANGE_NAME}|exchanges?|sessions?|procedures?)\b
    """, re.IGNORECASE | re.VERBOSE)


def _time_of(cell: TableCell | None) -> str | None:
    match = TIME_HEADER.match(cell.text) if cell is not None else None
    return None if match is None else ("pre" if match.group("pre") else "post")


def _before_after_series(doc: Doc, grid) -> list[tuple[str, str | None, dict[str, TableCell]]]:
    """(marker, unit, {"pre": cell, "post": cell}) from rows headed before/after the exchange and columns headed by
    markers, or the other way round. The first "before" heading is before the first exchange, the last "after"
    heading after the last one."""
    header = grid[0]
    series = []
    row_times = {r: _time_of(row[0]) for r, row in enumerate(grid) if r > 0}
    column_times = {c: _time_of(cell) for c, cell in enumerate(header) if c > 0}
    if any(row_times.values()):
        for c, cell in enumerate(header):
            marker = _marker_of(doc, cell) if cell is not None and c > 0 else None
            if marker:
                cells = [(row_times[r], grid[r][c]) for r in range(1, len(grid)) if row_times.get(r) and grid[r][c]]
                series.append((marker, header_unit(cell.text), _pre_post(cells)))
    elif any(column_times.values()):
        for row in grid[1:]:
            marker = _marker_of(doc, row[0]) if row[0] is not None else None
            if marker:
                cells = [(column_times[c], row[c]) for c in range(1, len(row)) if column_times.get(c) and row[c]]
                series.append((marker, header_unit(row[0].text), _pre_post(cells)))
    return series


def _pre_post(cells: list[tuple[str, TableCell]]) -> dict[str, TableCell]:
    pre = [cell for time, cell in cells if time == "pre"]
    post = [cell for time, cell in cells if time == "post"]
    return {**({"pre": pre[0]} if pre else {}), **({"post": post[-1]} if post else {})}


# a column of one patient's values at one time, in a table of several patients' markers: "Pt 1 pre", "Patient 2 -
# after TPE"
PATIENT_TIME_HEADER = re.compile(rf"""
    ^\s*(?:(?:pt|patient|case|p)\.?\s*\#?\s*)?(?P<label>\d{{1,2}}|(?-i:[A-H]))\s*[,:\-–]?\s*   # "Pt 1", "A"
    (?:(?P<pre>pre|before)|(?P<post>post|after))(?:[-\s]*(?:{EXCHANGE_NAME}|exchanges?|PE))?\s*$  # "pre", "-post"
    """, re.IGNORECASE | re.VERBOSE)

EXCHANGE_WORDS = re.compile(rf"\b(?:{EXCHANGE_NAME}|exchanges?)\b", re.IGNORECASE)


def _patient_time_series(doc: Doc, table: Table, grid, patient: int) -> list[tuple[str, str | None, dict[str, TableCell]]]:
    """(marker, unit, {"pre": cell, "post": cell}) of ``patient`` from a table of markers whose columns (or rows) are
    each a patient's before or after the exchanges ("Pt 1 pre | Pt 1 post | Pt 2 pre | Pt 2 post", rows "A-pre",
    "A-post", "B-pre"), where the caption or the headings name the exchange; [] for any other table."""
    flipped = [list(column) for column in zip(*grid)] if all(len(row) == len(grid[0]) for row in grid) else []
    for lines in (grid, flipped):  # times across the heading row, or down the first column
        if not lines:
            continue
        heading_rows = table.header_rows if lines is grid and table.header_rows >= 2 else 1
        heads = _patient_time_heads(lines, heading_rows)
        named = {who for who, _ in heads.values()}
        headings = (cell.text for line in lines[:heading_rows] for cell in line if cell is not None)
        if len(named) < 2 or not EXCHANGE_WORDS.search(" ".join([table.caption, *table.footnotes, *headings])):
            continue
        own = {c: time for c, (who, time) in heads.items() if who == patient}
        series = []
        for line in lines[heading_rows:]:
            marker = _marker_of(doc, line[0]) if line and line[0] is not None else None
            if marker:
                cells = [(time, line[c]) for c, time in own.items() if c < len(line) and line[c] is not None]
                series.append((marker, header_unit(line[0].text), _pre_post(cells)))
        return series
    return []


# the time heading under a patient's heading that spans its columns: "pre", "After TPE"
TIME_SUBHEADING = re.compile(rf"^\s*(?:(?P<pre>pre|before)|(?P<post>post|after))\b", re.IGNORECASE)


def _patient_time_heads(lines, heading_rows: int) -> dict[int, tuple[int, str]]:
    """Column -> (patient, "pre" or "post") from one heading per column ("Pt 1 pre") or from a patient's heading over
    its columns and a time heading under each ("Patient 1 (tisa-cel)" over "pre | post")."""
    if heading_rows == 1:
        return {c: (patient_number(m.group("label")), "pre" if m.group("pre") else "post")
                for c, cell in enumerate(lines[0]) if cell is not None and (m := PATIENT_TIME_HEADER.match(cell.text))}
    heads = {}
    for c, (group, sub) in enumerate(zip(lines[0], lines[heading_rows - 1])):
        who = patient_number(group.text) if group is not None and group is not sub else None
        time = TIME_SUBHEADING.match(sub.text) if sub is not None else None
        if who is not None and time:
            heads[c] = (who, "pre" if time.group("pre") else "post")
    return heads


def before_after_tables(doc: Doc, document: Document, patient: int = 1, single: bool = True) -> list[Finding]:
    """Marker values from tables set out as before and after the exchanges ("Before PE (day 5) | 15,600 | 9,870").
    A table whose caption names a patient gives only that patient's values; any other belongs to a lone patient,
    unless its columns name the patients ("Pt 1 pre | Pt 1 post | Pt 2 pre ...")."""
    findings: dict[str, Finding] = {}
    for table in document.tables:
        grid = table.grid()
        if len(grid) < 2:
            continue
        owner = _caption_patient(table)
        by_patient = _patient_time_series(doc, table, grid, patient)
        if not by_patient and (owner is not None and owner != patient or owner is None and not single):
            continue
        for marker, unit, cells in by_patient or _before_after_series(doc, grid):
            for when, cell in cells.items():
                name = f"{marker}_{when}"
                found = None if name in findings else _marker_cell(doc, name, marker, unit, cell, "before_after")
                if found is not None:
                    findings[name] = found
    return list(findings.values())
