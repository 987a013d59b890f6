"""Tables typed in plain text (tabs, Markdown pipes, columns aligned with spaces) become the document's tables."""

import pytest

from extractors.cases import extract_document
from pipeline.parsing import parse_bytes

FRONT = "Plasma exchange after CAR-T cells\n\nAna Silva, Tom Berg\n\nCase presentation\n\n"


def parse(text: str):
    return parse_bytes((FRONT + text).encode(), "case.txt")[0]


def rows_of(table) -> list[list[str | None]]:
    return [[cell.text if cell else None for cell in row] for row in table.grid()]


def assert_cells_quote_the_text(document) -> None:
    for table in document.tables:
        for cell in table.cells:
            assert document.text[cell.start:cell.end] == cell.text
            assert document.cell_at(cell.start) == (table, cell)


def assert_table_text_is_no_prose(document) -> None:
    """Rows, caption and notes are blocks of their own: no prose paragraph or sentence reaches into the table."""
    for table in document.tables:
        for paragraph in document.paragraphs:
            if paragraph.kind in ("paragraph", "list-item"):
                assert paragraph.end <= table.start or paragraph.start >= table.end
        for sentence in document.sentences:
            inside = table.start <= sentence.start < table.end
            assert not inside or document.paragraph_at(sentence.start).kind == "table-row"


def test_a_tab_separated_table_under_its_caption_with_notes_in_and_below_its_block():
    document = parse(
        "The markers are given in Table 1.\n\n"
        "Table 1. Serial markers (ferritin in µg/L)\n"
        "Day\tIL-6 (pg/mL)\tFerritin (µg/L)\n"
        "+2\t865\t2,880\n"
        "+4\t\t18,900\n"
        "a Sampled before the exchange\n"
        "of that day.\n\n"
        "NA, not available; TPE, therapeutic plasma exchange.\n\n"
        "Ferritin fell by more than 80%.")
    [table] = document.tables
    assert (table.label, table.caption) == ("Table 1", "Serial markers (ferritin in µg/L)")
    assert rows_of(table) == [["Day", "IL-6 (pg/mL)", "Ferritin (µg/L)"], ["+2", "865", "2,880"],
                              ["+4", None, "18,900"]]
    assert table.header_rows == 1
    assert table.footnotes == ["a Sampled before the exchange of that day.",
                               "NA, not available; TPE, therapeutic plasma exchange."]
    kinds = {document.quote(p.start, p.end): p.kind for p in document.paragraphs}
    assert kinds["Table 1 Serial markers (ferritin in µg/L)"] == "caption"
    assert kinds["a Sampled before the exchange of that day."] == "footnote"
    assert kinds["The markers are given in Table 1."] == kinds["Ferritin fell by more than 80%."] == "paragraph"
    assert_cells_quote_the_text(document)
    assert_table_text_is_no_prose(document)


def test_a_markdown_table_with_its_caption_in_the_block_above():
    document = parse(
        "Laboratory values were drawn daily.\n"
        "**Table 2:** Patients treated\n\n"
        "| Patient | Age | Product |\n"
        "|:--------|----:|---------|\n"
        "| **Pt 1** | 45 | axi-cel \\| tisa-cel |\n"
        "| Pt 2 | 60 |\n"
        "Abbreviations: Pt, patient.\n")
    [table] = document.tables
    assert (table.label, table.caption) == ("Table 2", "Patients treated")
    assert rows_of(table) == [["Patient", "Age", "Product"], ["Pt 1", "45", "axi-cel | tisa-cel"], ["Pt 2", "60", None]]
    assert table.footnotes == ["Abbreviations: Pt, patient."]
    assert "Laboratory values were drawn daily." in document.text
    assert "**" not in document.text and "|:-" not in document.text
    assert_cells_quote_the_text(document)
    assert_table_text_is_no_prose(document)


def test_columns_parted_by_pipes_without_a_delimiter_row():
    document = parse(
        "Investigations\n\n"
        "Date   | IL-6 (ng/L) | Ferritin (ng/mL) | CRP (mg/L)\n"
        "D+1    | 2,300       | 5,400            | 118\n"
        "D+3*   | 15,600      | 48,300           | 262\n"
        "D+8**  | 1,040       | 9,850            | 58\n"
        "* before TPE #1.  ** the morning after TPE #4.\n")
    [table] = document.tables
    assert rows_of(table) == [["Date", "IL-6 (ng/L)", "Ferritin (ng/mL)", "CRP (mg/L)"], ["D+1", "2,300", "5,400", "118"],
                              ["D+3*", "15,600", "48,300", "262"], ["D+8**", "1,040", "9,850", "58"]]
    assert table.footnotes == ["* before TPE #1. ** the morning after TPE #4."]
    assert_cells_quote_the_text(document)
    assert_table_text_is_no_prose(document)


ALIGNED = (
    "Table 3: Laboratory values by day\n"
    "Day   IL-6 pre (pg/mL)   Ferritin    CRP\n"
    "----  ----------------   --------   ----\n"
    "+2                 865      2,880    6.8\n"
    "+4               3,960     18,900   15.2\n"
    "+5                                  21.7\n"
    "* Drawn at 06:00.  NA, not done.\n\n"
    "CRP peaked on day +5.")


def test_columns_aligned_with_spaces_and_a_rule_under_the_header():
    """The note under the table has two spaces in it too: the run is read without it."""
    document = parse(ALIGNED)
    [table] = document.tables
    assert (table.label, table.caption, table.footnotes) == ("Table 3", "Laboratory values by day",
                                                             ["* Drawn at 06:00. NA, not done."])
    assert rows_of(table) == [["Day", "IL-6 pre (pg/mL)", "Ferritin", "CRP"], ["+2", "865", "2,880", "6.8"],
                              ["+4", "3,960", "18,900", "15.2"], ["+5", None, None, "21.7"]]
    assert table.header_rows == 1
    assert_cells_quote_the_text(document)
    assert_table_text_is_no_prose(document)


def test_a_group_heading_over_two_aligned_columns_spans_them():
    document = parse(
        "        IL-6 (pg/mL)    Ferritin (ng/mL)\n"
        "Day     pre     post    pre       post\n"
        "======  ======  ======  ========  ======\n"
        "3       5,000   210     9,800     3,100\n"
        "4       4,100   190     8,700     2,900\n")
    [table] = document.tables
    grid = table.grid()
    assert table.header_rows == 2
    assert grid[0][1] is grid[0][2] and grid[0][1].text == "IL-6 (pg/mL)" and grid[0][1].colspan == 2
    assert grid[0][3] is grid[0][4] and grid[0][3].text == "Ferritin (ng/mL)"
    assert rows_of(table)[1:] == [["Day", "pre", "post", "pre", "post"], ["3", "5,000", "210", "9,800", "3,100"],
                                  ["4", "4,100", "190", "8,700", "2,900"]]
    assert_cells_quote_the_text(document)


@pytest.mark.parametrize("prose", [
    # a tab inside a sentence, tabs in two lines, and lines indented with a tab
    "She had fever\t(39.4 °C) on day 2 and was given tocilizumab.\nPlasma exchange followed on day 4.",
    "She was febrile\ton day 1\nand hypotensive\ton day 2.",
    "\tShe was admitted on day 3.\n\tOn day 4 she was intubated.\n\tTPE was started on day 5.",
    # numbers spaced out in a sentence, on one line and on several
    "IL-6 was   5,000   pg/mL on day 3 and   210   pg/mL after the exchange.\nShe recovered.",
    "On day 3 IL-6 was  5,000 pg/mL and rising\nOn day 4 CRP was   19.6 mg/dL and falling",
    "Day 3:  IL-6  5,000 pg/mL, ferritin  9,800 ng/mL and the first exchange\n"
    "was done the same evening; after three  sessions IL-6 was 210 pg/mL\n"
    "and ferritin  3,100 ng/mL, and she was  extubated on day 9 of her stay.",
    # typewritten prose, two spaces after each full stop
    "CRS began on day 1.  She was given tocilizumab on day 2 and\n"
    "dexamethasone on day 3.  Plasma exchange followed on day 4,\n"
    "with two further sessions.  IL-6 fell from 5,000 to 210 pg/mL\n"
    "and ferritin from 9,800 to 3,100 ng/mL.  She recovered fully.",
    # two spaces after each full stop that line up, or nearly
    "Day 1: fever.  Tocilizumab given.\nDay 2: worse.  Dexamethasone given.\nDay 3: better.  Plasma exchange done.",
    "CRS began on day one.  She was then given tocilizumab twice and dexamethasone at a high dose.\n"
    "It was of grade three.  On day four a first plasma exchange was done through a femoral line.\n"
    "It was severe at once.  Two more sessions followed on the next two days and she recovered well.",
    # lists set out in columns
    "1.  Fever\n2.  Hypotension\n3.  Hypoxia",
    "Age:        45 years\nSex:        female\nDiagnosis:  DLBCL",
    # a running head with a pipe, and a rule under a line of prose
    "Clinical Note | Critical Care Nephrology\nA 60-year-old man received CAR-T cells | and TPE.",
])
def test_prose_is_never_a_table(prose):
    document = parse(prose + "\n\nDiscussion\n\nOthers have reported this.")
    assert document.tables == []
    assert not any(p.kind == "table-row" for p in document.paragraphs)


def test_a_pdf_table_given_as_rows_of_cell_texts_keeps_its_header_row():
    from pipeline.parsing.plaintext import blocks_to_document

    rows = [["Day", "IL-6"], ["3", None], ["5", "210"]]
    [document] = blocks_to_document(["A title", "Some text.", rows], "x.pdf", "pdf")
    [table] = document.tables
    assert rows_of(table) == [["Day", "IL-6"], ["3", None], ["5", "210"]] and table.header_rows == 1
    assert_cells_quote_the_text(document)


def test_a_sentence_about_a_table_is_no_caption():
    document = parse("Table 1 shows the markers.\n\nDay\tIL-6\tCRP\n3\t5,000\t19.6\n5\t210\t5.1")
    [table] = document.tables
    assert (table.label, table.caption) == ("", "")
    assert any(document.quote(p.start, p.end) == "Table 1 shows the markers." and p.kind == "paragraph"
               for p in document.paragraphs)


TWO_PATIENTS = (
    "Patient 1, a 45-year-old woman with diffuse large B-cell lymphoma, received axicabtagene ciloleucel and "
    "developed grade 3 CRS on day 2. She underwent two sessions of therapeutic plasma exchange (TPE) from day 4.\n\n"
    "Patient 2, a 60-year-old man with multiple myeloma, received ciltacabtagene autoleucel and developed grade 4 "
    "CRS on day 3. He underwent three sessions of TPE from day 5.\n\n"
    "Laboratory data\n\n"
    "{table}\n\n"
    "Discussion\n\n"
    "Both patients recovered.")
MARKERS = [("Marker", "Patient 1", "Patient 2"), ("IL-6 pre-TPE (pg/mL)", "5,420", "3,870"),
           ("IL-6 post-TPE (pg/mL)", "380", "1,120"), ("Ferritin pre-TPE (ng/mL)", "11,900", "62,400"),
           ("CRP pre-TPE (mg/dL)", "19.6", "27.3")]
LAYOUTS = {
    "tabs": "Table 1. Inflammatory markers around TPE\n" + "\n".join("\t".join(row) for row in MARKERS),
    "pipes": "Table 1. Inflammatory markers around TPE\n\n" + "\n".join(
        f"| {' | '.join(row)} |" + ("\n|---|---|---|" if r == 0 else "") for r, row in enumerate(MARKERS)),
    "spaces": "Table 1. Inflammatory markers around TPE\n" + "\n".join(
        f"{row[0]:<26}{row[1]:>9}{row[2]:>12}" for row in MARKERS),
}


def tab_stops(cells: tuple[str, ...], stops: tuple[int, ...] = (32, 48)) -> str:
    """A row as a word processor exports it: each cell followed by as many tabs as reach the next tab stop (every
    8 characters), so that rows differ in their number of tabs."""
    line = ""
    for cell, stop in zip(cells, (*stops, None)):
        line += cell
        while stop is not None and len(line.expandtabs()) < stop:
            line += "\t"
    return line


LAYOUTS["tab stops"] = "Table 1. Inflammatory markers around TPE\n" + "\n".join(tab_stops(row) for row in MARKERS)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_column_per_patient_table_in_a_text_document_gives_each_patient_its_values(layout):
    document = parse(TWO_PATIENTS.format(table=LAYOUTS[layout]))
    extraction = extract_document(document)
    values = {case.number: case.values for case in extraction.cases}
    fields = ("il6_pre", "il6_post", "ferritin_pre", "crp_pre")
    assert {n: {k: v.get(k) for k in fields} for n, v in values.items()} == {
        1: {"il6_pre": "5420", "il6_post": "380", "ferritin_pre": "11900", "crp_pre": "196"},
        2: {"il6_pre": "3870", "il6_post": "1120", "ferritin_pre": "62400", "crp_pre": "273"}}
    first = next(case for case in extraction.cases if case.number == 1)
    [finding] = first.evidence["il6_pre"]
    assert document.text[finding._.quote_start:finding._.quote_end] == "5,420"


def test_a_timeline_in_tab_separated_columns_is_prose_one_entry_a_line_and_a_table_of_values_stays_one():
    timeline = "Timeline\nDay\tEvent\nDay 0\tInfusion\nDay 2\tFever; CRS grade 1\nDay 5\tPlasma exchange 1"
    values = "Table 1. Markers\nDay\tIL-6 (pg/mL)\nDay 4\t900\nDay 6\t150"
    document = parse(f"{timeline}\n\n{values}\n\nShe recovered.")
    assert [t.label for t in document.tables] == ["Table 1"]
    entries = [document.quote(p.start, p.end) for p in document.paragraphs if p.kind == "list-item"]
    assert entries == ["Day: Event", "Day 0: Infusion", "Day 2: Fever; CRS grade 1", "Day 5: Plasma exchange 1"]


def test_a_brief_report_with_a_bare_patients_heading_a_tab_stop_table_and_an_exchange_for_another_disease():
    """"Patients" heads the cases' paragraph; the exchange is named "PEX"; the table's glossary defines "MP" with a
    note after it; the third patient's exchange, for thrombotic microangiopathy, is out of scope."""
    rows = [("Characteristic", "Case A", "Case B", "Case C"), ("Age/sex", "38/F", "64/M", "71/M"),
            ("PEX sessions", "2", "4", "6"), ("Steroids", "Dex", "Dex, MP", "nil"),
            ("IL-6 pre/post (pg/mL)", "3,150/240", "7,900/880", "n.d.")]
    table = "\n".join(tab_stops(row, (24, 40, 56)) for row in rows)
    document = parse_bytes((
        "Three patients given PEX after CAR-T cells\n\nAna Silva, Tom Berg\n\n"
        "Patients\nCase A was a 38-year-old woman with DLBCL who received axicabtagene ciloleucel and had grade 3 CRS "
        "from day 2. PEX was performed on days 4 and 5.\n\n"
        "Case B was a 64-year-old man with DLBCL who received tisagenlecleucel and had grade 4 CRS. He underwent PEX "
        "on four consecutive days from day 3.\n\n"
        "Case C was a 71-year-old man with myeloma treated with idecabtagene vicleucel. On day 30 a thrombotic "
        "microangiopathy was diagnosed and he received six sessions of PEX. His PEX was not given for CRS or ICANS."
        "\n\nTable 1. The three patients\n" + table + "\n"
        "Abbreviations: Dex, dexamethasone; MP, methylprednisolone (1 g daily for three days); n.d., not done.\n\n"
        "Discussion\n\nBoth patients treated for CRS recovered.").encode(), "brief.txt")[0]
    assert [section.title for section in document.sections if section.title] == ["Patients", "Discussion"]
    [parsed] = document.tables
    assert rows_of(parsed)[2] == ["PEX sessions", "2", "4", "6"]
    extraction = extract_document(document)
    cases = {case.number: case for case in extraction.cases}
    assert {n: case.in_scope for n, case in cases.items()} == {1: True, 2: True, 3: False}
    assert cases[2].values["corticosteroids"] == "dexamethasone;methylprednisolone"
    assert (cases[1].values["il6_pre"], cases[2].values["il6_post"]) == ("3150", "880")


def test_the_drugs_of_a_day_table_s_events_join_those_the_account_names():
    document = parse(
        "A 59-year-old man with mantle cell lymphoma received brexucabtagene autoleucel and had grade 4 CRS from day "
        "3. Methylprednisolone 1 g daily was given from day 4.\n\n"
        "Table 1. Course by day\n"
        "Day\tIL-6 (pg/mL)\tTreatment\n"
        "+4\t9,350\tTocilizumab 8 mg/kg; methylprednisolone 1 g\n"
        "+5\t18,700\tTPE 1 (FFP); siltuximab 11 mg/kg\n"
        "+6\t8,100\tTPE 2\n"
        "+8\t3,900\tHydrocortisone 50 mg q6h for shock; etoposide considered, not given\n\n"
        "He died on day 11.")
    [case] = extract_document(document).cases
    assert case.values["corticosteroids"] == "hydrocortisone;methylprednisolone"
    assert case.values["other_drugs"] == "siltuximab"
    [hydrocortisone] = [f for f in case.evidence["corticosteroids"] if f._.value == "hydrocortisone"]
    assert document.text[hydrocortisone.start_char:hydrocortisone.end_char] == "Hydrocortisone"


def test_a_value_told_as_approximate_yields_to_the_table_s_exact_one():
    document = parse(
        "A 57-year-old man with DLBCL received lisocabtagene maraleucel and had grade 4 CRS. TPE was performed on days "
        "5, 6 and 7. With ferritin approaching 25,000 ng/mL on day 5, IEC-HS was suspected and then excluded.\n\n"
        "Table 2. Markers by day\n"
        "Marker\tDay 4\tDay 5\tDay 8\n"
        "Ferritin (ng/mL)\t11,800\t24,600\t9,300\n"
        "IL-6 (pg/mL)\t6,900\t12,400\t530\n"
        "a Sampled in the morning before that day's plasma exchange.\n\n"
        "He recovered.")
    [case] = extract_document(document).cases
    assert (case.values["ferritin_pre"], case.values["ferritin_post"]) == ("24600", "9300")


def test_a_fluid_cell_with_its_ratio_names_both_fluids():
    document = parse(TWO_PATIENTS.format(table="Table 1. Exchanges\nPatient\tTPE sessions\tReplacement fluid\n"
                                               "1\t2\tFFP/albumin 50:50\n2\t3\t5% albumin"))
    assert [case.values.get("pe_replacement") for case in extract_document(document).cases] == ["FFP+albumin", "albumin"]


def test_a_day_table_s_exchange_column_gives_the_exchange_days():
    document = parse(
        "A 47-year-old man with DLBCL received tisagenlecleucel and had grade 4 CRS. Two sessions of TPE were done.\n\n"
        "Table 1. Daily markers (samples at 06:00, before any exchange that day)\n"
        "Day\tIL-6 (pg/mL)\tTPE\n"
        "D+2\t1,980\t–\n"
        "D+3\t5,400\tSession 1\n"
        "D+4\t2,410\tSession 2\n"
        "D+5\t640\t–\n"
        "D+6\t310\t–\n\n"
        "He recovered.")
    [case] = extract_document(document).cases
    assert (case.values["il6_pre"], case.values["il6_post"]) == ("5400", "640")


def test_a_lab_table_by_date_is_read_against_the_infusion_date():
    document = parse(
        "Patient K., 34 years old, female, with B-ALL, received anti-CD19 CAR-T cells on 07.03.2024 and had grade 4 "
        "CRS. The first session of plasmapheresis was performed on 12.03.2024, and three sessions were performed on "
        "consecutive days.\n\n"
        "Table 1. Laboratory indicators (dates as dd.mm)\n"
        "Indicator\t09.03\t12.03*\t13.03\t14.03\t15.03\n"
        "IL-6, pg/ml\t312\t1 846\t640\t395\t212\n"
        "CRP, mg/dl\t8,1\t12,4\t7,6\t4,8\t3,1\n"
        "* Blood sampled in the morning before the first session of plasmapheresis.\n\n"
        "She recovered.")
    [case] = extract_document(document).cases
    assert (case.values["il6_pre"], case.values["il6_post"]) == ("1846", "212")
    assert (case.values["crp_pre"], case.values["crp_post"]) == ("124", "31")


def test_bare_sessions_volume_and_onset_headings_of_a_series_table():
    document = parse(TWO_PATIENTS.format(table=(
        "Table 1. Recipients who underwent plasma exchange\n"
        "Pt  Age/sex  Onset (day)  Sessions  Vol/session (L)  Replacement\n"
        "1   45/F     2            2         3.2              FFP\n"
        "2   60/M     3            3         3.6              Albumin 5%")))
    values = [case.values for case in extract_document(document).cases]
    assert [(v["crs_onset_day"], v["pe_sessions"], v["pe_volume_ml"]) for v in values] == [
        ("2", "2", "3200"), ("3", "3", "3600")]


def test_a_row_per_patient_lettered_alone_with_counts_in_words_and_values_before_and_after():
    """Under a "Patient" column a letter alone names the patient ("A" is Patient A); "two" sessions is 2; "4,870 >
    520" is the value before the first exchange and after the last one (a bound stands before its number)."""
    document = parse("Two patients were treated with TPE.\n\nTable 1. Patients who received TPE\n\n"
                     "Patient  Age/Sex  Sessions  IL-6 pg/mL    CRP mg/L\n"
                     "A        19/F     two       4,870 > 520   > 265\n"
                     "B        52/M     four      1,340 > 160   148 > 31\n")
    first, second = extract_document(document).cases
    assert (first.label, first.values.get("pe_sessions"), first.values.get("il6_pre"), first.values.get("il6_post")) \
        == ("Patient A", "2", "4870", "520")
    assert "crp_pre" not in first.values and "crp_post" not in first.values
    assert (second.label, second.values.get("pe_sessions"), second.values.get("crp_pre"), second.values.get("crp_post")) \
        == ("Patient B", "4", "148", "31")


def test_a_laboratory_table_whose_day_headings_wrap_over_lines():
    """"D+2" over "(before" over "1st PE)": the heading's lines together date the day's samples against the
    exchanges."""
    document = parse("A 27-year-old woman with B-ALL received tisagenlecleucel and had grade 4 CRS. Plasma exchange began on "
                     "D+2 and was repeated on D+3 and D+4; a fourth was given on D+6.\n\n"
                     "Table 2. Laboratory values by day after CAR-T infusion\n"
                     "Marker              D0       D+1      D+2        D+3      D+5      D+7\n"
                     "(unit)                                (before                      (after\n"
                     "                                      1st PE)                      last PE)\n"
                     "IL-6 (pg/mL)        12       2 460    9 870      3 140    4 210    188\n"
                     "CRP (mg/L)          6        96       212        170      88       34\n")
    case = extract_document(document).cases[0]
    assert (case.values.get("il6_pre"), case.values.get("il6_post")) == ("9870", "188")
    assert (case.values.get("crp_pre"), case.values.get("crp_post")) == ("212", "34")


def test_a_laboratory_table_by_the_hour_in_an_account_counting_hours():
    """Columns "H77", "H104" are hours after the infusion: the sample an hour before the first exchange (H78) is
    before it, and one after the last (H126) after it; a value the prose tells as still rising yields to the later
    one the table gives."""
    document = parse("A 61-year-old man with myeloma received ciltacabtagene autoleucel. All times are hours after the "
                     "infusion (H0). He was well until H20, when his temperature rose to 38.9 °C; this was the onset of "
                     "CRS. By H58 it was grade 4. His IL-6 at H60 was 2,950 pg/mL, and it kept rising. The first plasma "
                     "exchange began at H78. The second and third exchanges were performed at H102 and H126.\n\n"
                     "Table 1. Laboratory course\n\n"
                     "Marker            H60      H77      H104     H128     H150\n"
                     "IL-6 (pg/mL)      2,950    4,620    1,010    410      220\n"
                     "CRP (mg/L)        201      254      167      88       49\n")
    case = extract_document(document).cases[0]
    assert (case.values.get("crs_onset_day"), case.values.get("pe_start_day")) == ("0", "3")
    assert (case.values.get("il6_pre"), case.values.get("il6_post")) == ("4620", "410")
    assert (case.values.get("crp_pre"), case.values.get("crp_post")) == ("254", "88")


def test_a_column_per_patient_counting_doses_in_words():
    """"one dose" under a column of tocilizumab is 1; "two" TPE sessions is 2."""
    document = parse("Two patients were treated with TPE.\n\nTable 1. Course of the two patients\n\n"
                     "Item                 Patient A        Patient B\n"
                     "Age / sex            55 / M           19 / F\n"
                     "Max CRS grade        3                4\n"
                     "TPE sessions         two              four\n"
                     "Tocilizumab          one dose         two doses\n")
    first, second = extract_document(document).cases
    assert (first.values.get("pe_sessions"), first.values.get("tocilizumab_doses")) == ("2", "1")
    assert (second.values.get("pe_sessions"), second.values.get("tocilizumab_doses")) == ("4", "2")


def test_a_box_drawn_around_dated_lines_gives_a_line_each():
    """A "Key dates" box ("+----+" rules, "|" borders): each line is an entry of its own, its borders left out."""
    document = parse("A 36-year-old woman with DLBCL received axicabtagene ciloleucel.\n\n"
                     "+------------------------------------------+\n"
                     "| Key dates                                |\n"
                     "| PID 1: fever 39.2 C, CRS grade 1         |\n"
                     "| PID 4: noradrenaline started; CRS grade 3 |\n"
                     "| PID 5: first plasma exchange             |\n"
                     "+------------------------------------------+\n")
    items = [document.text[p.start:p.end] for p in document.paragraphs if p.kind == "list-item"]
    assert items == ["Key dates", "PID 1: fever 39.2 C, CRS grade 1", "PID 4: noradrenaline started; CRS grade 3",
                     "PID 5: first plasma exchange"]
    case = extract_document(document).cases[0]
    assert (case.values.get("crs_onset_day"), case.values.get("pe_start_day"), case.values.get("crs_grade")) == \
        ("1", "5", "3")


def test_an_account_told_day_by_day_under_day_headings():
    """A sentence naming no day of its own has the day its "### Day +4" heading names (the heading its evidence); a
    baseline value at the infusion yields to the table's value before the first exchange; another report's figures,
    which "we know of", are not the patient's."""
    document = parse_bytes((
        "# Ten days in the unit\n\nAna Silva, Tom Berg\n\n## Why we write\n\n"
        "We know of roughly twenty patients treated so; in the largest report, by Xiao and colleagues, the patient "
        "received 3,000 mL per session and IL-6 fell from 7.9 to 0.26 ng/mL.\n\n"
        "## The patient\n\nOur patient was a 47-year-old woman with follicular lymphoma who received "
        "axicabtagene ciloleucel.\n\n"
        "### Day 0\n\nThe infusion was uneventful. Baseline IL-6 was 6 pg/mL and CRP 4 mg/L.\n\n"
        "### Day +1\n\nShe developed fever of 39.8 °C in the afternoon, grade 1 CRS.\n\n"
        "### Day +3\n\nShe was intubated: grade 4 CRS.\n\n"
        "### Day +4\n\nWe performed the first plasma exchange in the afternoon: one plasma volume, 3.2 litres, "
        "replaced with fresh frozen plasma.\n\n"
        "### Day +5\n\nThe second and last plasma exchange was done with the same volume.\n\n"
        "## Laboratory course\n\nTable 2. Laboratory values by day\n\n"
        "| Marker | Day +3 | Day +4 | Day +6 |\n|---|---|---|---|\n"
        "| IL-6 (pg/mL) | 3,980 | 7,250 | 410 |\n| CRP (mg/L) | 251 | 302 | 88 |\n\n"
        "The day +4 sample was taken before the first exchange.\n").encode(), "days.md")[0]
    case = extract_document(document).cases[0]
    assert {name: case.values.get(name) for name in ("crs_onset_day", "pe_start_day", "pe_volume_ml", "il6_pre",
                                                     "il6_post", "crp_pre", "crp_post")} == \
        {"crs_onset_day": "1", "pe_start_day": "4", "pe_volume_ml": "3200", "il6_pre": "7250", "il6_post": "410",
         "crp_pre": "302", "crp_post": "88"}
    assert [document.text[s.start_char:s.end_char] for s in case.evidence["pe_start_day"]] == ["Day +4"]


def test_consult_notes_headed_by_their_day_in_brackets():
    """"Consult note 1 (D+3)" standing alone heads a section of the account, not a line of the background above."""
    document = parse_bytes((
        "Apheresis consult notes\n\nAna Silva, Tom Berg\n\nBackground\n\nOur consult service keeps its notes in the "
        "SOAP form. A pooled analysis reported a median of three sessions.\n\n"
        "Consult note 1 (D+3)\n\nS: Requested for a 47-year-old man who received axicabtagene ciloleucel on D+0. "
        "Fever started on D+1.\nO: CRS grade 3.\nP: Therapeutic plasma exchange from tomorrow.\n\n"
        "Consult note 2 (D+6)\n\nS: Two exchanges completed (D+4 and D+5).\n").encode(), "notes.txt")[0]
    assert [s.title for s in document.sections if s.title.startswith("Consult")] == \
        ["Consult note 1 (D+3)", "Consult note 2 (D+6)"]
    case = extract_document(document).cases[0]
    assert (case.values.get("age_years"), case.values.get("pe_sessions"), case.values.get("crs_onset_day")) == \
        ("47", "2", "1")


def test_patients_headed_by_their_initials():
    """"Patient S.V." and "Patient K.P." head the accounts of two patients, numbered in the order they are told."""
    document = parse_bytes((
        "Two children\n\nAna Silva, Tom Berg\n\nBackground\n\nCRS follows CAR-T infusion in most patients.\n\n"
        "Patient S.V.\nA nine-year-old girl with B-ALL received tisagenlecleucel and had grade 4 CRS. She had two "
        "plasma exchanges, on D+5 and D+6.\n\n"
        "Patient K.P.\nA 12-year-old boy with B-ALL received tisagenlecleucel and had grade 3 CRS. He had one plasma "
        "exchange on D+4.\n\nDiscussion\n\nBoth children recovered.\n").encode(), "two.txt")[0]
    cases = extract_document(document).cases
    assert [(c.label, c.values.get("age_years"), c.values.get("pe_sessions")) for c in cases] == \
        [("Patient S.V.", "9", "2"), ("Patient K.P.", "12", "1")]


def test_the_paragraph_above_a_lab_table_tells_when_its_samples_were_drawn():
    """"Samples were drawn at 06:00 each day, before any exchange of that day" above the table: the first exchange
    day's sample is the one before the exchanges."""
    document = parse("A 16-year-old girl with B-ALL received tisagenlecleucel and had grade 3 CRS. Three exchanges were "
                     "done, on days 5, 6 and 7.\n\nSamples were drawn at 06:00 each day, before any exchange of that "
                     "day.\n\nTable 1. Laboratory values by day after infusion\n\n"
                     "                       D+3      D+4      D+5      D+6      D+7      D+8\n"
                     "IL-6 (ng/L)           1 840    6 920    9 650    2 780    1 350      880\n"
                     "CRP (mg/L)              118      224      276      142       88       61\n")
    case = extract_document(document).cases[0]
    assert (case.values.get("il6_pre"), case.values.get("il6_post")) == ("9650", "880")
    assert (case.values.get("crp_pre"), case.values.get("crp_post")) == ("276", "61")


def test_a_timeline_aligned_in_columns_with_entries_over_two_lines_is_one_row_an_entry():
    document = parse(
        "Course\n\n"
        "Day     Event                                             Treatment\n"
        "D0      Cells infused                                     -\n"
        "D+2     Fever 39.0 C; CRS grade 1                         Paracetamol\n"
        "D+4     Hypotension on two pressors; CRS grade 3 with     Tocilizumab dose 2; plasma\n"
        "        IL-6 7,400 pg/mL drawn before the exchange        exchange 1 (1.0 plasma volume)\n"
        "D+5     Off pressors; IL-6 520 pg/mL                      Plasma exchange 2\n"
        "D+9     CRS resolved                                      -\n\n"
        "She went home on day 15.")
    assert len(document.tables) == 1
    rows = rows_of(document.tables[0])
    assert rows[0] == ["Day", "Event", "Treatment"]
    assert rows[3] == ["D+4", "Hypotension on two pressors; CRS grade 3 with IL-6 7,400 pg/mL drawn before the exchange",
                       "Tocilizumab dose 2; plasma exchange 1 (1.0 plasma volume)"]
    assert [row[0] for row in rows[1:]] == ["D0", "D+2", "D+4", "D+5", "D+9"]
    assert_cells_quote_the_text(document)
    assert_table_text_is_no_prose(document)


def test_the_rows_of_a_timeline_table_tell_the_one_patients_course():
    extraction = extract_document(parse(
        "A 44-year-old man with mantle cell lymphoma received brexucabtagene autoleucel (H0 = start of the "
        "infusion).\n\n"
        "Time    Clinical event                              Laboratory                  Intervention\n"
        "H0      Infusion, uneventful                        -                           -\n"
        "H+28    First fever 39.2 C; onset of CRS            CRP 71 mg/L                 Paracetamol, cultures\n"
        "H+52    Two vasopressors; CRS grade 4 (ASTCT)       IL-6 8,200 pg/mL            Methylprednisolone 1 g\n"
        "H+58    Plasma exchange, first session             -                           1 plasma volume, FFP\n"
        "H+80    Plasma exchange, second session            -                           Same prescription\n"
        "H+84    Vasopressors weaned                         IL-6 690 pg/mL              -\n"
        "H+170   Afebrile for 48 h; CRS resolved             CRP 12 mg/L                 -\n\n"
        "He is alive and in complete remission at six months."))
    case = extraction.cases[0]
    assert {name: case.values.get(name, "") for name in (
        "crs_grade", "crs_onset_day", "pe_sessions", "pe_plasma_volumes", "pe_replacement", "il6_pre", "il6_post",
        "corticosteroids", "crs_resolved")} == {
        "crs_grade": "4", "crs_onset_day": "1", "pe_sessions": "2", "pe_plasma_volumes": "1", "pe_replacement": "FFP",
        "il6_pre": "8200", "il6_post": "690", "corticosteroids": "methylprednisolone", "crs_resolved": "yes"}
    # the evidence of a value read from a row is its cell
    text = extraction.document.text
    span = case.evidence["il6_pre"][0]
    assert text[span._.quote_start:span._.quote_end] == "IL-6 8,200 pg/mL"
    assert extraction.document.cell_at(span._.quote_start) is not None


def test_an_exchange_counted_among_its_sessions_was_held():
    extraction = extract_document(parse(
        "A 58-year-old woman with myeloma received ciltacabtagene autoleucel and developed grade 3 CRS.\n\n"
        "Date          Event\n"
        "02/05/2024    Infusion of the cells\n"
        "04/05/2024    Fever; CRS grade 1\n"
        "06/05/2024    CRS grade 3; tocilizumab and dexamethasone\n"
        "07/05/2024    First plasma exchange, 2.5 L, 5% albumin\n"
        "08/05/2024    Second plasma exchange, same prescription\n"
        "15/05/2024    CRS resolved\n"))
    case = extraction.cases[0]
    assert (case.in_scope, case.values.get("pe_sessions"), case.values.get("pe_volume_ml"),
            case.values.get("pe_replacement")) == (True, "2", "2500", "albumin")
