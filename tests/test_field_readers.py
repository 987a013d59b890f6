"""The field readers of extractors/fields/ on short texts and on table cells: each field group's prose rule and cell
reader, the same value from a sentence and from a cell, and the patient context the rules are given."""

import re
from datetime import date

import pytest

from extractors.cases import extract_document
from extractors.evidence import sentences
from extractors.fields import disease, drugs, outcome, toxicity
from extractors.fields.inputs import PatientContext
from extractors.nlp import process
from pipeline.parsing import parse_bytes

NO_CONTEXT = PatientContext()


def document_of(text: str, name: str = "case.txt"):
    return parse_bytes(text.encode(), name)[0]


def sentences_of(text: str):
    return sentences(process(document_of(text)))


def values(findings) -> dict[str, str]:
    """Field -> value, a list's values joined as in the case table."""
    found: dict[str, list[str]] = {}
    for finding in findings:
        found.setdefault(finding.field, []).append(finding.value)
    return {field: ";".join(items) for field, items in found.items()}


# -- the patient's context is an argument of the rules ------------------------------------------------------------
def test_a_date_is_counted_from_the_infusion_date_the_rule_is_given():
    text = "She received axicabtagene ciloleucel. She developed CRS on 14 March 2021 with fever."
    onset = {infused: values(toxicity.crs_onset(sentences_of(text), PatientContext(infusion_date=infused)))
             for infused in (date(2021, 3, 12), date(2021, 3, 10), None)}
    assert onset == {date(2021, 3, 12): {"crs_onset_day": "2"}, date(2021, 3, 10): {"crs_onset_day": "4"}, None: {}}


def test_each_patient_of_an_article_counts_dates_from_their_own_infusion():
    extraction = extract_document(document_of(
        "Plasma exchange after CAR-T cells\n\nAna Silva\n\n"
        "Patient 1\n\nA 58-year-old man with myeloma was infused with idecabtagene vicleucel on 3 March 2021. "
        "He developed grade 3 CRS on 5 March 2021. TPE was initiated on 7 March 2021.\n\n"
        "Patient 2\n\nA 41-year-old woman with DLBCL was infused with axi-cel on 10 April 2021. "
        "She developed grade 4 CRS on 13 April 2021. TPE was initiated on 17 April 2021.\n\n"))
    assert [(c.values.get("crs_onset_day"), c.values.get("pe_start_day")) for c in extraction.cases] == [
        ("2", "4"), ("3", "7")]


# -- prose rules on the phrasings they must tell apart --------------------------------------------------------------
def read_prose(rule, text: str) -> dict[str, str]:
    return values(rule(sentences_of(text), NO_CONTEXT))


@pytest.mark.parametrize("text, expected", [
    # a grade is not carried across ";" nor to a syndrome said to be absent
    ("CRS onset D+2, max G3; no ICANS.", {"crs_grade": "3", "icans_grade": "0"}),
    ("His CRS began on day 2 and reached grade 3 on day 4; ICANS followed on day 6.", {"crs_grade": "3"}),
    # a grade written against its syndrome holds though a negation cue elsewhere in the sentence reaches it
    ("ICE score was 2 on day ten, with no seizures on EEG, so ICANS grade 3.", {"icans_grade": "3"}),
    # a bare grade in a terse note's later clause grades the one syndrome the sentence opens with
    ("CRS from D+2 (fever 39.0 °C); G3 on D+4 (hypotension).", {"crs_grade": "3"}),
    ("CRS on day 1; grade 2 by day 3.", {"crs_grade": "2"}),
    ("CRS on day 1; grade 3 anaemia needed transfusion.", {}),  # a grade of something else
    ("No CRS; G2 on D+5.", {}),
])
def test_a_grade_attaches_to_the_syndrome_of_its_clause(text, expected):
    assert {**read_prose(toxicity.crs_grade, text), **read_prose(toxicity.icans, text)} == expected


@pytest.mark.parametrize("text, expected", [
    ("She received axi-cel. CRS G2 from D+1, resolved after a single dose.", {"crs_onset_day": "1"}),
    ("She received axi-cel. CRS: G1, onset D1, resolved D4.", {"crs_onset_day": "1"}),
    ("She received axi-cel. On day +1 she became febrile, and on day +3 she needed vasopressors.",
     {"crs_onset_day": "1"}),
    # days of the end of fever or CRS date no onset
    ("She received axi-cel. The fever settled on day +8, and the CRS had resolved by day +9.", {}),
    ("She received axi-cel. From day +7 she was free of fever and the CRS was regarded as resolved.", {}),
])
def test_an_onset_day_is_the_day_of_an_onset_clause(text, expected):
    assert read_prose(toxicity.crs_onset, text) == expected


@pytest.mark.parametrize("text, expected", [
    ("She received a third dose of tocilizumab on day 4 and a fourth on day 5 (four doses in all).", "4"),
    ("CRS resolved after a single TCZ dose.", "1"),
    ("She received tocilizumab in two occasions and methylprednisolone.", "2"),
    ("Tocilizumab 8 mg/kg was given on day +1, for a total of three.", "3"),
])
def test_tocilizumab_doses(text, expected):
    assert read_prose(drugs.tocilizumab, text) == {"tocilizumab_doses": expected}


@pytest.mark.parametrize("text", [
    "Grade 4 CRS developed on day 2 and did not respond to tocilizumab and dexamethasone.",
    "The syndrome hadn't settled with tocilizumab by day 4.",
])
def test_a_drug_that_did_not_work_was_given(text):
    """"did not respond to tocilizumab": given, without the effect hoped for; not "no tocilizumab" (0 doses)."""
    assert read_prose(drugs.tocilizumab, text) == {}
    assert read_prose(drugs.tocilizumab, "Tocilizumab was not given.") == {"tocilizumab_doses": "0"}


@pytest.mark.parametrize("text, expected", [
    ("He died of multiorgan failure on D+12 with CRS unresolved.", "no"),
    ("CRS was relieved on D+8.", "yes"),
])
def test_crs_resolution_words(text, expected):
    assert read_prose(outcome.crs_resolved, text) == {"crs_resolved": expected}


@pytest.mark.parametrize("text, expected", [
    ("He was treated with axicabtagene ciloleucel in 2020. After relapse he was included in a phase I study of an "
     "autologous CD22-directed CAR-T cell product. Plasma exchange was performed on day 4.",
     {"car_t_product": "investigational", "car_t_target": "CD22"}),
    ("He relapsed after tisagenlecleucel and received lisocabtagene maraleucel. Plasma exchange was performed on day 4.",
     {"car_t_product": "lisocabtagene maraleucel", "car_t_target": "CD19"}),
    ("He received axicabtagene ciloleucel, a CD19-directed product. Plasma exchange was performed on day 4.",
     {"car_t_product": "axicabtagene ciloleucel", "car_t_target": "CD19"}),
    # alternatives in one sentence are no sequence: the first named stands, as for one product
    ("He was one of the adults given axicabtagene ciloleucel or lisocabtagene maraleucel at our centre. Plasma "
     "exchange was performed on day 4.", {"car_t_product": "axicabtagene ciloleucel", "car_t_target": "CD19"}),
])
def test_the_product_is_the_one_infused_last_before_the_exchange(text, expected):
    assert read_prose(disease.car_t, text) == expected


# -- every field is read from prose and from cells, registered in one place --------------------------------------
def test_every_scored_field_has_a_prose_reader_and_a_cell_reader_or_says_why_not():
    from extractors.fields import CELL_READERS, READ_ONE_WAY, RULES
    from pipeline.schema import MARKER_BY_ID, SCORED_FIELDS

    by_prose = {name for fields in RULES.values() for name in fields}
    by_cell = {key for key in CELL_READERS if key in SCORED_FIELDS} | {
        name for key in CELL_READERS if key in MARKER_BY_ID for name in (MARKER_BY_ID[key].pre, MARKER_BY_ID[key].post)}
    assert by_prose <= set(SCORED_FIELDS) and by_cell <= set(SCORED_FIELDS)
    for name in SCORED_FIELDS:
        if name in READ_ONE_WAY:
            assert READ_ONE_WAY[name].strip() and not {name} & by_prose & by_cell, name
        else:
            assert name in by_prose and name in by_cell, name
    assert "crs_grading" in READ_ONE_WAY


def test_every_column_a_header_can_name_has_a_cell_reader():
    from extractors.fields import CELL_READERS
    from extractors.table_rules import PATIENT, header_rules

    assert {rule.field for rule in header_rules()} - {PATIENT} == set(CELL_READERS)


RICH_ACCOUNT = (
    "A 34-year-old woman with relapsed diffuse large B-cell lymphoma received axicabtagene ciloleucel (Yescarta). "
    "On day +1 she developed fever, and cytokine release syndrome (CRS) progressed to grade IV (ASTCT) on day 3. "
    "She received tocilizumab (TCZ) 8 mg/kg twice, dexamethasone and anakinra. IL-6 was 7.9 ng/mL and CRP 21.5 mg/dL. "
    "Therapeutic plasma exchange (TPE) was started on day 4. She underwent three sessions of TPE, each exchanging "
    "1.5 plasma volumes (2,800 mL) with 5% albumin. After the third TPE, IL-6 fell to 0.26 ng/mL and CRP to 3.8 mg/dL. "
    "HLH was not diagnosed. She also had CRRT. There was no ICANS. CRS resolved on day 9 and she was discharged in "
    "complete remission.")


def test_each_prose_rule_gives_only_the_fields_it_is_registered_with():
    from extractors.fields import RULES

    account = sentences_of(RICH_ACCOUNT)
    given = set()
    for rule, fields in RULES.items():
        found = {finding.field for finding in rule(account, NO_CONTEXT)}
        assert found <= set(fields), (rule.__name__, found - set(fields))
        given |= found
    assert len(given) >= 20, given


# -- cells ---------------------------------------------------------------------------------------------------------
def read(header: str, text: str) -> dict[str, str]:
    """What a cell reads under ``header`` (as a column's header names its key), the cell's text its own document."""
    from extractors.fields import read_cell
    from extractors.nlp import build_nlp
    from extractors.table_rules import header_field
    from pipeline.document.model import TableCell

    key = header_field(header)
    assert key is not None, header
    return values(read_cell(key, header, TableCell(row=1, col=1, text=text, start=0, end=len(text)), build_nlp()(text)))


@pytest.mark.parametrize("header, text, expected", [
    ("Age (years)", "54", {"age_years": "54"}),
    ("Age", "30 mo", {"age_years": "2.5"}),
    ("Age (months)", "30", {"age_years": "2.5"}),
    ("Age (years)", "130", {}),  # beyond the registry's bounds, as in prose
    ("Sex", "Female", {"sex": "F"}),
    ("Sex", "M", {"sex": "M"}),
    ("Age (y)/Sex", "19/F", {"age_years": "19", "sex": "F"}),
    ("Age/sex", "30 mo/M", {"age_years": "2.5", "sex": "M"}),
])
def test_demographic_cells(header, text, expected):
    assert read(header, text) == expected


@pytest.mark.parametrize("header, text, expected", [
    ("Diagnosis", "DLBCL", {"diagnosis": "DLBCL"}),
    ("Product", "Kymriah", {"car_t_product": "tisagenlecleucel", "car_t_target": "CD19"}),
    ("CAR-T product", "Cilta-cel", {"car_t_product": "ciltacabtagene autoleucel", "car_t_target": "BCMA"}),
    ("CAR-T product", "CD19 CAR (academic)", {"car_t_product": "investigational", "car_t_target": "CD19"}),
    ("Target antigen", "CD22", {"car_t_target": "CD22"}),
])
def test_disease_and_product_cells(header, text, expected):
    assert read(header, text) == expected


@pytest.mark.parametrize("header, text, expected", [
    ("CRS grade", "IV", {"crs_grade": "4"}),
    ("CRS grade", "3", {"crs_grade": "3"}),
    ("CRS grade", "0", {}),  # CRS grades start at 1
    ("ICANS (max)", "None", {"icans_grade": "0"}),
    ("ICANS grade", "0", {"icans_grade": "0"}),
    ("HLH/MAS", "absent", {"hlh": "no"}),
    ("CRS onset (day)", "D+3", {"crs_onset_day": "3"}),
    ("CRS onset (day)", "—", {}),
])
def test_toxicity_cells(header, text, expected):
    assert read(header, text) == expected


@pytest.mark.parametrize("header, text, expected", [
    ("TPE sessions (n)", "3", {"pe_sessions": "3"}),
    ("TPE sessions (n)", "0", {"pe_sessions": "0"}),
    ("TPE sessions (n)", "45", {}),  # beyond the registry's bounds, as in prose
    ("Day of first TPE", "5", {"pe_start_day": "5"}),
    ("TPE volume (L)", "2.8", {"pe_volume_ml": "2800"}),
    ("Exchange volume per session (mL)", "2,100", {"pe_volume_ml": "2100"}),
    ("Volume exchanged (mL)", "3.2 L", {"pe_volume_ml": "3200"}),  # the unit the cell writes
    ("Volume per TPE", "1.5 PV", {"pe_plasma_volumes": "1.5"}),  # plasma volumes, not millilitres
    ("Plasma volumes per session", "1.0", {"pe_plasma_volumes": "1"}),
    ("Volume per session", "1.2 PV (3,300 mL)", {"pe_plasma_volumes": "1.2", "pe_volume_ml": "3300"}),  # both
    ("Plasma volumes exchanged", "1.5 (4.1 L)", {"pe_plasma_volumes": "1.5", "pe_volume_ml": "4100"}),
    ("Number of TPE", "×3", {"pe_sessions": "3"}),  # a count written as times
    ("Replacement fluid", "5% HAS", {"pe_replacement": "albumin"}),
    ("Replacement fluid", "FFP + 5% albumin", {"pe_replacement": "FFP+albumin"}),
    ("Replacement fluid", "Albumin/FFP (1:1)", {"pe_replacement": "FFP+albumin"}),  # "Albumin/FFP" is one token
    ("Other extracorporeal therapy", "CRRT", {"other_purification": "crrt"}),
])
def test_plasma_exchange_cells(header, text, expected):
    assert read(header, text) == expected


@pytest.mark.parametrize("header, text, expected", [
    ("IL-6 pre/post (pg/mL)", "6,840/512", {"il6_pre": "6840", "il6_post": "512"}),
    ("IL-6 before → after (ng/mL)", "7.9 → 0.26", {"il6_pre": "7900", "il6_post": "260"}),
    ("IL-6 pre/post (pg/mL)", "8,120/NA", {"il6_pre": "8120"}),
    ("CRP pre-TPE (mg/dL)", "21.5", {"crp_pre": "215"}),
    ("Ferritin post-TPE (µg/L)", "4,450", {"ferritin_post": "4450"}),
    ("Ferritin, peak (ng/mL)", "27 600", {"ferritin_pre": "27600"}),
    ("CRP, mg/dL (pre → post)", "29.1 → 8.8", {"crp_pre": "291", "crp_post": "88"}),  # the unit after a comma
    ("IL-6, ng/mL (pre/post)", "4.1/0.3", {"il6_pre": "4100", "il6_post": "300"}),  # "(pre/post)" is no unit
])
def test_marker_cells_in_the_registry_units(header, text, expected):
    assert read(header, text) == expected


def test_one_marker_conversion():
    from extractors.fields.labs import marker_value

    assert marker_value(7.9, "ng/mL", "il6") == pytest.approx(7900)
    assert marker_value(21.5, "mg/dL", "crp") == pytest.approx(215)
    assert marker_value(4450, "µg/L", "ferritin") == pytest.approx(4450)
    assert marker_value(512, None, "il6") == 512  # already in the registry's unit
    assert marker_value(3, "mL", "crp") is None and marker_value(3, "(peak)", "il6") is None
    assert marker_value(46080, "pmol/L", "ferritin") == pytest.approx(20507, rel=1e-3)  # 2.247 pmol/L to 1 µg/L
    assert marker_value(100, "pmol/L", "il6") is None  # a marker with no molar mass is not read in moles


def test_every_sample_time_wording_example_reads_as_its_own_time():
    from extractors.table_rules import sample_time, time_rules

    for rule in time_rules():
        assert sample_time(rule.example)[0] == rule.value, rule


@pytest.mark.parametrize("text, expected", [
    ("D+5 sampled before the first exchange", ("pre", 0)),
    ("Day 4 (pre-TPE)", ("pre", 0)),
    ("drawn between the first and second sessions", ("between", 0)),
    ("before TPE 3", ("between", 0)),
    ("after first TPE", ("post", 1)),
    ("on the morning after the second exchange", ("post", 2)),
    ("post PLEX 2", ("post", 2)),
    ("after the last procedure", ("post", 1000)),
    ("post-PEX", ("post", 999)),
    ("tocilizumab given", None),
    ("fever onset", None),
])
def test_when_a_sample_was_drawn_against_the_exchanges(text, expected):
    from extractors.table_rules import sample_time

    assert sample_time(text) == expected


def _parallel(text: str) -> tuple[list[tuple[str, float]], int]:
    from extractors.fields.labs import _parallel_lists

    listed, ranges, covered = _parallel_lists(sentences_of(text)[0])
    assert not ranges
    return [(marker, value) for marker, value, _, _ in listed], len(covered)


def test_a_list_of_analytes_with_values_from_and_to_gives_each_its_range():
    from extractors.fields.labs import _parallel_lists

    text = "IL-6 and ferritin fell from 4,210 pg/mL and 5,630 ng/mL to 356 pg/mL and 2,480 ng/mL, respectively."
    listed, ranges, covered = _parallel_lists(sentences_of(text)[0])
    assert listed == [] and len(covered) == 1
    assert [(marker, first, second, rising) for marker, first, second, _, _, rising in ranges] == [
        ("il6", 4210, 356, False), ("ferritin", 5630, 2480, False)]


@pytest.mark.parametrize("text, expected", [
    ("Before treatment, IL-6 was 900 pg/mL; after the second treatment it was 90 pg/mL.", ["pre", "post"]),
    ("Prior to the first session IL-6 was 900 pg/mL; following the last session it was 90 pg/mL.", ["pre", "post"]),
    # a treatment that is named is no exchange
    ("Before treatment with tocilizumab, IL-6 was 900 pg/mL; after treatment it was 2,000 pg/mL.", [None, None]),
    ("Before treatment, IL-6 was 900 pg/mL and it was 90 pg/mL later.", [None, None]),  # no clause after
])
def test_a_sentence_setting_a_clause_before_against_one_after(text, expected):
    from extractors.fields.labs import _contrast_time

    sentence = sentences_of(text)[0]
    values = [m.end() for m in re.finditer(r"pg/mL", sentence.text)]
    assert [_contrast_time(sentence, sentence.start_char + at) for at in values] == expected


@pytest.mark.parametrize("text, expected", [
    # a list of analytes, then as many values, in order; a unit written once serves the list
    ("IL-6, IL-10 and ferritin were 5,600 pg/mL, 240 pg/mL and 9,100 ng/mL.",
     [("il6", 5600), ("il10", 240), ("ferritin", 9100)]),
    ("IFN-γ and IL-6 measured 1,250 and 7,800 pg/mL.", [("ifng", 1250), ("il6", 7800)]),
    # an analyte that is no marker keeps its place in the order
    ("IL-6, LDH and CRP were 3,100 pg/mL, 900 U/L and 150 mg/L.", [("il6", 3100), ("crp", 150)]),
    # a clause naming none takes, in order, the analytes named before it
    ("IL-6 was 900 pg/mL and CRP 80 mg/L; afterwards they were 100 pg/mL and 10 mg/L respectively.",
     [("il6", 100), ("crp", 10)]),
])
def test_parallel_lists_pair_analytes_and_values_by_order(text, expected):
    assert _parallel(text)[0] == expected


@pytest.mark.parametrize("text", [
    "IL-6, IL-10 and ferritin were 5,600 pg/mL and 9,100 ng/mL.",  # a value short
    "IL-6 and ferritin were 5,600 mL and 9,100 ng/mL.",  # a value in no unit of its marker
    "IL-6 was 900 pg/mL and CRP 80 mg/L; afterwards they were 100 pg/mL, 20 pg/mL and 10 mg/L respectively.",
])
def test_lists_that_do_not_pair_give_nothing_and_keep_their_values_from_other_rules(text):
    assert _parallel(text) == ([], 1)


@pytest.mark.parametrize("text, expected", [
    ("Ferritin was 3 960 µg/L before the plasmapheresis; the following morning it was 2 410 µg/L.", [False, True]),
    ("IL-6 was 900 pg/mL before the exchange, and 24 hours later it was 90 pg/mL.", [False, True]),
    # no value told before the exchange in a clause before it
    ("IL-6 was 900 pg/mL on admission; the following morning it was 1,200 pg/mL.", [False, False]),
    ("IL-6 was 900 pg/mL before the exchange and 90 pg/mL the following morning.", [False, False]),  # no clause
])
def test_a_clause_opening_on_a_later_time_after_one_before_the_exchange(text, expected):
    from extractors.fields.labs import _later_clause

    sentence = sentences_of(text)[0]
    values = [m.end() for m in re.finditer(r"[µp]g/[mL]L?", sentence.text)]
    assert [_later_clause(sentence, sentence.start_char + at) for at in values] == expected


def test_a_day_in_the_next_clause_is_not_the_value_s_own():
    from extractors.fields.labs import _day_of

    patient = PatientContext()
    own = sentences_of("IL-6 had fallen to 2 960 ng/L on the morning of day 7.")[0]
    assert _day_of(own, own.start_char + own.text.index("ng/L") + 4, patient) == 7
    next_clause = sentences_of("It had fallen to 2 960 ng/L, and on the morning of day 7 it was 640 ng/L.")[0]
    assert _day_of(next_clause, next_clause.start_char + next_clause.text.index("ng/L") + 4, patient) is None


@pytest.mark.parametrize("text, expected", [
    ("Three sessions were performed on days 4, 5 and 6.", [4, 5, 6]),
    # a session planned and not held, and a laboratory value's day, are no exchange's days
    ("Two sessions were performed on days 4 and 5. A third session was planned for day 6 but was cancelled.", [4, 5]),
    ("TPE was performed on days 4 and 5. The CRP was 286 mg/L before the first exchange and 71 mg/L on day 7.", [4, 5]),
    ("The session planned for day 8 was postponed, and the third and final session was performed on day 9.", [9]),
])
def test_exchange_days_are_the_days_exchanges_were_held(text, expected):
    from extractors.fields.purification import exchange_days

    patient = PatientContext()
    account = "A 40-year-old man received axicabtagene ciloleucel and had grade 4 CRS. Plasma exchange was started. "
    assert exchange_days(sentences_of(account + text), patient) == expected


def test_a_value_told_its_time_right_after_it():
    from extractors.fields.labs import _told_time

    sentence = sentences_of("IL-6 3,150 pg/mL before, 420 pg/mL after the second TPE.")[0]
    assert [_told_time(sentence, at) for at in (16, 34)] == ["pre", "post"]
    no_exchange = sentences_of("IL-6 3,150 pg/mL before, 420 pg/mL after.")[0]  # a bare time needs an exchange named
    assert _told_time(no_exchange, 16) is None
    morning = sentences_of("It reached 6,150 ng/mL on the morning after the last procedure.")[0]
    assert _told_time(morning, 22) == "post"
    first_morning = sentences_of("It was 9,800 ng/mL on the morning of the first exchange.")[0]
    assert _told_time(first_morning, 18) == "pre"
    named_before = sentences_of("Two exchanges were done. IL-6 was 3,150 pg/mL before, 420 pg/mL after.")[1]
    assert [_told_time(named_before, at) for at in (20, 38)] == ["pre", "post"]  # the exchanges of the sentence before


def test_a_unit_in_a_table_heading():
    from extractors.fields.inputs import header_unit

    assert [header_unit(h) for h in ("IL-6 (pg/mL)", "CRP, mg/dL (pre → post)", "Ferritin, µg/L",
                                     "IL-6, ng/mL (pre/post)", "Age (years), sex", "Number of TPE")] == \
        ["pg/mL", "mg/dL", "µg/L", "ng/mL", None, None]


@pytest.mark.parametrize("header, text, expected", [
    ("Tocilizumab doses", "2", {"tocilizumab_doses": "2"}),
    ("Tocilizumab doses", "none", {"tocilizumab_doses": "0"}),
    ("Tocilizumab", "×2", {"tocilizumab_doses": "2"}),  # a count written as times
    ("Tocilizumab", "3 x", {"tocilizumab_doses": "3"}),
    ("Tocilizumab", "8 mg/kg", {}),  # a dose, no count
    ("Tocilizumab doses", "25", {}),  # beyond the registry's bounds, as in prose
    ("Corticosteroids", "dexamethasone, methylprednisolone", {"corticosteroids": "dexamethasone;methylprednisolone"}),
    ("Corticosteroids", "Dexamethasone/methylprednisolone", {"corticosteroids": "dexamethasone;methylprednisolone"}),
    ("Corticosteroids", "no", {"corticosteroids": "none"}),
    ("Other drugs", "Anakinra", {"other_drugs": "anakinra"}),
])
def test_co_treatment_cells(header, text, expected):
    assert read(header, text) == expected


@pytest.mark.parametrize("header, text, expected", [
    ("Outcome", "Died d+41 (sepsis)", {"outcome": "died"}),
    ("Outcome", "Alive (11 mo)", {"outcome": "alive"}),
    ("Best response", "CR (MRD−)", {"response": "CR"}),
    ("Best response", "NE", {}),
    ("CRS resolved", "Not resolved", {"crs_resolved": "no"}),
])
def test_outcome_cells(header, text, expected):
    assert read(header, text) == expected


# -- a cell and a sentence saying the same thing give the same value -----------------------------------------------
@pytest.mark.parametrize("sentence, header, cell", [
    ("A 19-year-old woman received Kymriah for B-ALL.", "Age (y)/Sex", "19/F"),
    ("A 30-month-old boy with B-ALL received CAR-T cells.", "Age/sex", "30 mo/M"),
    ("She received tisa-cel for B-ALL.", "Product", "Kymriah"),
    ("She received axi-cel and developed grade IV CRS on day 2.", "CRS grade", "IV"),
    ("Plasma exchange was performed on day 4 with 5% HAS as the replacement fluid.", "Replacement", "5% HAS"),
    ("Plasma exchange was performed on day 4; 2.8 L were exchanged.", "TPE volume (L)", "2.8"),
    ("Plasma exchange was performed on day 4, exchanging 1.5 plasma volumes.", "Volume per TPE", "1.5 PV"),
    ("IL-6 fell from 6,840 to 512 pg/mL after plasma exchange.", "IL-6 pre/post (pg/mL)", "6,840/512"),
    ("CRP fell from 21.5 to 3.8 mg/dL after plasma exchange.", "CRP pre/post (mg/L)", "215/38"),
    ("She received tocilizumab twice.", "Tocilizumab (doses)", "2"),
])
def test_a_cell_and_a_sentence_saying_the_same_give_the_same_value(sentence, header, cell):
    from extractors.fields import RULES

    from_cell = read(header, cell)
    account = sentences_of(sentence)
    from_prose = values(f for rule in RULES for f in rule(account, NO_CONTEXT) if f.field in from_cell)
    assert from_cell and from_prose == from_cell


@pytest.mark.parametrize("header, text, expected", [
    ("Volume per procedure, L (plasma volumes)", "3.6 (1.0)", {"pe_volume_ml": "3600", "pe_plasma_volumes": "1"}),
    ("Volume per procedure, mL (plasma volumes)", "2700 (1.5)", {"pe_volume_ml": "2700", "pe_plasma_volumes": "1.5"}),
    ("Plasma volumes per session", "1.5 (x2)", {"pe_plasma_volumes": "1.5"}),  # no volume named: plasma volumes only
])
def test_a_column_of_volume_and_plasma_volumes_gives_both(header, text, expected):
    assert read(header, text) == expected
