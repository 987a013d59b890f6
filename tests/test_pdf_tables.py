"""Tables of PDF pages (pipeline.parsing.pdf_tables): small pages drawn here, one real journal table."""

from __future__ import annotations

import io
import json

import pdfplumber
import pytest

from pdf_bytes import pdf_bytes
from pipeline.parsing import parse_bytes
from pipeline.parsing.pdf_tables import page_tables

PAGE_HEIGHT = 792
PROSE = [
    "The patient was treated with tocilizumab and then with",
    "plasma exchange on the fourth day after the infusion of",
    "the cells, and the fever settled within two days after it.",
    "Her ferritin and interleukin levels fell in the same week.",
]


def one_page_pdf(texts=(), rules=(), verticals=(), size: float = 9, sideways: bool = False) -> bytes:
    """A 612 x 792 pt page in Helvetica. ``texts`` are (x, baseline y from the top, text); ``rules`` are
    (x0, x1, y) horizontal strokes and ``verticals`` (x, y0, y1) vertical ones, y from the top. ``sideways``
    sets texts and rules turned a quarter left (reading upwards), x and y then being those of the turned page."""
    operations = []
    for x, y, text in texts:
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        place = f"0 1 -1 0 {y} {x} Tm" if sideways else f"{x} {PAGE_HEIGHT - y} Td"
        operations.append(f"BT /F1 {size} Tf {place} ({escaped}) Tj ET")
    for x0, x1, y in rules:
        stroke = f"{y} {x0} m {y} {x1} l" if sideways else f"{x0} {PAGE_HEIGHT - y} m {x1} {PAGE_HEIGHT - y} l"
        operations.append(f"0.5 w {stroke} S")
    for x, y0, y1 in verticals:
        operations.append(f"0.5 w {x} {PAGE_HEIGHT - y0} m {x} {PAGE_HEIGHT - y1} l S")
    content = "\n".join(operations).encode("latin-1")
    return pdf_bytes([content], height=PAGE_HEIGHT)


def tables_of(data: bytes) -> list[dict]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return page_tables(pdf.pages[0])


def texts(table: dict) -> list[list[str]]:
    return [[cell["text"] for cell in row] for row in table["rows"]]


def row(y: float, *cells: tuple[float, str]):
    return [(x, y, text) for x, text in cells]


THREE_RULE_TABLE = [
    (72, 90, "Table 1. Laboratory values before and after exchange."),
    *row(112, (180, "Before"), (280, "After")),
    *row(122, (72, "Test"), (180, "exchange"), (280, "exchange")),
    *row(140, (72, "Ferritin (ng/mL)"), (180, "12,400"), (280, "3,100")),
    *row(154, (72, "IL-6 (pg/mL)"), (180, "5,000"), (280, "210")),
    *row(168, (72, "C-reactive protein"), (180, "19.6"), (280, "5.1")),
    *row(177, (72, "(mg/dL)")),
    *row(191, (72, "Fibrinogen (g/L)"), (180, "0.9"), (280, "1.8")),
]
THREE_RULES = [(72, 340, 97), (72, 340, 127), (72, 340, 196)]


def test_a_three_rule_table_has_its_caption_header_and_cells():
    [table] = tables_of(one_page_pdf(THREE_RULE_TABLE, THREE_RULES))
    assert (table["label"], table["caption"]) == ("Table 1", "Laboratory values before and after exchange.")
    assert texts(table) == [
        ["Test", "Before exchange", "After exchange"],  # a header cell set on two lines is one cell
        ["Ferritin (ng/mL)", "12,400", "3,100"],
        ["IL-6 (pg/mL)", "5,000", "210"],
        ["C-reactive protein (mg/dL)", "19.6", "5.1"],  # a cell wrapped closer than the rows are apart
        ["Fibrinogen (g/L)", "0.9", "1.8"],
    ]
    assert [cell["is_header"] for cell in table["rows"][0]] == [True] * 3
    assert not any(cell["is_header"] for row_ in table["rows"][1:] for cell in row_)
    assert [cell["col"] for cell in table["rows"][3]] == [0, 1, 2]
    x0, top, x1, bottom = table["bbox"]
    assert (x0, x1) == pytest.approx((72, 340)) and 97 < top < 112 and bottom == pytest.approx(196, abs=1)
    assert table["caption_bbox"][3] < top
    json.dumps(table)  # the reader sends it as JSON


def test_a_table_whose_rules_stop_below_its_header_runs_on_to_the_foot_of_the_page():
    page = [
        (72, 700, "Table 2. Sample characteristics"),
        *row(718, (72, "Characteristic"), (300, "n (%)")),
        *row(738, (72, "Female"), (300, "55 (56.1)")),
        *row(752, (72, "Employed"), (300, "54 (54.5)")),
        *row(766, (72, "Single parent"), (300, "6 (6.1)")),
    ]
    [table] = tables_of(one_page_pdf(page, [(72, 540, 707), (72, 540, 724)]))
    assert texts(table) == [["Characteristic", "n (%)"], ["Female", "55 (56.1)"], ["Employed", "54 (54.5)"],
                            ["Single parent", "6 (6.1)"]]
    assert [cell["is_header"] for cell in table["rows"][0]] == [True, True]


def test_a_table_set_sideways_is_read_turned_upright():
    [table] = tables_of(one_page_pdf(THREE_RULE_TABLE, THREE_RULES, sideways=True))
    assert table["label"] == "Table 1" and texts(table)[3] == ["C-reactive protein (mg/dL)", "19.6", "5.1"]
    assert len(table["rows"]) == 5
    x0, top, x1, bottom = table["bbox"]  # in page coordinates: the turned table's top is the page's left
    assert x0 > 97 and x1 == pytest.approx(196, abs=1) and (top, bottom) == pytest.approx((452, 720), abs=1)


def test_a_header_over_two_columns_spans_them():
    page = [
        (72, 90, "Table 3. Doses by day."),
        *row(110, (195, "Tocilizumab treatment")),
        *row(124, (72, "Patient"), (180, "Day 1"), (240, "Day 2"), (310, "Outcome")),
        *row(142, (72, "1"), (180, "8 mg/kg"), (240, "8 mg/kg"), (310, "alive")),
        *row(156, (72, "2"), (180, "4 mg/kg"), (240, "none"), (310, "died")),
    ]
    [table] = tables_of(one_page_pdf(page, [(72, 360, 97), (72, 360, 129), (72, 360, 162)]))
    assert table["rows"][0] == [{"text": "Tocilizumab treatment", "col": 1, "colspan": 2, "is_header": True}]
    assert texts(table)[1:] == [["Patient", "Day 1", "Day 2", "Outcome"], ["1", "8 mg/kg", "8 mg/kg", "alive"],
                                ["2", "4 mg/kg", "none", "died"]]
    assert all(cell["is_header"] for cell in table["rows"][1])


def test_a_head_set_in_two_pieces_on_its_line_is_one_cell():
    page = [
        (72, 90, "Table 5. Survival."),
        *row(110, (72, "Group"), (180, "P"), (192, "value")),
        *row(128, (72, "Early stage"), (180, "<0.0001")),
        *row(142, (72, "Late stage"), (180, "0.0412")),
    ]
    [table] = tables_of(one_page_pdf(page, [(72, 260, 97), (72, 260, 115), (72, 260, 148)]))
    assert texts(table) == [["Group", "P value"], ["Early stage", "<0.0001"], ["Late stage", "0.0412"]]


def test_a_table_without_rules_ends_where_the_prose_starts():
    page = [
        (72, 90, "Table 2. Cytokines by day."),
        *row(108, (72, "Day"), (150, "IL-6"), (230, "Ferritin")),
        *row(122, (72, "1"), (150, "5,000"), (230, "12,400")),
        *row(136, (72, "3"), (150, "210"), (230, "3,100")),
        *[(72, 154 + 12 * i, line) for i, line in enumerate(PROSE)],
    ]
    [table] = tables_of(one_page_pdf(page))
    assert table["label"] == "Table 2"
    assert texts(table) == [["Day", "IL-6", "Ferritin"], ["1", "5,000", "12,400"], ["3", "210", "3,100"]]
    assert table["bbox"][3] < 150


@pytest.mark.parametrize("rules", [[(72, 290, 97), (72, 290, 115), (72, 290, 148)], []],
                         ids=["three-rule", "rule-less"])
def test_a_table_in_one_column_leaves_the_other_column_alone(rules):
    right_column = [(320, 80 + 12 * i, PROSE[i % len(PROSE)][:44]) for i in range(16)]
    left_column = [(72, 50 + 12 * i, PROSE[i][:44]) for i in range(2)] + [
        (72, 172 + 12 * i, PROSE[i][:44]) for i in range(3)]
    page = [
        *left_column,
        (72, 90, "Table 4. Exchanges."),
        *row(110, (72, "Session"), (150, "Volume"), (220, "Fluid")),
        *row(128, (72, "1"), (150, "1.0 PV"), (220, "albumin")),
        *row(142, (72, "2"), (150, "1.5 PV"), (220, "plasma")),
        *right_column,
    ]
    [table] = tables_of(one_page_pdf(page, rules))
    assert texts(table) == [["Session", "Volume", "Fluid"], ["1", "1.0 PV", "albumin"], ["2", "1.5 PV", "plasma"]]
    assert table["bbox"][2] < 300


def test_a_boxed_grid_without_caption_is_read_by_its_lines():
    cells = [["Drug", "Dose"], ["Tocilizumab", "8 mg/kg"], ["Dexamethasone", "10 mg"]]
    page = [(x + 4, 114 + 20 * r, text) for r, line in enumerate(cells) for x, text in zip((72, 200), line)]
    rules = [(72, 320, 100 + 20 * r) for r in range(4)]
    [table] = tables_of(one_page_pdf(page, rules, [(x, 100, 160) for x in (72, 196, 320)]))
    assert texts(table) == cells and table["label"] == ""
    assert [cell["is_header"] for cell in table["rows"][0]] == [True, True]


def test_a_paragraph_that_starts_with_table_n_is_no_caption():
    page = [(72, 90 + 12 * i, line) for i, line in enumerate(
        ["The fever settled after the second exchange and the", "Table 2 shows the interleukin levels of every day.",
         *PROSE])]
    assert tables_of(one_page_pdf(page, [(72, 340, 170), (72, 340, 200)])) == []


def test_a_table_becomes_the_documents_table_with_its_cells_in_the_text():
    [document] = parse_bytes(one_page_pdf(THREE_RULE_TABLE, THREE_RULES), "x.pdf")
    [model] = document.tables
    assert (model.label, model.caption) == ("Table 1", "Laboratory values before and after exchange.")
    assert (model.n_rows, model.n_cols, model.header_rows) == (5, 3, 1)
    assert [c.text for c in model.grid()[3]] == ["C-reactive protein (mg/dL)", "19.6", "5.1"]
    assert all(document.text[c.start:c.end] == c.text for c in model.cells)
    assert "Table 1 Laboratory values before and after exchange." in document.text


@pytest.mark.shared
def test_a_real_journal_table_is_read_cell_by_cell(shared):
    """Hindawi's three-rule tables, two of them in the left column of a two-column page."""
    with pdfplumber.open(shared / "data/pdf-real/07_cr-pseudohypoaldo-neonate/article.pdf") as pdf:
        first, second = page_tables(pdf.pages[1])
    assert (first["label"], first["caption"]) == ("Table 1", "Effect of peritoneal dialysis on blood chemistry.")
    assert texts(first)[0] == ["Investigation", "Before peritoneal dialysis", "After peritoneal dialysis"]
    assert texts(first)[1] == ["Serum sodium", "122 mmol/L", "134 mmol/L (135–144)"]
    assert texts(first)[-1] == ["Serum creatinine", "64 umol/L", "71 umol/L (50–74)"]
    assert texts(second) == [["Investigation", "Results (normal range)"],
                             ["Serum renin activity", "28.6 ng/mL/h (0.1–3.1)"],
                             ["Serum aldosterone", "145 ng/dL (3–16)"], ["Serum cortisol", "87.9 ug/dL (2.3–11.9)"]]
    assert first["bbox"][2] < 300 and second["bbox"][2] < 300  # the right column's text stays out


@pytest.mark.shared
def test_a_real_pdfs_tables_reach_the_document_and_leave_the_text_flow(shared):
    from pipeline.parsing import parse_file

    [document] = parse_file(shared / "data/pdf-real/07_cr-pseudohypoaldo-neonate/article.pdf")
    assert [t.label for t in document.tables] == ["Table 1", "Table 2"]
    assert document.text.count("Serum renin activity") == 1  # as a cell, not also as a paragraph
    renin = next(c for c in document.tables[1].cells if c.text == "Serum renin activity")
    assert document.paragraph_at(renin.start).kind == "table-row"


def test_a_row_head_centred_on_two_rows_spans_them_as_a_rowspan():
    page = [
        (72, 90, "Table 2. Ferritin before and after the exchanges."),
        *row(110, (72, "Patient"), (180, "Day"), (260, "Ferritin (ng/mL)")),
        *row(128, (180, "Day 1"), (260, "12,400")),
        *row(135, (72, "Patient 1")),  # centred on the two rows beside it
        *row(142, (180, "Day 5"), (260, "3,100")),
        *row(156, (180, "Day 1"), (260, "8,900")),
        *row(163, (72, "Patient 2")),
        *row(170, (180, "Day 5"), (260, "2,050")),
    ]
    [table] = tables_of(one_page_pdf(page, [(72, 340, 97), (72, 340, 115), (72, 340, 176)]))
    assert texts(table) == [["Patient", "Day", "Ferritin (ng/mL)"], ["Patient 1", "Day 1", "12,400"],
                            ["Day 5", "3,100"], ["Patient 2", "Day 1", "8,900"], ["Day 5", "2,050"]]
    assert [(cell["col"], cell.get("rowspan", 1)) for cell in table["rows"][1]] == [(0, 2), (1, 1), (2, 1)]
    assert [cell["col"] for cell in table["rows"][2]] == [1, 2]


def test_a_row_head_spanning_two_rows_reaches_the_document_model_as_jats_rowspan_does():
    page = [
        (72, 90, "Table 2. Ferritin before and after the exchanges."),
        *row(110, (72, "Patient"), (180, "Day"), (260, "Ferritin (ng/mL)")),
        *row(128, (180, "Day 1"), (260, "12,400")),
        *row(135, (72, "Patient 1")),
        *row(142, (180, "Day 5"), (260, "3,100")),
        *row(156, (72, "Patient 2"), (180, "Day 1"), (260, "8,900")),
    ]
    [document] = parse_bytes(one_page_pdf(page, [(72, 340, 97), (72, 340, 115), (72, 340, 162)]), "span.pdf")
    grid = [[cell.text if cell else "" for cell in line] for line in document.tables[0].grid()]
    assert grid[1:] == [["Patient 1", "Day 1", "12,400"], ["Patient 1", "Day 5", "3,100"],
                        ["Patient 2", "Day 1", "8,900"]]


PANELS = [
    (72, 90, "Table 2. Cytokines of the two patients before and after plasma exchange."),
    *row(108, (72, "Before plasma exchange, day 3")),  # a panel's title, over the columns
    *row(120, (72, "Patient"), (180, "IL-6 (pg/mL)"), (280, "Ferritin (ng/mL)")),
    *row(136, (72, "1"), (180, "5,000"), (280, "12,400")),
    *row(150, (72, "2"), (180, "3,200"), (280, "9,800")),
    *row(166, (72, "After plasma exchange, day 5")),
    *row(178, (72, "Patient"), (180, "IL-6 (pg/mL)"), (280, "Ferritin (ng/mL)")),
    *row(196, (72, "1"), (180, "210"), (280, "3,100")),
    *row(210, (72, "2"), (180, "150"), (280, "2,050")),
]


def test_two_sub_tables_under_one_caption_are_two_tables_each_with_its_heads():
    before, after = tables_of(one_page_pdf(PANELS, [(72, 360, 98), (72, 360, 125), (72, 360, 183), (72, 360, 216)]))
    assert (before["label"], after["label"]) == ("Table 2", "Table 2")
    assert before["caption"] == after["caption"]
    heads = ["Patient", "IL-6 (pg/mL)", "Ferritin (ng/mL)"]
    assert texts(before) == [["Before plasma exchange, day 3"], heads, ["1", "5,000", "12,400"],
                             ["2", "3,200", "9,800"]]
    assert texts(after) == [["After plasma exchange, day 5"], heads, ["1", "210", "3,100"], ["2", "150", "2,050"]]
    assert all(cell["is_header"] for table in (before, after) for row_ in table["rows"][:2] for cell in row_)
    assert not any(cell["is_header"] for table in (before, after) for row_ in table["rows"][2:] for cell in row_)


def test_sub_tables_repeating_their_heads_without_rules_between_are_split_too():
    before, after = tables_of(one_page_pdf(PANELS, [(72, 360, 98), (72, 360, 125), (72, 360, 216)]))
    assert texts(before)[-1] == ["2", "3,200", "9,800"] and texts(after)[0] == ["After plasma exchange, day 5"]
    [document] = parse_bytes(one_page_pdf(PANELS, [(72, 360, 98), (72, 360, 125), (72, 360, 216)]), "panels.pdf")
    assert [(t.label, t.header_rows) for t in document.tables] == [("Table 2", 2), ("Table 2", 2)]


def test_a_table_of_long_cells_side_by_side_runs_on_below_its_ruled_heads():
    page = [
        (72, 90, "Table 7. Recruitment sites and what came of them."),
        *row(112, (72, "Site"), (290, "Observations")),
        *row(130, (72, "Local adult education and training provider"),
             (290, "Total recruited = 0. There was no way of knowing who saw")),
        *row(139, (290, "the leaflets, which were soon lost among others.")),
        *row(153, (72, "Post Office data entry centre and its staff"),
             (290, "Total recruited = 1. The information was passed on by")),
        *row(162, (290, "the managers to every employee in team briefings.")),
    ]
    [table] = tables_of(one_page_pdf(page, [(72, 540, 100), (72, 540, 117)]))
    assert texts(table) == [
        ["Site", "Observations"],
        ["Local adult education and training provider",
         "Total recruited = 0. There was no way of knowing who saw the leaflets, which were soon lost among others."],
        ["Post Office data entry centre and its staff",
         "Total recruited = 1. The information was passed on by the managers to every employee in team briefings."]]


def test_panels_a_and_b_with_heads_of_their_own_are_two_tables():
    page = [
        (72, 90, "Table 3. The patient before and during plasma exchange."),
        *row(110, (72, "(a) Clinical course")),
        *row(122, (72, "Day"), (180, "Temperature"), (280, "Vasopressor")),
        *row(140, (72, "+1"), (180, "39.4"), (280, "0")),
        *row(154, (72, "+3"), (180, "40.1"), (280, "2")),
        *row(170, (72, "(b) Laboratory values")),
        *row(182, (72, "Marker"), (180, "Before"), (280, "After")),
        *row(200, (72, "IL-6 (pg/mL)"), (180, "5,000"), (280, "210")),
        *row(214, (72, "Ferritin (ng/mL)"), (180, "12,400"), (280, "3,100")),
    ]
    first, second = tables_of(one_page_pdf(page, [(72, 360, 100), (72, 360, 127), (72, 360, 187), (72, 360, 220)]))
    assert texts(first) == [["(a) Clinical course"], ["Day", "Temperature", "Vasopressor"], ["+1", "39.4", "0"],
                            ["+3", "40.1", "2"]]
    assert texts(second) == [["(b) Laboratory values"], ["Marker", "Before", "After"], ["IL-6 (pg/mL)", "5,000", "210"],
                             ["Ferritin (ng/mL)", "12,400", "3,100"]]
