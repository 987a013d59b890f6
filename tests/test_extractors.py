"""Each extractor rule on short texts written for the purpose, with the exact values expected."""

import json
from pathlib import Path

import pytest

import extractors
from extractors.cases import extract_document
from pipeline.parsing import parse_bytes


def extract(text: str, name: str = "case.txt"):
    document = parse_bytes(text.encode(), name)[0]
    return extract_document(document)


def only_case(text: str):
    extraction = extract(text)
    assert len(extraction.cases) == 1, [c.values for c in extraction.cases]
    return extraction.cases[0]


HEADER = "Plasma exchange after CAR-T cells\n\nAna Silva, Tom Berg\n\nDOI: 10.5555/test.1\n\nCase presentation\n\n"


def values_of(extraction, fields: tuple[str, ...]) -> list[tuple]:
    """Each case's values of ``fields``, in order (None where blank)."""
    return [tuple(case.values.get(name) for name in fields) for case in extraction.cases]


def quoted(case, field: str) -> str:
    """The words a case's value of ``field`` is quoted from."""
    span = case.evidence[field][0]
    return span.doc.text[span._.quote_start:span._.quote_end]


def test_single_case_core_fields_with_units_roman_numerals_and_abbreviations():
    case = only_case(HEADER + (
        "A 34-year-old woman with relapsed diffuse large B-cell lymphoma received axicabtagene ciloleucel (Yescarta). "
        "On day +1 she developed fever, and cytokine release syndrome (CRS) progressed to grade IV (ASTCT) on day 3. "
        "She received tocilizumab (TCZ) 8 mg/kg twice and dexamethasone. IL-6 was 7.9 ng/mL and CRP 21.5 mg/dL. "
        "Therapeutic plasma exchange (TPE) was started on day 4. She underwent three sessions of TPE, each exchanging "
        "1.5 plasma volumes with 5% albumin. After the third TPE, IL-6 fell to 0.26 ng/mL and CRP to 3.8 mg/dL. "
        "There was no ICANS. CRS resolved on day 9 and she was discharged in complete remission."))
    assert case.in_scope
    expected = {
        "age_years": "34", "sex": "F", "diagnosis": "DLBCL", "car_t_product": "axicabtagene ciloleucel",
        "car_t_target": "CD19", "crs_grade": "4", "crs_grading": "ASTCT", "crs_onset_day": "1", "pe_start_day": "4",
        "pe_sessions": "3", "pe_plasma_volumes": "1.5", "pe_replacement": "albumin", "il6_pre": "7900",
        "il6_post": "260", "crp_pre": "215", "crp_post": "38", "tocilizumab_doses": "2",
        "corticosteroids": "dexamethasone", "icans_grade": "0", "crs_resolved": "yes", "outcome": "alive", "response": "CR",
    }
    assert {k: case.values.get(k) for k in expected} == expected


def test_negation_hedging_and_cancelled_sessions():
    case = only_case(HEADER + (
        "A 52-year-old man with multiple myeloma received ciltacabtagene autoleucel. "
        "He developed grade 3 CRS on day 2. HLH was suspected but criteria were not met. "
        "Emapalumab was considered but not given. Anakinra was started on day 4. "
        "Plasma exchange was performed on day 5 and day 6; a third session was cancelled because of catheter thrombosis. "
        "He never developed neurotoxicity."))
    assert case.values["pe_sessions"] == "2"
    assert case.values["hlh"] == "no"
    assert case.values["other_drugs"] == "anakinra"
    assert case.values["icans_grade"] == "0"
    assert case.values["pe_start_day"] == "5"


def test_ages_in_months_and_sex_from_a_noun():
    case = only_case(HEADER + "A 30-month-old boy with B-cell acute lymphoblastic leukemia received CD19 CAR T cells in a "
                              "clinical trial and developed grade 3 CRS. Two plasma exchanges with FFP followed.")
    assert (case.values["age_years"], case.values["sex"]) == ("2.5", "M")
    assert case.values["car_t_product"] == "investigational" and case.values["car_t_target"] == "CD19"
    assert case.values["pe_replacement"] == "FFP"


def test_several_patients_in_prose():
    extraction = extract(HEADER.replace("Case presentation\n\n", "") + (
        "Patient 1\n\nA 58-year-old man with myeloma received idecabtagene vicleucel and developed grade 3 CRS. "
        "TPE was initiated on day 5 and he completed four sessions.\n\n"
        "Patient 2\n\nA 41-year-old woman with high-grade B-cell lymphoma received axi-cel and developed grade 4 CRS. "
        "She had only continuous renal replacement therapy (CRRT).\n\n"
        "Discussion\n\nLiu and colleagues treated a 10-year-old boy with hemofiltration."))
    assert [(c.label, c.values.get("age_years"), c.values.get("sex"), c.in_scope) for c in extraction.cases] == [
        ("Patient 1", "58", "M", True), ("Patient 2", "41", "F", False)]
    assert extraction.cases[0].values["pe_sessions"] == "4"
    assert extraction.cases[1].values["other_purification"] == "crrt"


def test_plasma_exchange_before_car_t_is_out_of_scope():
    extraction = extract(HEADER + (
        "A 66-year-old man with myeloma had hyperviscosity; plasmapheresis was performed on three consecutive days. "
        "Idecabtagene vicleucel was infused 41 days after the last plasmapheresis. Grade 1 CRS started on day 1."))
    assert extraction.status == "related-no-pe" and not extraction.cases[0].in_scope


@pytest.mark.parametrize("text", [
    # asked for and cancelled, the account saying none was done; a general remark on the exchange after it
    "A 47-year-old woman with DLBCL received lisocabtagene maraleucel and had grade 3 CRS on day 2. Plasmapheresis "
    "was ordered on day 3, but it was cancelled once she improved; no plasma exchange was done at any time. In such "
    "patients, plasma exchange is a procedure to keep at hand.",
    "A 39-year-old man with B-ALL was given tisagenlecleucel; grade 4 CRS followed on day 1. The apheresis team set up "
    "a plasma exchange for the next morning, and the exchange was cancelled before it began. Keeping TPE ready should "
    "be part of the procedure for such patients.",
    # a cohort reported as a group: one exchange asked for and called off, none done
    "Of 58 recipients of CD19 CAR-T cells, 12 had grade 3 or 4 CRS (median age 57 years). TPE was ordered for one of "
    "them on day 4 but was cancelled; none of the patients underwent TPE.",
])
def test_an_exchange_asked_for_and_cancelled_with_none_done_is_out_of_scope(text):
    extraction = extract(HEADER + text)
    assert extraction.status == "related-no-pe" and not any(case.in_scope for case in extraction.cases)
    assert all(case.values.get("age_years") != "57" for case in extraction.cases)  # a group's median is no patient's


@pytest.mark.parametrize("text, denied", [
    ("No TPE was performed at any point.", True),
    ("The plasma exchange was cancelled before it started.", True),
    ("A second TPE was not performed.", False),  # a further exchange, not the exchange
    ("No further plasma exchange was needed.", False),
    ("TPE was performed on day 5.", False),
    ("No patient underwent TPE.", True),
    ("No complications occurred during the TPE.", False),  # the cue denies something else
])
def test_an_exchange_denied_as_a_whole(text, denied):
    from extractors.evidence import sentences
    from extractors.fields.purification import exchange_denied
    from extractors.nlp import process

    doc = process(parse_bytes((HEADER + text).encode(), "case.txt")[0])
    assert exchange_denied(sentences(doc)[-1:]) == denied


def test_a_further_exchange_cancelled_leaves_the_done_ones_in_scope():
    case = only_case(HEADER + "A 55-year-old man with myeloma received ciltacabtagene autoleucel and had grade 3 CRS. "
                     "TPE was performed on day 6; a second TPE was ordered but was cancelled, as he improved.")
    assert case.in_scope and case.values["pe_start_day"] == "6"


PATIENT_TABLE = b"""<article article-type="research-article"><front><article-meta><article-id pub-id-type="doi">10.5555/t.2</article-id>
<title-group><article-title>Plasma exchange for CRS: a series</article-title></title-group>
<contrib-group><contrib contrib-type="author"><name><surname>Okoro</surname><given-names>A</given-names></name></contrib></contrib-group>
<pub-date><year>2024</year></pub-date></article-meta></front><body><sec><title>Results</title>
<p>All patients received CAR-T cells; CRS was graded by ASTCT criteria.</p>
<table-wrap><label>Table 1</label><table><thead><tr><th>Patient</th><th>Age (y)/Sex</th><th>Disease</th><th>Product</th>
<th>CRS grade</th><th>TPE sessions</th><th>IL-6 pre/post (pg/mL)</th><th>Ferritin pre/post (\xc2\xb5g/L)</th><th>CRP pre/post (mg/dL)</th><th>Outcome</th></tr></thead>
<tbody><tr><td>1</td><td>19/F</td><td>B-ALL</td><td>Tisa-cel</td><td>IV</td><td>3</td><td>6,840/512</td><td>12,450/4,310</td><td>28.4/9.6</td><td>Alive</td></tr>
<tr><td>2</td><td>66/M</td><td>MCL</td><td>Brexu-cel</td><td>III</td><td>0</td><td>&gt;5,000/NA</td><td>NA</td><td>NA</td><td>Died</td></tr></tbody></table></table-wrap>
</sec></body></article>"""


def test_a_table_with_a_row_per_patient():
    document = parse_bytes(PATIENT_TABLE, "t.xml")[0]
    extraction = extract_document(document)
    first, second = extraction.cases
    assert first.in_scope and not second.in_scope
    assert first.values == {**first.values, "age_years": "19", "sex": "F", "diagnosis": "B-ALL", "car_t_product": "tisagenlecleucel",
                            "crs_grade": "4", "crs_grading": "ASTCT", "pe_sessions": "3", "il6_pre": "6840", "il6_post": "512",
                            "ferritin_pre": "12450", "ferritin_post": "4310", "crp_pre": "284", "crp_post": "96", "outcome": "alive"}
    assert second.values["pe_sessions"] == "0" and second.values["il6_pre"] == "5000" and "il6_post" not in second.values
    for name, findings in first.evidence.items():
        for finding in findings:
            assert document.cell_at(finding._.quote_start) is not None or name == "crs_grading"


LAB_TABLE = b"""<article article-type="case-report"><front><article-meta><title-group><article-title>TPE after CAR-T</article-title></title-group></article-meta></front>
<body><sec><title>Case presentation</title><p>A 58-year-old woman with myeloma received ciltacabtagene autoleucel and developed grade 3 CRS.
TPE was performed on day +5 and day +6 (two sessions).</p>
<table-wrap><label>Table 1</label><table><thead><tr><th>Parameter</th><th>Day +2</th><th>Day +4</th><th>Day +6</th><th>Day +8</th></tr></thead>
<tbody><tr><td>IL-6 (ng/mL)</td><td>1.85</td><td>4.62</td><td>0.48</td><td>0.12</td></tr>
<tr><td>CRP (mg/dL)</td><td>12.6</td><td>24.1</td><td>8.7</td><td>2.9</td></tr></tbody></table></table-wrap></sec></body></article>"""


def test_a_laboratory_course_by_day():
    case = extract_document(parse_bytes(LAB_TABLE, "lab.xml")[0]).cases[0]
    assert (case.values["il6_pre"], case.values["il6_post"]) == ("4620", "120")
    assert (case.values["crp_pre"], case.values["crp_post"]) == ("241", "29")
    assert case.values["pe_sessions"] == "2"


MARKED_LAB_TABLE = b"""<article article-type="case-report"><front><article-meta><title-group><article-title>TPE after CAR-T</article-title></title-group></article-meta></front>
<body><sec><title>Case presentation</title><p>A 49-year-old man with DLBCL received axicabtagene ciloleucel and developed grade 3 CRS.
TPE was performed on days +4, +5 and +6 (three sessions).</p>
<table-wrap><label>Table 1</label><table><thead><tr><th>Parameter</th><th>Day +2</th><th>Day +4<sup>a</sup></th><th>Day +6<sup>b</sup></th><th>Day +7</th></tr></thead>
<tbody><tr><td>Ferritin (ng/mL)</td><td>2 100</td><td>6 400</td><td>&#8211;</td><td>2 950</td></tr></tbody></table>
<table-wrap-foot><fn><p><sup>a</sup> before the first TPE. <sup>b</sup> after the third TPE.</p></fn></table-wrap-foot></table-wrap></sec></body></article>"""


def test_a_laboratory_course_whose_footnotes_lost_their_marks():
    """The notes date the first exchange's day before it and the last one's after it; a day not measured is passed."""
    case = extract_document(parse_bytes(MARKED_LAB_TABLE, "lab.xml")[0]).cases[0]
    assert (case.values["ferritin_pre"], case.values["ferritin_post"]) == ("6400", "2950")


NEXT_MORNING_LAB_TABLE = b"""<article article-type="case-report"><front><article-meta><title-group><article-title>TPE after CAR-T</article-title></title-group></article-meta></front>
<body><sec><title>Case presentation</title><p>A 29-year-old woman with B-ALL received tisagenlecleucel and developed grade 3 CRS.
Plasma exchange was performed on days +4 and +5 (two sessions).</p>
<table-wrap><label>Table 1</label><table><thead><tr><th>Parameter</th><th>Day +2</th><th>Day +4<sup>a</sup></th><th>Day +5</th><th>Day +6<sup>b</sup></th></tr></thead>
<tbody><tr><td>Ferritin (ng/mL)</td><td>8 200</td><td>61 300</td><td>44 900</td><td>19 700</td></tr></tbody></table>
<table-wrap-foot><fn><p><sup>a</sup> Drawn before the first exchange.</p></fn><fn><p><sup>b</sup> Drawn the morning after the second and last exchange.</p></fn></table-wrap-foot></table-wrap></sec></body></article>"""


def test_a_footnote_dating_a_sample_the_morning_after_the_last_exchange():
    """With its mark lost, "the morning after the second and last exchange" dates the day after the last one's,
    not the last exchange's day itself."""
    case = extract_document(parse_bytes(NEXT_MORNING_LAB_TABLE, "lab.xml")[0]).cases[0]
    assert (case.values["ferritin_pre"], case.values["ferritin_post"]) == ("61300", "19700")


PATIENT_COLUMNS_AND_A_COURSE = b"""<article article-type="case-report"><front><article-meta><title-group><article-title>TPE after CAR-T</article-title></title-group></article-meta></front>
<body><sec><title>Case presentation</title><p>Patient 1 was a 52-year-old woman with myeloma given ciltacabtagene autoleucel; TPE was
started on D+5 and repeated daily to a total of two sessions. Her laboratory course is in Table 2.</p>
<p>Patient 2 was a 70-year-old man with DLBCL given lisocabtagene maraleucel; he had one TPE on D+6.</p>
<table-wrap><label>Table 1</label><caption><p>The two patients.</p></caption><table><thead><tr><th>Characteristic</th><th>Patient 1</th><th>Patient 2</th></tr></thead>
<tbody><tr><td>Age (years)/sex</td><td>52/F</td><td>70/M</td></tr><tr><td>Maximum CRS grade</td><td>3</td><td>4</td></tr>
<tr><td>TPE sessions</td><td>2</td><td>1</td></tr></tbody></table></table-wrap>
<table-wrap><label>Table 2</label><caption><p>Laboratory course of Patient 1. Samples were drawn before any exchange of that day.</p></caption>
<table><thead><tr><th>Marker</th><th>D+3</th><th>D+5 (TPE 1)</th><th>D+6 (TPE 2)</th><th>D+7</th></tr></thead>
<tbody><tr><td>IL-6 (pg/mL)</td><td>1,400</td><td>4,100</td><td>1,900</td><td>260</td></tr></tbody></table></table-wrap></sec></body></article>"""


def test_a_lab_course_table_of_one_patient_fills_a_patient_of_a_table_of_patients():
    cases = extract_document(parse_bytes(PATIENT_COLUMNS_AND_A_COURSE, "two.xml")[0]).cases
    assert [(c.values.get("il6_pre"), c.values.get("il6_post")) for c in cases] == [("4100", "260"), (None, None)]


PATIENT_TIME_COLUMNS = b"""<article article-type="case-report"><front><article-meta><title-group><article-title>TPE after CAR-T</article-title></title-group></article-meta></front>
<body><sec><title>Case presentation</title><p>Patient 1 was a 30-year-old man with B-ALL given tisagenlecleucel; he had three TPE sessions from day 4.</p>
<p>Patient 2 was a 57-year-old woman with DLBCL given axicabtagene ciloleucel; she had two TPE sessions from day 6.</p>
<table-wrap><label>Table 1</label><caption><p>The two patients.</p></caption><table><thead><tr><th></th><th>Patient 1</th><th>Patient 2</th></tr></thead>
<tbody><tr><td>Age, years / sex</td><td>30 / male</td><td>57 / female</td></tr><tr><td>Maximum CRS grade</td><td>4</td><td>3</td></tr>
<tr><td>Number of TPE</td><td>3</td><td>2</td></tr></tbody></table></table-wrap>
<table-wrap><label>Table 2</label><caption><p>Markers right before the first TPE (pre) and the morning after the last TPE (post).</p></caption>
<table><thead><tr><th>Marker</th><th>Pt 1 pre</th><th>Pt 1 post</th><th>Pt 2 pre</th><th>Pt 2 post</th></tr></thead>
<tbody><tr><td>IL-6 (pg/mL)</td><td>4,700</td><td>290</td><td>2,100</td><td>260</td></tr>
<tr><td>Ferritin (ng/mL)</td><td>18,200</td><td>7,300</td><td>5,400</td><td>2,600</td></tr></tbody></table></table-wrap></sec></body></article>"""


def test_a_table_with_a_column_per_patient_and_time():
    cases = extract_document(parse_bytes(PATIENT_TIME_COLUMNS, "two.xml")[0]).cases
    assert [(c.values.get("il6_pre"), c.values.get("il6_post"), c.values.get("ferritin_post")) for c in cases] == \
        [("4700", "290", "7300"), ("2100", "260", "2600")]


PATIENT_OVER_TIME_COLUMNS = b"""<article article-type="case-report"><front><article-meta><title-group><article-title>TPE after CAR-T</article-title></title-group></article-meta></front>
<body><sec><title>The tisagenlecleucel recipient</title><p>Patient 1, a 19-year-old man with B-ALL, received tisagenlecleucel and had grade 4 CRS; he had two TPE sessions from day 5.</p></sec>
<sec><title>The cilta-cel recipient</title><p>Patient 2, a 66-year-old woman with myeloma, received ciltacabtagene autoleucel and had grade 3 CRS; she had one TPE on day 8.</p></sec>
<sec><title>Laboratory course</title>
<table-wrap><label>Table 1</label><caption><p>Markers before the first and after the last exchange.</p></caption>
<table><thead><tr><th rowspan="2">Marker</th><th colspan="2">Patient 1 (tisa-cel)</th><th colspan="2">Patient 2 (cilta-cel)</th></tr>
<tr><th>pre</th><th>post</th><th>pre</th><th>post</th></tr></thead>
<tbody><tr><td>IL-6 (pg/mL)</td><td>6 900</td><td>410</td><td>1 730</td><td>240</td></tr>
<tr><td>CRP (mg/L)</td><td>231</td><td>44</td><td>&#8212;</td><td>&#8212;</td></tr></tbody></table></table-wrap></sec></body></article>"""


def test_a_patient_heading_over_its_pre_and_post_columns():
    cases = extract_document(parse_bytes(PATIENT_OVER_TIME_COLUMNS, "two.xml")[0]).cases
    assert [(c.values.get("il6_pre"), c.values.get("il6_post"), c.values.get("crp_post")) for c in cases] == \
        [("6900", "410", "44"), ("1730", "240", None)]


PATIENT_OVER_DAY_COLUMNS = b"""<article article-type="case-report"><front><article-meta><title-group><article-title>TPE after CAR-T</article-title></title-group></article-meta></front>
<body><sec><title>Patient 1</title><p>A 23-year-old man with B-ALL received tisagenlecleucel and had grade 4 CRS from day 1; TPE was done on days 4 and 5.</p></sec>
<sec><title>Patient 2</title><p>A 58-year-old woman with DLBCL received axicabtagene ciloleucel and had grade 3 CRS from day 2; one TPE was done on day 6.</p></sec>
<sec><title>Laboratory course</title>
<table-wrap><label>Table 1</label><caption><p>Markers by day after infusion.</p></caption>
<table><thead><tr><th rowspan="2">Marker</th><th colspan="3">Patient 1</th><th colspan="3">Patient 2</th></tr>
<tr><th>D+1</th><th>D+3</th><th>D+6</th><th>D+2</th><th>D+5</th><th>D+7</th></tr></thead>
<tbody><tr><td>IL-6 (pg/mL)</td><td>900</td><td>8,100</td><td>520</td><td>300</td><td>2,600</td><td>190</td></tr>
<tr><td>CRP (mg/dL)</td><td>5.1</td><td>22.4</td><td>3.0</td><td>7.7</td><td>18.2</td><td>4.4</td></tr></tbody></table></table-wrap></sec></body></article>"""


def test_a_patient_heading_over_its_day_columns():
    """"Patient 1" spanning "D+1 | D+3 | D+6": each patient's days are read against that patient's exchanges."""
    extraction = extract_document(parse_bytes(PATIENT_OVER_DAY_COLUMNS, "two.xml")[0])
    cases, text = extraction.cases, extraction.document.text
    assert [(c.values.get("il6_pre"), c.values.get("il6_post"), c.values.get("crp_pre"), c.values.get("crp_post"))
            for c in cases] == [("8100", "520", "224", "30"), ("2600", "190", "182", "44")]
    span = cases[1].evidence["il6_pre"][0]
    assert text[span._.quote_start:span._.quote_end] == "2,600"


SESSIONS_OF_EACH_PATIENT = b"""<article article-type="research-article"><front><article-meta><title-group><article-title>TPE after CAR-T</article-title></title-group></article-meta></front>
<body><sec><title>Cases</title><p>Patient 1, a 47-year-old man with DLBCL, received axicabtagene ciloleucel and had grade 3 CRS; he had three exchanges from day 4.</p>
<p>Patient 2, a 29-year-old woman with B-ALL, received tisagenlecleucel and had grade 4 CRS; she had two exchanges from day 3.</p>
<table-wrap><label>Table 1</label><caption><p>Patients</p></caption><table><thead><tr><th>Characteristic</th><th>Patient 1</th><th>Patient 2</th></tr></thead>
<tbody><tr><td>Age (years)</td><td>47</td><td>29</td></tr><tr><td>TPE sessions</td><td>3</td><td>2</td></tr></tbody></table></table-wrap>
<table-wrap><label>Table 2</label><caption><p>Each plasma exchange session</p></caption>
<table><thead><tr><th>Patient</th><th>Session</th><th>Day</th><th>Plasma volumes</th><th>Volume exchanged (mL)</th><th>Remarks</th></tr></thead>
<tbody><tr><td>1</td><td>1</td><td>4</td><td>1.0</td><td>3,200</td><td>Uneventful</td></tr>
<tr><td>1</td><td>2</td><td>5</td><td>1.0</td><td>3,200</td><td>Uneventful</td></tr>
<tr><td>1</td><td>3</td><td>6</td><td>1.0</td><td>3,200</td><td>Uneventful</td></tr>
<tr><td>2</td><td>1</td><td>3</td><td>1.5</td><td>2,400</td><td>Uneventful</td></tr>
<tr><td>2</td><td>2</td><td>4</td><td>1.5</td><td>2,400</td><td>Uneventful</td></tr>
<tr><td>2</td><td>3</td><td>5</td><td>&#8211;</td><td>&#8211;</td><td>Cancelled: catheter thrombosis</td></tr></tbody></table></table-wrap></sec></body></article>"""


def test_a_table_of_sessions_with_a_patient_column_gives_each_patient_their_own():
    cases = extract_document(parse_bytes(SESSIONS_OF_EACH_PATIENT, "series.xml")[0]).cases
    assert [(c.values.get("pe_sessions"), c.values.get("pe_volume_ml"), c.values.get("pe_plasma_volumes"))
            for c in cases] == [("3", "3200", "1"), ("2", "2400", "1.5")]


CITED_COURSE = b"""<article article-type="case-report"><front><article-meta><title-group><article-title>TPE after CAR-T</article-title></title-group></article-meta></front>
<body><sec><title>Case presentation</title><p>A 61-year-old man with DLBCL received axicabtagene ciloleucel and developed grade 4 CRS.
Plasma exchange was performed on D+5 and D+6. The course is shown in Table 1. His oxygen need fell for two days after the second exchange, but rose again from D+9 with a new fever.</p>
<table-wrap><label>Table 1</label><caption><p>Laboratory course. Samples were drawn at 06:00, before any exchange of that day.</p></caption>
<table><thead><tr><th>Analyte</th><th>D+4</th><th>D+5</th><th>D+6</th><th>D+7</th><th>D+9</th></tr></thead>
<tbody><tr><td>IL-6 (pg/mL)</td><td>2 400</td><td>5 100</td><td>1 800</td><td>560</td><td>1 700</td></tr></tbody></table></table-wrap></sec></body></article>"""


def test_a_sentence_citing_a_lab_table_dates_no_sample_by_a_clause_set_against_it():
    """"fell for two days after the second exchange, but rose again from D+9": D+9 is no sample after the exchanges;
    the first day after the last exchange is."""
    case = extract_document(parse_bytes(CITED_COURSE, "case.xml")[0]).cases[0]
    assert (case.values["il6_pre"], case.values["il6_post"]) == ("5100", "560")


def test_the_options_of_a_teaching_case_s_question_are_not_given():
    case = only_case(HEADER + (
        "Ms R., a 47-year-old woman with DLBCL, received axicabtagene ciloleucel. On day 3 she had grade 3 CRS.\n\n"
        "Question 2. What would you add now?\n"
        "A. Siltuximab 11 mg/kg\n"
        "B. Anakinra 100 mg every six hours\n"
        "C. Plasma exchange\n\n"
        "Answer: C. She had two plasma exchanges, on days 4 and 5, and recovered."))
    assert (case.values.get("other_drugs"), case.values.get("pe_sessions")) == (None, "2")


def test_a_handout_s_answers_lettered_a_are_the_account_not_options():
    case = only_case(HEADER + (
        "Q1. Who was the patient?\n"
        "A. A 41-year-old woman with PMBCL who received axicabtagene ciloleucel.\n\n"
        "Q2. How bad was the CRS?\n"
        "A. Grade 4 by the ASTCT consensus, from day 1.\n\n"
        "Q3. How was the exchange done?\n"
        "A. Three sessions of plasma exchange, on days 5, 6 and 7, with FFP.\n"))
    assert (case.values.get("age_years"), case.values.get("crs_grade"), case.values.get("pe_sessions")) == \
        ("41", "4", "3")


REGISTRY = ("Registry extract\n\nA. Author\n\nDOI: 10.5555/registry.1\n\nEntries printed one field a line; "
            "days from the CAR-T infusion.\n\n"
            "=== Patient 1 ===\nAge: 6 years\nSex: Female\nCAR-T product: tisagenlecleucel\n"
            "Maximum CRS grade (ASTCT): 3\nHLH / IEC-HS: no\nTocilizumab doses: 2\nNumber of exchanges: 2\n"
            "Replacement fluid: FFP\nIL-6 before / after exchange (pg/mL): 2,150 / 164\n"
            "Best disease response: complete remission\n\n"
            "=== Patient 2 ===\nAge: 58 years\nSex: Male\nCAR-T product: lisocabtagene maraleucel\n"
            "Maximum CRS grade (ASTCT): 3\nHLH / IEC-HS: not recorded\nTocilizumab doses: 1\n"
            "Number of exchanges: 1\nIL-6 before / after exchange (pg/mL): 1,020 / not recorded\n"
            "Reporter comment: a second exchange had been pencilled in for day +7; not needed.\n")


def test_a_record_printed_a_field_a_line_is_read_as_a_sheet():
    extraction = extract(REGISTRY)
    fields = ("crs_grade", "hlh", "tocilizumab_doses", "pe_sessions", "pe_replacement", "il6_pre", "il6_post",
              "response")
    assert values_of(extraction, fields) == [
        ("3", "no", "2", "2", "FFP", "2150", "164", "CR"),
        ("3", None, "1", "1", None, "1020", None, None)]
    assert quoted(extraction.cases[1], "pe_sessions") == "1"


def test_patients_named_in_one_list_and_an_outcome_cell_s_response():
    extraction = extract(HEADER.replace("Case presentation\n\n", "") + (
        "Results\n\nFour adults given CAR-T cells had plasma exchange.\n\n"
        "Pt | Age/Sex | CRS gr | TPE n | Outcome\n1 | 34/M | 3 | 2 | Alive, CR\n"
        "2 | 58/F | 4 | 3 | Died D+41 (progression)\n"
        "3 | 66/M | 3 | 1 | Alive, PR\n\n"
        "Pt 1, Pt 2 and Pt 4 had diffuse large B-cell lymphoma; Pt 3 had mantle cell lymphoma. The first exchange "
        "was done on D+4 for Pt 2 and Pt 3 and on D+6 for Pt 1.\n"), "series.txt")
    assert [(c.values.get("diagnosis"), c.values.get("response"), c.values.get("pe_start_day"))
            for c in extraction.cases] == [("DLBCL", "CR", "6"), ("DLBCL", None, "4"), ("MCL", "PR", "4")]


APPOSITION = ("Plasma exchange for CRS: two patients\n\nA. Author\n\nAbstract\n\n"
              "We report two patients seen at our unit, a 52-year-old man with diffuse large B-cell lymphoma and a "
              "38-year-old woman with B-ALL, who were given axicabtagene ciloleucel and tisagenlecleucel, "
              "respectively. "
              "Fever commenced on day +2 and day +1, respectively, and both reached grade 3 CRS. Plasma exchange was "
              "begun on day +4 in the first patient and on day +6 in the second; the man received two sessions and the "
              "woman four, each with 5% albumin. IL-6 fell from 3,100 to 240 pg/mL and from 8,800 to 610 pg/mL, "
              "respectively. At day 90 the man was in complete remission and the woman in partial remission.\n")


def test_a_column_with_a_second_field_in_brackets():
    extraction = extract(HEADER.replace("Case presentation\n\n", "") + (
        "Results\n\nTwo adults had plasma exchange for CRS after CAR-T cells.\n\n"
        "Patient | Age/Sex | Product | CRS grade (onset day) | TPE sessions\n1 | 48/M | axi-cel | 4 (D1) | 3\n"
        "2 | 23/F | tisa-cel | 3 (D0) | 2\n"), "series.txt")
    assert [(c.values.get("crs_grade"), c.values.get("crs_onset_day")) for c in extraction.cases] == [
        ("4", "1"), ("3", "0")]


COUNTED_SIDE_BY_SIDE = (
    "Plasma exchange for CRS: three patients\n\nA. Author\n\nAbstract\n\n"
    "We report three patients who underwent plasma exchange for severe CRS. The patients were aged 30, 55 and 70 "
    "years, respectively; the first and the third were male and the second was female. They received "
    "tisagenlecleucel, axicabtagene ciloleucel and idecabtagene vicleucel, respectively; the first two products are "
    "directed against CD19 and the third against BCMA. CRS started on day 1, day 3 and day 2, respectively, and the "
    "maximum grades were 3, 4 and 3, respectively. Plasma exchange was begun on day 4, day 5 and day 6, respectively, "
    "with 5% albumin in the first two patients and fresh frozen plasma in the third. IL-6 fell from 3,000 to 200, "
    "from 9,000 to 700 and from 1,500 to 90 pg/mL, respectively. The third patient was also given anakinra. The "
    "first and second patients were alive at 6 months; the third patient died on day 41.\n")


@pytest.mark.parametrize("text, fields, expected, last_quote", [
    # two patients introduced in an apposition, then told side by side
    (APPOSITION, ("age_years", "sex", "diagnosis", "car_t_product", "crs_onset_day", "pe_start_day", "pe_sessions",
                  "il6_pre", "il6_post", "response"),
     [("52", "M", "DLBCL", "axicabtagene ciloleucel", "2", "4", "2", "3100", "240", "CR"),
      ("38", "F", "B-ALL", "tisagenlecleucel", "1", "6", "4", "8800", "610", "PR")], ("pe_sessions", "four")),
    # three patients counted, then told side by side
    (COUNTED_SIDE_BY_SIDE, ("age_years", "sex", "car_t_target", "crs_onset_day", "crs_grade", "pe_start_day",
                            "pe_replacement", "il6_pre", "il6_post", "other_drugs", "outcome"),
     [("30", "M", "CD19", "1", "3", "4", "albumin", "3000", "200", None, "alive"),
      ("55", "F", "CD19", "3", "4", "5", "albumin", "9000", "700", None, "alive"),
      ("70", "M", "BCMA", "2", "3", "6", "FFP", "1500", "90", "anakinra", "died")], ("pe_start_day", "day 6")),
])
def test_patients_told_side_by_side_each_read_apart(text, fields, expected, last_quote):
    extraction = extract(text, "series.txt")
    assert values_of(extraction, fields) == expected
    field, quote = last_quote  # the evidence is the last patient's own figure of the list
    assert quoted(extraction.cases[-1], field) == quote


def test_a_session_table_with_markers_before_and_after_each_session():
    extraction = extract(HEADER.replace("Case presentation\n\n", "") + (
        "Patient 1\n\nA 52-year-old man with DLBCL received axicabtagene ciloleucel and had grade 3 CRS. Plasma "
        "exchange was done on days 4 and 5 (Table 1).\n\n"
        "Patient 2\n\nA 34-year-old woman with B-ALL received brexucabtagene autoleucel and had grade 4 CRS. Plasma "
        "exchange was done on days 3 and 4 (Table 1).\n\n"
        "Table 1. Sessions and IL-6 immediately before and after each session\n"
        "Patient | Session | Day | Volume (mL) | Fluid | IL-6 before (pg/mL) | IL-6 after (pg/mL)\n"
        "1 | 1 | 4 | 3,300 | Albumin 5% | 2,870 | 1,140\n1 | 2 | 5 | 3,300 | Albumin 5% | 1,560 | 310\n"
        "2 | 1 | 3 | 2,600 | FFP | 9,450 | 3,020\n2 | 2 | 4 | 2,600 | FFP | 4,880 | 420\n"), "series.txt")
    assert [(c.values.get("pe_sessions"), c.values.get("pe_start_day"), c.values.get("il6_pre"),
             c.values.get("il6_post")) for c in extraction.cases] == [
        ("2", "4", "2870", "310"), ("2", "3", "9450", "420")]


def test_a_note_s_event_before_a_colon_is_no_label():
    case = only_case(HEADER + "A 9-year-old girl with B-ALL received tisagenlecleucel.\n\n"
                     "- fever d1 -> CRS; gr 4 (ASTCT) d3: 2 pressors + HFNC\n- TPE x2 from d4 (FFP)\n")
    assert case.values.get("crs_grade") == "4"


def test_clauses_after_a_comma_that_open_with_a_label_are_that_patient_s():
    extraction = extract(HEADER.replace("Case presentation\n\n", "") + (
        "Patient 1\n\nA 40-year-old woman with B-ALL received tisagenlecleucel and had grade 4 CRS; TPE was done on "
        "days 3 and 4.\n\n"
        "Patient 2\n\nA 63-year-old man with DLBCL received axicabtagene ciloleucel and had grade 3 CRS; one TPE was "
        "done on day 6.\n\n"
        "Outcome\n\nBoth received dexamethasone, and Patient 1 also received methylprednisolone. Patient 1 is in "
        "complete remission at one year, and Patient 2 had a partial metabolic response at three months."))
    assert [(c.values.get("corticosteroids"), c.values.get("response")) for c in extraction.cases] == [
        ("dexamethasone;methylprednisolone", "CR"), ("dexamethasone", "PR")]


def test_a_series_table_s_column_of_exchange_days_gives_the_first():
    extraction = extract(HEADER.replace("Case presentation\n\n", "") + (
        "Patients\n\nTwo adults were treated with TPE for CRS after CAR-T cells (Table 1).\n\n"
        "Table 1. The patients\n\n"
        "| Pt | Age/Sex | Disease | Product | CRS grade | TPE days | Sessions |\n"
        "|---|---|---|---|---|---|---|\n"
        "| 1 | 38/F | B-ALL | tisa-cel | 4 | D+3, D+4, D+5 | 3 |\n"
        "| 2 | 59/M | DLBCL | liso-cel | 3 | D+6, D+7 | 2 |\n\n"
        "Patient 2 was referred late; a third session planned for D+8 was cancelled."))
    assert [(c.values.get("pe_start_day"), c.values.get("pe_sessions")) for c in extraction.cases] == [
        ("3", "3"), ("6", "2")]


def test_a_document_that_says_it_describes_no_patient_gives_no_case():
    text = ("Nursing procedure of the apheresis unit\n\nPurpose\n\nThis procedure applies to every patient referred "
            "for plasma exchange, recipients of CAR-T cells with cytokine release syndrome among them. This document "
            "does not describe any individual patient.\n\nSteps\n\nCheck the prescription: 1 to 1.5 plasma volumes, "
            "replacement with 5% albumin, fresh frozen plasma, or both. Explain the procedure to the patient.")
    extraction = extract_document(parse_bytes(text.encode(), "protocol.txt")[0])
    assert (extraction.cases, extraction.status) == ([], "irrelevant")


FIGURE_CAPTION = b"""<article article-type="case-report"><front><article-meta><title-group><article-title>TPE after CAR-T</article-title></title-group></article-meta></front>
<body><sec><title>Case presentation</title><p>A 33-year-old woman with PMBCL received axicabtagene ciloleucel and developed grade 3 CRS.
Plasma exchange was performed on days +5 and +7. Her ferritin course is shown in Figure 1.</p>
<fig id="F1"><label>Figure 1.</label><caption><p>Ferritin fell from 27,500 to 6,100 ng/mL over the two exchanges.</p></caption></fig>
<fig id="F2"><label>Figure 2.</label><caption><p>IL-6 fell from 4,000 to 300 pg/mL in a published case.</p></caption></fig>
</sec></body></article>"""


def test_a_cited_figure_caption_gives_the_markers_the_text_leaves():
    case = extract_document(parse_bytes(FIGURE_CAPTION, "fig.xml")[0]).cases[0]
    assert (case.values.get("ferritin_pre"), case.values.get("ferritin_post")) == ("27500", "6100")
    assert "il6_pre" not in case.values  # Figure 2 is not cited by the account


COURSE_IN_A_CAPTION = b"""<article article-type="case-report"><front><article-meta><title-group><article-title>TPE after CAR-T</article-title></title-group></article-meta></front>
<body><sec><title>Case presentation</title><p>A 47-year-old man with DLBCL received axicabtagene ciloleucel. His course is
summarised in Fig. 2. Plasma exchange was begun because the fever and the need for vasopressors persisted.</p>
<fig id="F2"><label>Figure 2</label><caption><p>Course after infusion. Fever began on day 2. CRS reached grade 3 on day 4.
Plasma exchange was performed on days 5, 6 and 8. CRS had resolved by day 11.</p></caption></fig>
<fig id="F3"><label>Figure 3</label><caption><p>A PET-CT scan. A patient of another centre had grade 4 CRS from day 1.</p></caption></fig>
</sec></body></article>"""


def test_a_cited_figure_caption_tells_the_course_the_text_leaves():
    """Each sentence of the caption is read among the account's sentences, for every field, with its evidence in
    the caption; a figure the account does not cite tells nothing."""
    document = parse_bytes(COURSE_IN_A_CAPTION, "fig.xml")[0]
    case = extract_document(document).cases[0]
    assert {name: case.values.get(name) for name in ("crs_onset_day", "crs_grade", "pe_start_day", "pe_sessions",
                                                     "crs_resolved")} == \
        {"crs_onset_day": "2", "crs_grade": "3", "pe_start_day": "5", "pe_sessions": "3", "crs_resolved": "yes"}
    caption = next(p for p in document.paragraphs if p.kind == "caption")
    assert all(caption.start <= span.start_char < caption.end for span in case.evidence["crs_grade"])


PATIENT_SHEET = b"""<article article-type="case-report"><front><article-meta><title-group><article-title>TPE after CAR-T</article-title></title-group></article-meta></front>
<body><sec><title>Case presentation</title><p>A 52-year-old woman with DLBCL received axicabtagene ciloleucel and developed grade 3
CRS. TPE was started on day 6; Table 1 gives the prescription and the laboratory values.</p>
<table-wrap><label>Table 1</label><caption><p>Exchange prescription and laboratory values.</p></caption><table>
<thead><tr><th>Parameter</th><th>Value</th></tr></thead>
<tbody><tr><td>Number of TPE sessions</td><td>3</td></tr><tr><td>Exchanged volume per session</td><td>1.5 plasma volumes</td></tr>
<tr><td>Replacement fluid</td><td>5% albumin and FFP</td></tr><tr><td>IL-6 pre-TPE (pg/mL)</td><td>2450</td></tr>
<tr><td>IL-6 post-TPE (pg/mL)</td><td>188</td></tr><tr><td>Ferritin pre-TPE (\xc2\xb5g/L)</td><td>6320</td></tr>
<tr><td>Fibrinogen pre-TPE (g/L)</td><td>3.9</td></tr></tbody></table></table-wrap>
<table-wrap><label>Table 2</label><caption><p>Published cases.</p></caption><table>
<thead><tr><th>Characteristic</th><th>Published cases (n = 19)</th></tr></thead>
<tbody><tr><td>Age, median (range)</td><td>45 (19-70)</td></tr><tr><td>TPE sessions, median</td><td>2</td></tr>
<tr><td>Replacement fluid</td><td>FFP</td></tr></tbody></table></table-wrap></sec></body></article>"""


def test_a_two_column_sheet_of_one_patients_values():
    """"Parameter | Value" rows are the lone patient's, each value from its cell; a sheet summing up published cases
    is nobody's."""
    document = parse_bytes(PATIENT_SHEET, "sheet.xml")[0]
    case = extract_document(document).cases[0]
    assert {name: case.values.get(name) for name in ("age_years", "pe_sessions", "pe_plasma_volumes", "pe_replacement",
                                                     "il6_pre", "il6_post", "ferritin_pre")} == \
        {"age_years": "52", "pe_sessions": "3", "pe_plasma_volumes": "1.5", "pe_replacement": "FFP+albumin",
         "il6_pre": "2450", "il6_post": "188", "ferritin_pre": "6320"}
    for name in ("pe_sessions", "il6_post"):
        assert all(document.cell_at(span.start_char) is not None for span in case.evidence[name])


@pytest.mark.parametrize("sentence, pre, post", [
    ("IL-6 fell from 5,230 to 210 pg/mL after two sessions of TPE.", "5230", "210"),
    ("IL-6 decreased from >5,000 pg/mL to 1,020 pg/mL after TPE.", "5000", "1020"),
])
def test_before_and_after_values_in_one_sentence(sentence, pre, post):
    case = only_case(HEADER + "A 40-year-old man with DLBCL received tisagenlecleucel and had grade 4 CRS. " + sentence)
    assert (case.values["il6_pre"], case.values["il6_post"]) == (pre, post)


def test_review_articles_yield_no_patient():
    xml = (b"<article article-type='review-article'><front><article-meta><title-group><article-title>PE for CRS: a review"
           b"</article-title></title-group></article-meta></front><body><p>A 23-year-old man received CAR-T cells and "
           b"three sessions of plasma exchange.</p></body></article>")
    extraction = extract_document(parse_bytes(xml, "r.xml")[0])
    assert extraction.status == "irrelevant" and extraction.cases == []


DRUG_USE_REVIEW = ("Anti-cytokine drugs after CAR-T: a pharmacy audit\n\nA. Pharmacist\n\nResults\n\n"
                   "Thirty-eight recipients of CAR-T cells were audited; 30 developed CRS, grade 3 or 4 in six. "
                   "Tocilizumab was given to 27 patients, a median of two doses. Siltuximab was ordered for one more, "
                   "but the stock ran out before the patient could receive it. Two of the six with grade 3 or 4 CRS "
                   "also had plasma exchange, a median of two sessions; their courses are reported elsewhere.\n")


@pytest.mark.parametrize("introduction, patients", [
    ("", 0),  # the patients only counted: "the patient" is one of them, not a case told
    ("One of them, a 52-year-old man with DLBCL given axicabtagene ciloleucel, had grade 4 CRS and three plasma "
     "exchanges from day 4. ", 1),  # one of them told as a case
])
def test_a_study_that_only_counts_its_patients_tells_of_none(introduction, patients):
    text = DRUG_USE_REVIEW.replace("Tocilizumab was", introduction + "Tocilizumab was")
    extraction = extract_document(parse_bytes(text.encode(), "audit.txt")[0])
    assert len([case for case in extraction.cases if case.in_scope]) == patients


ERRATUM = (b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>99000001</PMID><Article><ArticleTitle>{title}"
           b"</ArticleTitle><Abstract><AbstractText>In the article on plasma exchange for CRS after tisagenlecleucel in "
           b"a 9-year-old girl with B-ALL, the IL-6 before the first of three exchanges should read 4,850 pg/mL."
           b"</AbstractText></Abstract><PublicationTypeList><PublicationType>{kind}</PublicationType>"
           b"</PublicationTypeList></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>")


@pytest.mark.parametrize("title, kind", [
    (b"Erratum: Plasma exchange for CRS in a child.", b"Published Erratum"),
    (b"Correction to: Plasma exchange for CRS in a child.", b"Journal Article"),
    (b"Plasma exchange for CRS in a child.", b"Retraction of Publication"),
])
def test_a_notice_about_another_article_yields_no_patient(title, kind):
    extraction = extract_document(parse_bytes(ERRATUM.replace(b"{title}", title).replace(b"{kind}", kind), "e.xml")[0])
    assert extraction.status == "irrelevant" and extraction.cases == []


def test_letter_labels_bare_exchanges_and_spelled_out_units():
    extraction = extract(HEADER.replace("Case presentation\n\n", "") + (
        "Results\n\n"
        "Patient A, a 63-year-old man with myeloma, received idecabtagene vicleucel and developed grade 3 CRS. "
        "Therapeutic plasma exchange was started on day 4. A first exchange was carried out on day 4 and a second on day 5. "
        "Ferritin was 14,600 ng per milliliter on day 3 and 5,120 ng per milliliter on day 7.\n\n"
        "Patient B, a 24-year-old woman with B-ALL, received tisagenlecleucel and had grade 2 CRS without plasma exchange."))
    first, second = extraction.cases
    assert (first.label, second.label) == ("Patient A", "Patient B")
    assert first.in_scope and not second.in_scope
    assert first.values["pe_sessions"] == "2" and first.values["pe_start_day"] == "4"
    assert (first.values["ferritin_pre"], first.values["ferritin_post"]) == ("14600", "5120")


def test_calendar_dates_count_from_the_infusion_date():
    case = only_case(HEADER + (
        "A 35-year-old man with B-ALL was enrolled in a phase I trial. On 12 March 2020, CD19 CAR-T cells were infused. "
        "Fever began on 13 March and CRS reached grade 4. Plasma exchange was performed from 16 March, once daily for "
        "three consecutive days."))
    assert (case.values["crs_onset_day"], case.values["pe_start_day"], case.values["pe_sessions"]) == ("1", "4", "3")


def test_a_grade_stated_against_a_grading_scale():
    case = only_case(HEADER + (
        "A 44-year-old woman with DLBCL received tisagenlecleucel and developed cytokine release syndrome on day 1. "
        "Her worst stage was graded 3 on the consensus scale of the American Society for Transplantation and Cellular "
        "Therapy. She underwent two sessions of TPE with 5% albumin."))
    assert (case.values["crs_grade"], case.values["crs_grading"]) == ("3", "ASTCT")


def test_patient_segmentation_component_on_a_bare_text():
    from extractors.nlp import build_nlp

    doc = build_nlp()(
        "Case 1. A 61-year-old man received cilta-cel. He developed grade 2 CRS. "
        "Case 2. A 47-year-old woman received axi-cel and had grade 4 CRS. Both patients recovered.")
    segments = doc._.patient_segments
    assert [(s.number, s.label) for s in segments] == [(1, "Case 1"), (2, "Case 2")]
    assert [s.text for s in segments[0].sentences] == [
        "Case 1.", "A 61-year-old man received cilta-cel.", "He developed grade 2 CRS."]
    assert segments[1].sentences[-1].text == "Both patients recovered."
    assert [s.text for s in segments[1].shared] == ["Both patients recovered."]
    assert doc._.patient_rows == []


@pytest.mark.parametrize("heading", ["RESULTS: Pt {}", "Case presentation - Patient {}", "Clinical course – Case {}"])
def test_a_label_after_a_headings_colon_or_dash_opens_the_patients_account(heading):
    extraction = extract(
        "Plasma exchange after CAR-T: two patients\n\nAna Silva, Tom Berg\n\n"
        f"{heading.format('A')}\n\n- 62 M, DLBCL; axicabtagene ciloleucel.\n- Grade 3 CRS on D+2; TPE x2 from D+4.\n\n"
        f"{heading.format('B')}\n\n- 55 F, myeloma; ciltacabtagene autoleucel.\n- Grade 4 CRS on D+6; TPE x3 from D+8.\n")
    assert [(c.values.get("age_years"), c.values.get("sex"), c.values.get("pe_sessions")) for c in extraction.cases] == [
        ("62", "M", "2"), ("55", "F", "3")]


def test_a_heading_of_results_and_a_number_is_no_label():
    from extractors.patients import _title_label

    assert _title_label("RESULTS: 2 patients") is None
    assert _title_label("Results: Patient 2 of the series, treated at our centre in 2021 and 2022") is None


@pytest.mark.parametrize("text, earlier", [
    ("Our first patient [1] remains in remission two years on.", True),
    ("Our previous patient had required five sessions.", True),
    ("The patient we had reported in 2021 died of relapse.", True),
    ("As described in our earlier letter, she responded within a day.", True),
    ("Our first patient was a 45-year-old man with DLBCL.", False),  # patient 1 of the article itself
    ("We describe a patient who received axi-cel.", False),
])
def test_the_authors_patient_of_an_earlier_article_is_not_of_this_one(text, earlier):
    from extractors.nlp import build_nlp
    from extractors.patients import about_other_patients

    assert about_other_patients(next(build_nlp()(text).sents)) is earlier


THREE_PATIENTS = (
    "Patient 1\n\nA 30-year-old man with B-ALL received tisagenlecleucel and had grade 3 CRS. He underwent two plasma "
    "exchanges.\n\nPatient 2\n\nA 45-year-old woman with DLBCL received axicabtagene ciloleucel and had grade 4 CRS; on "
    "day 4 she met the criteria for IEC-HS. She underwent three plasma exchanges.\n\nPatient 3\n\nA 52-year-old man "
    "with DLBCL received axicabtagene ciloleucel and had grade 3 CRS. He underwent one plasma exchange.\n\n{}\n\n")


@pytest.mark.parametrize("statement", [
    "None of the patients other than Patient 2 met criteria for IEC-HS.",
    "No patient except Patient 2 fulfilled the criteria for HLH.",
    "None of the patients, apart from patient 2, developed HLH.",
])
def test_a_group_statement_with_an_exception_is_about_the_other_patients(statement):
    cases = extract(HEADER + THREE_PATIENTS.format(statement)).cases
    assert [case.values.get("hlh", "") for case in cases] == ["no", "yes", "no"]


@pytest.mark.parametrize("statement, expected", [
    ("Neither of the other patients fulfilled criteria for HLH.", ["no", "yes", "no"]),  # patient 2's own account wins
    ("Patient 2 fulfilled the HLH-2004 criteria; the remaining patients did not.", ["no", "yes", "no"]),
    ("Patients 1 and 3 never met the criteria for IEC-HS.", ["no", "yes", "no"]),
    ("None of patients 1 and 3 met criteria for carHLH.", ["no", "yes", "no"]),
])
def test_a_statement_on_some_of_the_patients_is_about_those_it_names(statement, expected):
    cases = extract(HEADER + THREE_PATIENTS.format(statement)).cases
    assert [case.values.get("hlh", "") for case in cases] == expected


def test_a_group_statement_told_in_the_last_account_is_about_every_patient():
    text = THREE_PATIENTS.replace("; on day 4 she met the criteria for IEC-HS", "")
    cases = extract(HEADER + text.format("No patient fulfilled the criteria for haemophagocytic lymphohistiocytosis.")).cases
    assert [case.values.get("hlh", "") for case in cases] == ["no", "no", "no"]


@pytest.mark.parametrize("statement", [
    "None of the three patients treated with plasma exchange fulfilled the HLH-2004 criteria.",
    "None of our 3 patients met the criteria for IEC-HS.",
    "None of these three patients developed haemophagocytic lymphohistiocytosis.",
    "None of the three TPE-treated patients fulfilled criteria for HLH.",
])
def test_a_group_statement_counting_the_patients_denies_it_of_each(statement):
    text = THREE_PATIENTS.replace("; on day 4 she met the criteria for IEC-HS", "")
    cases = extract(HEADER + text.format(statement)).cases
    assert [case.values.get("hlh", "") for case in cases] == ["no", "no", "no"]


def test_a_statement_naming_several_patients_ends_the_account_of_one():
    cases = extract(HEADER + THREE_PATIENTS.format("Patients 1 and 2 met criteria for IEC-HS. Two more plasma "
                                                   "exchanges were performed.")).cases
    assert [case.values.get("hlh", "") for case in cases] == ["yes", "yes", ""]
    assert cases[2].values.get("pe_sessions") == "1"


def products_after_methods(methods: str) -> list[str]:
    """The products of the three patients when only the Methods name them."""
    header = "Plasma exchange after CAR-T cells\n\nAna Silva, Tom Berg\n\nDOI: 10.5555/test.1\n\nMethods\n\n"
    text = THREE_PATIENTS.replace("received tisagenlecleucel", "received the cells").replace(
        "received axicabtagene ciloleucel", "received the cells")
    cases = extract(header + methods + "\n\nCase presentation\n\n" + text.format("")).cases
    return [case.values.get("car_t_product", "") for case in cases]


def test_a_group_statement_of_the_methods_is_about_each_patient_of_a_series():
    methods = "Every patient was infused with an investigational CD19 CAR-T product made in our own laboratory."
    assert products_after_methods(methods) == ["investigational"] * 3


def test_a_discussion_of_our_patients_as_a_group_is_about_each_and_one_naming_a_patient_is_not():
    text = (HEADER + "Patient 1, a 47-year-old man with DLBCL, received axicabtagene ciloleucel and had grade 3 CRS; TPE "
            "was done on days 4 and 5.\n\nPatient 2, a 58-year-old woman with myeloma, received ciltacabtagene "
            "autoleucel and had grade 4 CRS; she underwent three TPE sessions from day 8.\n\nDiscussion\n\n"
            "In our two treated patients, IL-6 fell after TPE, and the CRS resolved in both. Every one of our "
            "patients received tocilizumab, and Patient 2 also received anakinra. Others have reported anakinra "
            "in all four of their patients.")
    cases = extract(text).cases
    assert [case.values.get("crs_resolved") for case in cases] == ["yes", "yes"]
    assert cases[0].values.get("other_drugs", "") == ""  # Patient 2's anakinra is not Patient 1's


def test_a_statement_counting_fewer_patients_than_the_series_is_about_those_given_the_exchange():
    accounts = "\n\n".join(
        f"Patient {n}, a {age}-year-old man with DLBCL, received axicabtagene ciloleucel and had grade 3 CRS; {pe}"
        for n, age, pe in ((1, 41, "TPE was done on days 4 and 5."), (2, 52, "TPE was done on day 6."),
                           (3, 63, "TPE was booked for day 4 and cancelled because the CRS improved; he never "
                                   "underwent TPE."), (4, 74, "TPE was done on days 3, 4 and 5.")))
    text = (HEADER.replace("Case presentation", "Patients and methods") + "The HLH-2004 criteria were applied to "
            "every patient with a ferritin above 10,000 ng/mL.\n\nResults\n\n" + accounts + "\n\nDiscussion\n\n"
            "In our three treated patients, IL-6 fell after the exchanges, and the CRS resolved in all three.")
    cases = extract(text).cases
    assert [case.in_scope for case in cases] == [True, True, False, True]
    assert [case.values.get("crs_resolved", "") for case in cases] == ["yes", "yes", "", "yes"]
    assert [case.values.get("hlh", "") for case in cases] == ["", "", "", ""]


def test_numbered_subsections_named_for_each_case_open_their_accounts():
    text = ("Plasma exchange after CAR-T cells\n\nAna Silva, Tom Berg\n\n2. Case descriptions\n\n2.1 Case 1\n\n"
            "A 63-year-old man with DLBCL received axicabtagene ciloleucel and had grade 3 CRS. TPE was done on days 4 "
            "and 5.\n\n2.2 Case 2\n\nA 58-year-old woman with mantle cell lymphoma received brexucabtagene "
            "autoleucel and had grade 4 CRS. Plasma exchange began on day 5 and was carried out on three consecutive "
            "days.\n\n3. Discussion\n\nBoth recovered.")
    cases = extract(text).cases
    assert [(case.label, case.values["age_years"], case.values["pe_sessions"]) for case in cases] == [
        ("Case 1", "63", "2"), ("Case 2", "58", "3")]


def test_a_statement_of_the_methods_naming_some_patients_is_about_those():
    methods = "Patients 1 and 3 received CD19 CAR-T cells in a phase I trial. Patient 2 received ciltacabtagene autoleucel."
    assert products_after_methods(methods) == ["investigational", "ciltacabtagene autoleucel", "investigational"]


def test_patient_segmentation_component_reads_table_rows():
    from extractors.nlp import process

    doc = process(parse_bytes(PATIENT_TABLE, "t.xml")[0])
    assert [(row.number, row.label) for row in doc._.patient_rows] == [(1, "Patient 1"), (2, "Patient 2")]


TWO_PATIENT_LABS = b"""<article article-type="case-report"><front><article-meta><title-group><article-title>Two patients given TPE after CAR-T</article-title></title-group></article-meta></front>
<body><sec><title>Case 1</title><p>A 63-year-old man with myeloma received idecabtagene vicleucel and developed grade 3 CRS.
TPE was performed on day +4 and day +5.</p></sec>
<sec><title>Case 2</title><p>A 29-year-old woman with B-ALL received tisagenlecleucel and developed grade 4 CRS.
TPE was performed on day +6.</p></sec>
<sec><title>Laboratory data</title>
<table-wrap><label>Table 1</label><caption><p>Cytokines by day in both patients</p></caption><table><thead><tr><th>Patient</th><th>Day</th><th>IL-6 (pg/mL)</th><th>Ferritin (ng/mL)</th></tr></thead>
<tbody><tr><td>1</td><td>+3</td><td>2,410</td><td>8,900</td></tr><tr><td>1</td><td>+7</td><td>96</td><td>3,100</td></tr>
<tr><td>2</td><td>+5</td><td>15,800</td><td>41,000</td></tr><tr><td>2</td><td>+8</td><td>730</td><td>12,600</td></tr></tbody></table></table-wrap>
<table-wrap><label>Table 2</label><caption><p>C-reactive protein of patient 2</p></caption><table><thead><tr><th>Parameter</th><th>Day +5</th><th>Day +7</th></tr></thead>
<tbody><tr><td>CRP (mg/L)</td><td>212</td><td>64</td></tr></tbody></table></table-wrap></sec></body></article>"""


def test_laboratory_tables_by_patient_and_day():
    first, second = extract_document(parse_bytes(TWO_PATIENT_LABS, "labs.xml")[0]).cases
    assert (first.values.get("il6_pre"), first.values.get("il6_post")) == ("2410", "96")
    assert (first.values.get("ferritin_pre"), first.values.get("ferritin_post")) == ("8900", "3100")
    assert (second.values.get("il6_pre"), second.values.get("il6_post")) == ("15800", "730")
    assert (second.values.get("crp_pre"), second.values.get("crp_post")) == ("212", "64")
    assert "crp_pre" not in first.values


def test_sessions_counted_from_again_and_one_exchange_and_doses_not_from_a_day():
    first = only_case(HEADER + (
        "A 61-year-old man with myeloma received ciltacabtagene autoleucel. CRS reached grade 3 on day +4 despite "
        "two doses of tocilizumab. Plasma exchange was performed on day +5 and again on day +6. "
        "At three months he was in complete response."))
    assert (first.values["pe_sessions"], first.values["pe_start_day"], first.values["tocilizumab_doses"]) == ("2", "5", "2")
    assert first.values["outcome"] == "alive" and first.values["response"] == "CR"
    second = only_case(HEADER + (
        "A 37-year-old woman with lymphoma received axicabtagene ciloleucel and developed grade 4 CRS. "
        "One plasma exchange with fresh frozen plasma was carried out on day +7. She died of sepsis on day +40 "
        "although restaging at day +30 had shown complete response."))
    assert (second.values["pe_sessions"], second.values["pe_start_day"]) == ("1", "7")
    assert second.values["outcome"] == "died"


@pytest.mark.parametrize("boundary", ["; ", ", but ", ", whereas ", ", although "])
def test_a_context_cue_ends_at_a_clause_boundary(boundary):
    from extractors.assertion import is_affirmed
    from extractors.evidence import concepts_in, sentences
    from extractors.nlp import process

    document = parse_bytes((HEADER + f"Siltuximab was considered{boundary}tocilizumab was given twice.").encode(),
                           "case.txt")[0]
    doc = process(document)
    drugs = {span.text.lower(): is_affirmed(span) for sentence in sentences(doc)
             for span in concepts_in(sentence, ("TOCILIZUMAB", "DRUG"))}
    assert drugs == {"siltuximab": False, "tocilizumab": True}


# Which case-table field each lexicon label fills is the registry's (pipeline/schema/fields.toml, "lexicon"):
# an entry's id is the value written, so it must be in that field's vocabulary, or for an open list be written
# as its cells are (lower case). MARKER ids name the <marker>_pre/_post fields instead. STEROID's
# "corticosteroids" is the class word, which fills no value itself (drugs.py skips it in sentences and cells; "no
# steroids" becomes "none").
LEXICON_IDS_FILLING_NO_VALUE = {("STEROID", "corticosteroids")}
# Labels whose ids fill no field: concepts (CAR-T, PE, the syndromes), laboratory analytes, tocilizumab (a count
# of doses) and lymphodepletion (not a treatment of CRS).
LEXICON_LABELS_WITHOUT_FIELD = {"CART", "PE", "CRS", "ICANS", "HLH", "LAB", "TOCILIZUMAB", "LYMPHODEPLETION"}


def test_every_lexicon_id_is_a_value_of_the_field_its_label_fills():
    from extractors.lexicon import lexicon_entries
    from pipeline.schema import FIELDS, MARKER_BY_ID

    lexicon_fields = {label: field for field in FIELDS if field.marker is None for label in field.lexicon}
    entries = lexicon_entries()
    labels = {entry["label"] for entry in entries}
    assert labels == set(lexicon_fields) | {"MARKER"} | LEXICON_LABELS_WITHOUT_FIELD, labels
    assert {entry["id"] for entry in entries if entry["label"] == "MARKER"} == set(MARKER_BY_ID)
    checked = 0
    for entry in entries:
        label, value = entry["label"], entry["id"]
        if label in lexicon_fields and (label, value) not in LEXICON_IDS_FILLING_NO_VALUE:
            field = lexicon_fields[label]
            if field.vocabulary:
                assert value in field.vocabulary, (entry, field.name, field.vocabulary)
            else:
                assert field.kind == "list" and value == value.lower() and ";" not in value, (entry, field.name)
            checked += 1
    assert checked >= 200, checked


@pytest.mark.parametrize("sentence, given", [
    ("Siltuximab was not given.", None),
    ("Anakinra was not administered because of a shortage.", None),
    ("Anakinra had not been given before the exchange.", None),
    ("Anakinra was given on day 5.", "anakinra"),
    ("He has not received anakinra.", None),  # active voice: the cue looks forward
    ("Anakinra and siltuximab are not stocked in our pharmacy.", None),  # not to be had
    ("Siltuximab was not available at the weekend.", None),
    ("Anakinra could not be obtained in time.", None),
])
def test_a_drug_said_not_to_have_been_given_is_not_a_co_treatment(sentence, given):
    case = only_case(HEADER + "A 40-year-old man with DLBCL received axicabtagene ciloleucel and developed grade 4 CRS "
                     "on day 2. Plasma exchange was performed on day 4. " + sentence)
    assert case.values.get("other_drugs") == given


def test_a_negation_after_a_semicolon_does_not_reach_back_across_it():
    case = only_case(HEADER + "A 40-year-old man with DLBCL received axicabtagene ciloleucel and developed grade 4 CRS "
                     "on day 2. Two rounds of plasmapheresis were carried out on days 4 and 5 against fresh frozen "
                     "plasma; a planned third round was not needed.")
    assert case.values.get("pe_replacement") == "FFP" and case.values.get("pe_sessions") == "2"


def test_a_terse_abstract_with_an_abbreviated_age_and_hours_after_infusion():
    case = only_case(HEADER + "Case: 58-y woman with DLBCL given axicabtagene ciloleucel. CRS began 30 h after "
                     "infusion and reached grade 3 (ASTCT). Plasma exchange was performed on day 4 and day 5.")
    assert (case.values.get("age_years"), case.values.get("sex"), case.values.get("crs_onset_day")) == ("58", "F", "1")


@pytest.mark.parametrize("text, days", [
    ("CRS began 30 h after infusion", [1]),
    ("fever 12 h after the CAR-T cell infusion", [0]),
    ("at 96 hours post CAR-T", [4]),
    ("tocilizumab at 32 h and 58 h", []),  # hours not counted from the infusion are no day
])
def test_hours_after_the_infusion_are_completed_days(text, days):
    from extractors.values import find_days

    assert [day for day, _, _ in find_days(text)] == days


@pytest.mark.parametrize("text, days", [
    ("commenced on day +6 and repeated on day +7, two sessions in all", [6, 7]),  # a count, not day two
    ("on days +5 and +6, two procedures in total", [5, 6]),
    ("on days five, six and seven", [5, 6, 7]),  # a list in words goes on in words
])
def test_a_list_of_days_goes_on_in_its_own_way_of_writing_them(text, days):
    from extractors.values import find_days

    assert [day for day, _, _ in find_days(text)] == days


@pytest.mark.parametrize("text, days", [
    ("the first plasma exchange on the afternoon of the fifth day", [5]),
    ("By the fourth day she was hypotensive", [4]),
    ("a second exchange followed on the sixth day", [6]),
    ("became febrile on the 4th day and needed oxygen", [4]),
    ("PID 5: first plasma exchange (PID 5, 6 and 7)", [5, 5, 6, 7]),  # post-infusion days
])
def test_a_day_counted_in_words_with_its_time_of_day(text, days):
    from extractors.values import find_days

    assert [day for day, _, _ in find_days(text)] == days


@pytest.mark.parametrize("text, lists", [
    ("TPE on D+5 and D+6, 1.0 plasma volume each", [[5, 6]]),
    ("on days 9, 10 and 11, 2 PV per session", [[9, 10, 11]]),
    ("on day +5 and again on +6", [[5, 6]]),
    ("on day 4 and a second on day 5", [[4, 5]]),
    ("on day 4, 3.5 L", []),  # one day and a volume: no list
    ("on days 4 and 5 he improved", [[4, 5]]),  # a word after the last day is no unit
])
def test_a_list_of_days_ends_where_a_number_is_no_day(text, lists):
    from extractors.values import day_series

    assert [days for days, _, _ in day_series(text)] == lists


@pytest.mark.parametrize("sentence", [
    "It was not necessary to give corticosteroids nor to do plasmapheresis.",
    "The apheresis service was consulted for plasma exchange.",
    "A single plasma exchange was booked for the next morning.",
    "A plasma exchange was scheduled for day 5.",
])
def test_an_exchange_only_planned_or_said_unnecessary_is_not_affirmed(sentence):
    from extractors.assertion import is_affirmed
    from extractors.evidence import concepts_in, sentences
    from extractors.nlp import process

    doc = process(parse_bytes((HEADER + sentence).encode(), "case.txt")[0])
    exchanges = concepts_in(sentences(doc)[-1], "PE")  # the sentence's, not the title's
    assert exchanges and not any(is_affirmed(span) for span in exchanges)


# -- negation is medspaCy's ConText alone (rules in extractors/resources/context_rules.json) -------------------------
CASE_START = HEADER + "A 40-year-old man with DLBCL received axicabtagene ciloleucel and developed grade 4 CRS. "


def _exchange_affirmed(text: str) -> list[bool]:
    from extractors.assertion import is_affirmed
    from extractors.evidence import concepts_in, sentences
    from extractors.nlp import process

    doc = process(parse_bytes((HEADER + text).encode(), "case.txt")[0])
    return [is_affirmed(span) for span in concepts_in(sentences(doc)[-1], "PE")]


@pytest.mark.parametrize("text, affirmed", [
    ("Plasma exchange was not performed.", [False]),
    ("Plasma exchange after CAR-T: nil", [False]),  # a heading and a word for nothing
    ("Because vasopressor support could not be reduced, TPE was performed on day 5.", [True]),  # its own clause affirms it
    ("Because he was afebrile, the third exchange that had been scheduled for that day was cancelled.", [False]),
])
def test_an_exchange_is_negated_or_affirmed_by_context_rules(text, affirmed):
    assert _exchange_affirmed(text) == affirmed


@pytest.mark.parametrize("sentence, field, value", [
    ("There was no HLH.", "hlh", "no"),
    # a statement on the HLH criteria speaks of the sentence's mention across the clause boundary
    ("HLH was suspected because of the ferritin of 15,600 µg/L, but the criteria were not met.", "hlh", "no"),
    ("HLH was diagnosed on day 6.", "hlh", "yes"),
    ("Tocilizumab was not given.", "tocilizumab_doses", "0"),
    ("Tocilizumab was given twice.", "tocilizumab_doses", "2"),
    ("His CRS never resolved, and he died of multiorgan failure on day 16.", "outcome", "died"),
    ("There was no death in this patient.", "outcome", None),
    ("The CRS never fully resolved.", "crs_resolved", None),
    ("Not needed — CRS resolved on day +6.", "crs_resolved", "yes"),
    ("Norepinephrine could be stopped on day 8 and the CRS was regarded as resolved on day 9.", "crs_resolved", "yes"),
    ("Fever developed on day 1.", "crs_onset_day", "1"),
    ("No fever developed on day 1.", "crs_onset_day", None),
    ("Her fever began on the evening of the infusion itself, and by day +2 she required norepinephrine.",
     "crs_onset_day", "0"),
])
def test_a_value_read_through_context(sentence, field, value):
    assert only_case(CASE_START + sentence).values.get(field) == value


@pytest.mark.parametrize("sentence, sessions", [
    ("Plasma exchange was performed on day 4 and day 5; a third session was cancelled.", "2"),
    ("Plasma exchange was started on day 4. A total of three sessions was programmed, but the third session was "
     "cancelled because of catheter thrombosis, so he received only two sessions.", "2"),
    ("TPE (indication: ICANS, not CRS): x3, D7, D8, D9, 1.5 plasma volumes each", "3"),  # "not" ends with its heading
    ("Plasma exchange was started on day 4. IL-6 declined from 3,410 to 260 pg/mL after two procedures.", "2"),
])
def test_a_count_of_sessions_negated_or_planned_does_not_count(sentence, sessions):
    assert only_case(CASE_START + sentence).values.get("pe_sessions") == sessions


CONTEXT_RULES = Path(extractors.__file__).parent / "resources" / "context_rules.json"


def _context_rules() -> list[dict]:
    return json.loads(CONTEXT_RULES.read_text(encoding="utf-8"))["context_rules"]


def test_context_rules_load_and_name_known_target_types():
    from medspacy.context import ConTextRule

    from extractors.fields.outcome import DEATH_TARGET, RESOLUTION_TARGET
    from extractors.fields.purification import SESSION_COUNT_TARGET
    from extractors.fields.toxicity import FEVER_TARGET
    from extractors.lexicon import lexicon_entries

    types = {entry["label"] for entry in lexicon_entries()} | {DEATH_TARGET, RESOLUTION_TARGET, SESSION_COUNT_TARGET,
                                                               FEVER_TARGET}
    rules = _context_rules()
    assert len(ConTextRule.from_json(CONTEXT_RULES)) == len(rules)
    for rule in rules:
        assert set(rule.get("allowed_types", ())) <= types, rule
        # medspaCy 1.3 cuts a cue's scope at a terminator only when their scopes overlap (tuple_overlaps), which
        # misses a cue's scope lying wholly inside a wider terminator's
        assert rule["direction"] != "TERMINATE" or rule.get("max_scope") == 1, rule
        assert rule.get("metadata", {}).get("scope", "sentence") == "sentence", rule


# -- table rules as data (extractors/resources/tables/) ---------------------------------------------------------------
# Keys of the header rules that are no schema field: the patient column, a joint age/sex column, and the markers
# (a marker's column fills <marker>_pre and <marker>_post)
HEADER_PSEUDO_KEYS = {"patient", "age_sex"}
# Keys of the cell wordings that are no schema field: any column's "no value", and the patient column
CELL_PSEUDO_KEYS = {"any", "patient"}


def test_every_table_header_example_names_its_own_field():
    from extractors.fields.labs import TARGET_UNITS
    from extractors.table_rules import header_field, header_rules
    from pipeline.schema import FIELD_BY_NAME

    rules = header_rules()
    assert len(rules) >= 25
    for rule in rules:
        assert rule.field in FIELD_BY_NAME or rule.field in HEADER_PSEUDO_KEYS | set(TARGET_UNITS), rule
        assert header_field(rule.example) == rule.field, rule


@pytest.mark.parametrize("header, field", [
    ("CRS (max)", "crs_grade"), ("Peak CRS", "crs_grade"), ("CRS grade", "crs_grade"), ("CRS", "crs_grade"),
    ("CRS onset (day)", "crs_onset_day"), ("CRS resolved", "crs_resolved"),
])
def test_a_crs_column_of_its_worst_grade_is_the_grade(header, field):
    from extractors.table_rules import header_field

    assert header_field(header) == field


def test_every_cell_wording_example_reads_as_its_own_value():
    from extractors.table_rules import cell_rules, cell_value, is_missing, patient_number
    from pipeline.schema import FIELD_BY_NAME, InvalidValue, normalize_cell

    for rule in cell_rules():
        if rule.field == "any":
            assert is_missing(rule.example), rule
        elif rule.field == "patient":
            assert patient_number(rule.example) == int(rule.value), rule
        else:
            assert rule.field in FIELD_BY_NAME, rule
            assert cell_value(rule.field, rule.example) == rule.value, rule
            try:
                normalize_cell(rule.field, rule.value)
            except InvalidValue:
                pytest.fail(f"{rule}: {rule.value!r} is no value of {rule.field}")
    assert {r.field for r in cell_rules()} - CELL_PSEUDO_KEYS >= {"hlh", "outcome", "crs_resolved"}


@pytest.mark.parametrize("text, number", [("Pt 3", 3), ("#12", 12), ("Case 2", 2), ("4", 4), ("Subject 5", 5),
                                          ("Day 3", None), ("IL-6", None)])
def test_a_row_names_its_patient(text, number):
    from extractors.table_rules import patient_number

    assert patient_number(text) == number


def test_a_statement_about_as_many_patients_as_the_article_labels_is_about_each_of_them():
    extraction = extract(
        "Plasma exchange for CRS after bispecific CAR-T cells: two cases\n\nAna Silva, Tom Berg\n\nAbstract\n\n"
        "Two patients with relapsed B-ALL received investigational CD19/CD22 bispecific CAR-T cells. "
        "Case 1, male, 31 y. Grade 4 CRS on D3; PE on D4 and D5. Case 2, female, 16 y. Grade 3 CRS on D2; PE on D3.")
    values = [{k: case.values.get(k) for k in ("age_years", "sex", "diagnosis", "car_t_target")}
              for case in extraction.cases]
    assert values == [{"age_years": "31", "sex": "M", "diagnosis": "B-ALL", "car_t_target": "CD19/CD22"},
                      {"age_years": "16", "sex": "F", "diagnosis": "B-ALL", "car_t_target": "CD19/CD22"}]


@pytest.mark.parametrize("name, stem", [("g1_echeverria2021.txt", "echeverria2021"), ("authorea2023.txt", "authorea2023"),
                                        ("2021-case.txt", "case")])
def test_without_a_byline_the_case_id_comes_from_the_file_names_first_word(name, stem):
    """A prefix such as a set's "g1_" or a year is no author: the id takes the first word of the file name, and the
    year that follows an author's name there when the text prints none."""
    text = "A 40-year-old man with DLBCL received axicabtagene ciloleucel, had grade 3 CRS and underwent plasma exchange."
    cases = extract(text, name).cases
    assert [case.case_id for case in cases] == [f"{stem}-1"]


def test_a_terse_abstract_telling_each_patient_in_a_labelled_clause():
    """"(P1, 61F, MM, in-house CAR-T; P2, 47M, MM, cilta-cel)": one sentence tells of two patients, a clause each; the
    products counted over the cohort ("n=9") are no patient's, and "both survived" is said of each."""
    text = HEADER + (
        "Results: Of 14 patients treated with BCMA-directed cells (in-house product, n=9; cilta-cel, n=5), 3 had grade 4 "
        "CRS, of whom 2 received plasmapheresis and both survived with CRS resolved (P1, 61F, MM, in-house CAR-T; "
        "P2, 47M, MM, cilta-cel). P1: CRS onset D+2, max G4; TCZ x2; PLEX x2 (D+4, D+5), FFP; PR at D+60. "
        "P2: CRS onset D+1, max G4; TCZ x1; PLEX x3 (D+3 to D+5), albumin; sCR at D+90.")
    cases = extract(text).cases
    assert [case.label for case in cases] == ["Patient 1", "Patient 2"]
    first, second = (case.values for case in cases)
    assert {k: first.get(k) for k in ("age_years", "sex", "car_t_product", "car_t_target", "outcome", "crs_resolved",
                                      "response", "pe_sessions")} == {
        "age_years": "61", "sex": "F", "car_t_product": "investigational", "car_t_target": "BCMA", "outcome": "alive",
        "crs_resolved": "yes", "response": "PR", "pe_sessions": "2"}
    assert {k: second.get(k) for k in ("age_years", "sex", "car_t_product", "outcome", "response", "pe_sessions")} == {
        "age_years": "47", "sex": "M", "car_t_product": "ciltacabtagene autoleucel", "outcome": "alive",
        "response": "CR", "pe_sessions": "3"}


def test_a_day_table_gives_the_days_of_exchanges_held_not_those_postponed_or_sampled_after():
    from extractors.nlp import process
    from extractors.tables import table_exchange_days

    text = ("Plasma exchange after CAR-T\n\nAna Silva, Tom Berg\n\nCase presentation\n\nA man had CRS.\n\n"
            "Table 1. Course\n\n| Day | IL-6 (pg/mL) | Treatment |\n|---|---|---|\n| 4 | 900 | TPE 1; dexamethasone |\n"
            "| 5 | 700 | TPE postponed |\n| 6 | 500 | morning after TPE 1 |\n| 7 | 300 | Tocilizumab; TPE no. 2 |\n"
            "| 8 | 200 | TPE 3 planned, not performed |\n\nHe recovered.")
    document = parse_bytes(text.encode(), "case.txt")[0]
    assert table_exchange_days(process(document), document) == [4, 7]


@pytest.mark.parametrize("text, number", [
    ("Day 9: TPE session 3", "3"), ("PLEX no. 4; CVVHDF", "4"), ("plasma exchange #2 with albumin", "2"),
    ("TPE 1.5 plasma volumes", None), ("PLEX 40 mL/kg", None), ("TPE 2 times", None), ("TPE on day 3", None),
])
def test_a_session_told_by_its_number(text, number):
    from extractors.fields.purification import NUMBERED_SESSION

    match = NUMBERED_SESSION.search(text)
    assert (match.group("n") if match else None) == number


@pytest.mark.parametrize("mark", ["• ", "- ", "▪ ", "– ", "* "])
def test_a_patient_label_opening_a_list_item_opens_the_patients_account(mark):
    """A poster's cases as list items ("• Patient 2: 45-year-old woman ..."): the list mark before the label is no
    text, so each item opens its own patient's account, the first patient's row takes none of the second's facts, and
    "• Both alive" is said of each."""
    cases = extract(HEADER + (
        f"{mark}Case 1: 33-year-old woman, B-ALL, tisagenlecleucel. Grade 3 CRS on day 2. Two TPE sessions with FFP.\n"
        f"{mark}Case 2: 60-year-old man, myeloma, idecabtagene vicleucel. Grade 4 CRS on day 1. Four TPE sessions "
        f"with albumin.\n\nOutcomes\n\n{mark}Both alive at last follow-up.\n")).cases
    assert [(c.label, c.values.get("age_years"), c.values.get("car_t_product"), c.values.get("pe_sessions"),
             c.values.get("pe_replacement"), c.values.get("outcome")) for c in cases] == [
        ("Case 1", "33", "tisagenlecleucel", "2", "FFP", "alive"),
        ("Case 2", "60", "idecabtagene vicleucel", "4", "albumin", "alive")]


def test_an_ordinal_label_opening_a_list_item_opens_the_patients_account():
    cases = extract(HEADER + (
        "▪ The first patient, a 52-year-old man with DLBCL, received axicabtagene ciloleucel and had grade 3 CRS; "
        "he underwent two plasma exchanges.\n"
        "▪ The second patient, a 29-year-old woman with B-ALL, received tisagenlecleucel and had grade 4 CRS; she "
        "underwent three plasma exchanges.\n")).cases
    assert [(c.values.get("age_years"), c.values.get("pe_sessions")) for c in cases] == [("52", "2"), ("29", "3")]


def test_a_trial_protocol_tells_of_no_patient():
    """A protocol's eligibility rules and planned exchanges ("Adolescents aged 12 or older ... will be randomised") are
    no patient's account, whether or not its publication type says protocol."""
    text = ("Plasma exchange for severe CRS after CAR-T cells: protocol of a randomised trial\n\nAna Silva, Tom Berg\n\n"
            "Abstract\n\nAdolescents and adults aged 14 years or older who develop grade 3 CRS after a "
            "BCMA-directed CAR-T product will be randomised to standard care or to plasma exchange, with 1.0 plasma "
            "volume of albumin daily for up to three sessions. The primary outcome is time to resolution of CRS.\n\n"
            "Ethics\n\nNo participant had been enrolled at the time of submission.")
    assert extract(text).cases == []


def test_a_document_typed_as_a_trial_protocol_tells_of_no_patient():
    xml = ("<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>"
           "<ArticleTitle>Plasma exchange for CRS after CAR-T cells: a trial protocol.</ArticleTitle><Abstract>"
           "<AbstractText>A 40-year-old man with DLBCL given axicabtagene ciloleucel who develops grade 3 CRS is "
           "eligible; he receives three plasma exchanges with albumin.</AbstractText></Abstract>"
           "<PublicationTypeList><PublicationType>Clinical Trial Protocol</PublicationType></PublicationTypeList>"
           "</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>")
    extraction = extract(xml, "protocol.xml")
    assert (extraction.cases, extraction.status) == ([], "irrelevant")


def test_a_table_note_gives_a_marker_column_its_unit():
    from extractors.tables import footnote_unit
    notes = ["a Ferritin in µg/L.", "b CRP in mg/dL.", "PV, plasma volume; FFP, fresh frozen plasma."]
    assert footnote_unit("crp", notes) == "mg/dL"
    assert footnote_unit("ferritin", notes) == "µg/L"
    assert footnote_unit("il6", notes) is None
    assert footnote_unit("crp", ["CRP was measured daily."]) is None


def test_an_hour_count_restated_as_a_day_gives_that_day():
    from extractors.values import find_days
    assert [d for d, _, _ in find_days("Fever began 20 hours after infusion, on day +1.")] == [1]
    assert [d for d, _, _ in find_days("CRS began 30 h after infusion and TPE followed on day 4.")] == [1, 4]


UNLABELLED_SERIES = """Plasmapheresis for severe CRS after CAR-T cells: three consecutive recipients

Ana Silva, Tom Berg

Introduction

A 45-year-old woman with myeloma was reported by Liu and colleagues to respond to three procedures.

Patients and course

A 58-year-old man with DLBCL received axicabtagene ciloleucel. CRS reached grade 3 on D+2. Plasmapheresis was started
on D+4 and repeated on D+5, two procedures with 5% albumin. The CRS resolved on D+9.

A woman of 44 with B-ALL received tisagenlecleucel and had grade 4 CRS from D+1. Plasmapheresis was performed on D+3,
a single procedure with fresh frozen plasma. She died of an infection on D+47.

A 71-year-old woman with mantle cell lymphoma received brexucabtagene autoleucel and had grade 2 CRS. Plasmapheresis
was not indicated and was not performed.

Discussion

A 30-year-old man in another series needed five procedures.
"""


def test_a_series_telling_each_patient_in_a_paragraph_of_its_own_without_labels():
    """Each paragraph opening with a new person by age and sex is a patient of its own, in the order told; a person of
    another report (introduction, discussion) is none, and the patient given no exchange is out of scope."""
    extraction = extract_document(parse_bytes(UNLABELLED_SERIES.encode(), "series.txt")[0])
    cases = [(c.values.get("age_years"), c.values.get("sex"), c.values.get("pe_sessions"), c.in_scope)
             for c in extraction.cases]
    assert cases == [("58", "M", "2", True), ("44", "F", "1", True), ("71", "F", "0", False)]
    first, second = extraction.cases[:2]
    assert first.values.get("crs_resolved") == "yes" and "outcome" not in first.values
    assert second.values.get("outcome") == "died" and second.values.get("pe_replacement") == "FFP"


ORDINAL_PATIENTS_THEN_DISCUSSION = """Plasma exchange after CAR-T cells: a regional centre

Ana Silva, Tom Berg

We report three patients with grade 3 CRS in whom TPE was considered.

The first patient, a 58-year-old man with myeloma, received idecabtagene vicleucel; TPE was performed on day 3 and day 4 (two sessions of 2.8 L each). The second patient, a 66-year-old woman with DLBCL, received lisocabtagene maraleucel, and one TPE session of 3.1 L was carried out on day 6. The third patient, a 49-year-old man with lymphoma, received axicabtagene ciloleucel; TPE was ordered for day 4, but the procedure was cancelled when he improved, and he recovered without it.

Two exchanges, or even a single one, were enough in our patients, in contrast to the five sessions reported by some Chinese centres.
"""


def test_a_paragraph_about_all_the_patients_ends_the_last_account():
    """Where no heading tells where the accounts end, a paragraph speaking of "our patients" is about them all, not
    about the last one told; an exchange ordered and then cancelled is none."""
    extraction = extract_document(parse_bytes(ORDINAL_PATIENTS_THEN_DISCUSSION.encode(), "letter.txt")[0])
    assert [(c.values.get("age_years"), c.values.get("pe_sessions"), c.in_scope) for c in extraction.cases] == \
        [("58", "2", True), ("66", "1", True), ("49", "0", False)]


SESSION_TABLE = b"""<article article-type="case-report"><front><article-meta><title-group><article-title>TPE after CAR-T</article-title></title-group></article-meta></front>
<body><sec><title>Case presentation</title><p>A 41-year-old man with DLBCL received axicabtagene ciloleucel and developed grade 3
CRS. Plasma exchange was begun (Table 1).</p>
<table-wrap><label>Table 1</label><caption><p>The exchanges.</p></caption><table>
<thead><tr><th>Session</th><th>Day</th><th>Volume processed (L)</th><th>Replacement fluid</th><th>IL-6 before (pg/mL)</th><th>IL-6 after (pg/mL)</th></tr></thead>
<tbody><tr><td>1</td><td>5</td><td>2.9</td><td>5% albumin</td><td>3,120</td><td>1,480</td></tr>
<tr><td>2</td><td>6</td><td>2.9</td><td>5% albumin</td><td>1,710</td><td>690</td></tr>
<tr><td>3</td><td>7</td><td>2.9</td><td>5% albumin + FFP (1:1)</td><td>820</td><td>245</td></tr></tbody></table></table-wrap>
</sec></body></article>"""


def test_a_table_of_the_exchanges_one_row_per_session():
    """As many sessions as rows, the first row's day, a volume every row gives, the fluids of all the rows, and each
    marker before the first session and after the last, each value from its cell."""
    document = parse_bytes(SESSION_TABLE, "sessions.xml")[0]
    case = extract_document(document).cases[0]
    assert {name: case.values.get(name) for name in ("pe_sessions", "pe_start_day", "pe_volume_ml", "pe_replacement",
                                                     "il6_pre", "il6_post")} == \
        {"pe_sessions": "3", "pe_start_day": "5", "pe_volume_ml": "2900", "pe_replacement": "FFP+albumin",
         "il6_pre": "3120", "il6_post": "245"}
    for name in ("pe_start_day", "il6_pre", "il6_post"):
        assert all(document.cell_at(span.start_char) is not None for span in case.evidence[name])


SEMICOLON_CLAUSES = b"""<article article-type="case-report"><front><article-meta><title-group><article-title>TPE after CAR-T</article-title></title-group></article-meta></front>
<body><sec><title>Results</title><p>Three patients were treated with TPE for CRS (Table 1). Patients 1 and 3 received CD19-directed
cells manufactured by the academic programme of a partner university; patient 2 received axicabtagene ciloleucel.
In patient 1 the CRS resolved on day 8. Patient 3 died on day 16 with active CRS.</p>
<table-wrap><label>Table 1</label><table><thead><tr><th>Patient</th><th>Age (y)/Sex</th><th>Max CRS grade</th><th>TPE sessions</th></tr></thead>
<tbody><tr><td>1</td><td>34/M</td><td>3</td><td>2</td></tr><tr><td>2</td><td>52/F</td><td>4</td><td>5</td></tr>
<tr><td>3</td><td>27/M</td><td>4</td><td>3</td></tr></tbody></table></table-wrap></sec></body></article>"""


def test_clauses_between_semicolons_each_about_the_patients_they_open_with():
    """"Patients 1 and 3 received academic cells; patient 2 received axicabtagene ciloleucel": each clause is about
    the patients it names, not the whole sentence about each."""
    cases = extract_document(parse_bytes(SEMICOLON_CLAUSES, "series.xml")[0]).cases
    assert [c.values.get("car_t_product") for c in cases] == \
        ["investigational", "axicabtagene ciloleucel", "investigational"]


REVIEW_WITH_A_CASE = b"""<article article-type="review-article"><front><article-meta><title-group><article-title>CAR-T toxicity for referring teams</article-title></title-group></article-meta></front>
<body><sec><title>Cytokine release syndrome</title><p>Most cases settle with tocilizumab; a pooled analysis of 19 published
patients reported a median of three exchanges. Anakinra and siltuximab are given when it fails.</p>
<boxed-text><caption><title>Case illustration: plasma exchange in a child</title></caption>
<p>An 11-year-old boy with B-ALL received tisagenlecleucel and had grade 4 CRS on day 2. Plasma exchange with fresh
frozen plasma was performed on days 4 and 5.</p></boxed-text></sec></body></article>"""


def test_a_review_illustrated_with_a_case_of_its_own():
    """A review tells of no patient of its own, unless a section of it tells one ("Case illustration"), which is then
    the patient's whole account; the review's own text gives nobody's values."""
    extraction = extract_document(parse_bytes(REVIEW_WITH_A_CASE, "review.xml")[0])
    assert [(c.values.get("age_years"), c.values.get("pe_sessions"), c.in_scope) for c in extraction.cases] == \
        [("11", "2", True)]
    assert "other_drugs" not in extraction.cases[0].values  # the review's own words on drugs are no patient's
    without_the_case = REVIEW_WITH_A_CASE.replace(b"Case illustration: plasma exchange in a child", b"Box 1")
    assert extract_document(parse_bytes(without_the_case, "review.xml")[0]).cases == []


def test_a_worked_example_of_a_hypothetical_patient_is_no_patient_of_the_article():
    text = ("We recommend the ASTCT consensus for grading CRS; plasma exchange may be considered when CRS is "
            "refractory.\n\n5. Worked example (hypothetical)\nThe following example illustrates the recommendations; "
            "it is not a real patient. A 50-year-old man received axicabtagene ciloleucel and had grade 3 CRS on day 5. "
            "Two sessions of plasma exchange were performed on days 6 and 7.\n\n6. Neurotoxicity\nICANS should be "
            "assessed twice daily.")
    assert not [case for case in extract(HEADER + text).cases if case.in_scope]
