"""The field registry: each field declared once in pipeline/schema/fields.toml, checked when loaded, and every
other description of the fields derived from it; SCHEMA.md generated from it; refused values reported."""

import csv
import shutil
import tomllib
from pathlib import Path

import pytest
import spacy

from extractors.cases import Case, _finalise
from extractors.evidence import Finding
from extractors.finding_spans import finding_span
from pipeline.schema import (COLUMNS, FIELD_BY_NAME, FIELDS, GROUPS, KINDS, MARKER_UNITS, MARKERS, REGISTRY,
                             RegistryError, normalize_cell)
from pipeline.schema.registry import FIELDS_FILE, load_registry, parse_registry

ROOT = Path(__file__).resolve().parent.parent
COHORT_FIELDS = [f.name for f in FIELDS if f.marker is None]


def test_every_field_has_a_kind_a_group_a_label_and_a_description():
    groups = {g.id for g in GROUPS}
    for field in FIELDS:
        assert field.kind in KINDS, field
        assert field.group in groups, field
        assert field.label.strip() and field.description.strip(), field
    assert len({f.label for f in FIELDS}) == len(FIELDS), "two fields share a label"


def test_each_marker_gives_a_pre_and_a_post_field_in_its_unit():
    for marker in MARKERS:
        for name in (marker.pre, marker.post):
            field = FIELD_BY_NAME[name]
            assert (field.kind, field.unit, field.marker, field.minimum) == ("number", marker.unit, marker.id, 0)
            assert field.label.startswith(marker.label)
    assert sum(f.marker is not None for f in FIELDS) == 2 * len(MARKERS)


def test_the_columns_follow_the_groups_in_their_order():
    order = [g.id for g in GROUPS]
    positions = [order.index(f.group) for f in FIELDS]
    assert positions == sorted(positions)
    assert COLUMNS[:6] == [i.name for i in REGISTRY.identity] and COLUMNS[6:] == [f.name for f in FIELDS]


def test_marker_units_convert_with_the_extractors_quantities():
    from extractors.quantities import Quantity

    for marker in MARKERS:
        assert Quantity(1.0, marker.unit, 0, 0).to(marker.unit) == pytest.approx(1.0)


# -- every other place derives from the registry -----------------------------------------------------------------
def test_the_extractors_take_units_bounds_and_group_fields_from_the_registry():
    from extractors import cases, tables
    from extractors.fields import demographics, drugs, labs, purification, toxicity

    assert labs.TARGET_UNITS == MARKER_UNITS and not hasattr(tables, "TARGET_UNITS")  # tables convert through labs
    assert cases.GROUP_FIELDS == {f.name for f in FIELDS if f.group_statement}
    assert cases.LIST_FIELDS == {f.name for f in FIELDS if f.kind == "list"}
    assert demographics.AGE_YEARS is FIELD_BY_NAME["age_years"]
    assert toxicity.CRS_GRADE is FIELD_BY_NAME["crs_grade"]
    assert drugs.TOCILIZUMAB_DOSES is FIELD_BY_NAME["tocilizumab_doses"]
    assert purification.PE_SESSIONS is FIELD_BY_NAME["pe_sessions"]
    assert purification.PE_VOLUME is FIELD_BY_NAME["pe_volume_ml"]
    assert purification.PLASMA_VOLUMES_FIELD is FIELD_BY_NAME["pe_plasma_volumes"]


def test_the_reports_take_markers_kinds_labels_and_groups_from_the_registry():
    from pipeline.report import html, summary

    assert summary.MARKERS == {m.id: (m.label, m.unit) for m in MARKERS}
    assert sorted(summary.CATEGORY_FIELDS + summary.LIST_FIELDS + summary.NUMBER_FIELDS) == sorted(COHORT_FIELDS)
    assert set(summary.LIST_FIELDS) == {f.name for f in FIELDS if f.kind == "list"}
    assert all(FIELD_BY_NAME[name].kind in ("number", "integer") for name in summary.NUMBER_FIELDS)
    assert all(html.LABELS[f.name] == f.label for f in FIELDS)
    shown = [name for _, counted, numbers in html.COHORT_GROUPS for name in counted + numbers]
    assert sorted(n for n in shown if n in FIELD_BY_NAME) == sorted(COHORT_FIELDS)
    labels = {g.label for g in GROUPS}
    assert all(title in labels for title, _, _ in html.COHORT_GROUPS)
    for title, counted, numbers in html.COHORT_GROUPS:
        group = next(g.id for g in GROUPS if g.label == title)
        assert all(FIELD_BY_NAME[n].group == group for n in counted + numbers if n in FIELD_BY_NAME)


def test_the_report_template_names_no_marker_itself():
    from pipeline.report.html import TEMPLATES

    template = (TEMPLATES / "report.html").read_text(encoding="utf-8")
    for marker in MARKERS:
        assert f'"{marker.id}"' not in template and f'"{marker.label}"' not in template
        assert marker.unit not in template


def test_the_gold_import_converts_markers_to_the_registry_units():
    from pipeline.scoring import gold_import

    assert gold_import.MARKER_UNITS is MARKER_UNITS
    assert {name: gold_import._marker(name) for name in ("il6_pre", "crp_post", "age_years")} == \
        {"il6_pre": "il6", "crp_post": "crp", "age_years": None}


def test_the_web_form_hints_the_registry_bounds():
    from pipeline.web.app import _field_input

    field = FIELD_BY_NAME["pe_plasma_volumes"]
    assert _field_input("pe_plasma_volumes")["hint"] == f"number {field.minimum:g}–{field.maximum:g}"


@pytest.mark.parametrize("phrase, read", [("1.5 plasma volumes", "1.5"), ("3.5 plasma volumes", None)])
def test_a_reader_keeps_to_the_registry_bounds(phrase, read):
    from extractors.cases import extract_document
    from pipeline.parsing import parse_bytes

    text = ("Plasma exchange after CAR-T cells\n\nAna Silva\n\nCase presentation\n\nA 40-year-old man with DLBCL "
            f"received axicabtagene ciloleucel and developed grade 4 CRS on day 2. Plasma exchange of {phrase} "
            "was performed on day 4.")
    case = extract_document(parse_bytes(text.encode(), "case.txt")[0]).cases[0]
    assert case.values.get("pe_plasma_volumes") == read
    assert FIELD_BY_NAME["pe_plasma_volumes"].admits(float(phrase.split()[0])) == (read is not None)


def test_the_bounds_refuse_values_beyond_them():
    field = FIELD_BY_NAME["tocilizumab_doses"]
    assert normalize_cell("tocilizumab_doses", f"{field.maximum:g}") == f"{field.maximum:g}"
    with pytest.raises(Exception, match=f"between {field.minimum:g} and {field.maximum:g}"):
        normalize_cell("tocilizumab_doses", f"{field.maximum + 1:g}")
    with pytest.raises(Exception, match="il6_pre must be at least 0"):
        normalize_cell("il6_pre", "-1")


# -- the registry checks what it loads ---------------------------------------------------------------------------
def registry_data() -> dict:
    return tomllib.loads(FIELDS_FILE.read_text(encoding="utf-8"))


def test_the_registry_file_loads_as_the_registry():
    assert load_registry() == REGISTRY


@pytest.mark.parametrize("change, problem", [
    (lambda d: d["field"][0].update(kind="text"), "kind 'text' is not one of number, integer, category, list"),
    (lambda d: d["field"][0].update(colour="red"), "unknown key 'colour'"),
    (lambda d: d["field"][1].pop("vocabulary"), "a category needs a vocabulary"),
    (lambda d: d["field"][0].update(group="nowhere"), "group 'nowhere' is not declared"),
    (lambda d: d["field"][0].update(minimum=200), "minimum 200 is above maximum 110"),
    (lambda d: d["field"][0].update(maximum="many"), "'maximum' must be a number"),
    (lambda d: d["field"][0].pop("label"), "'label' is missing"),
    (lambda d: d["field"].append(dict(d["field"][1])), "column declared more than once: sex"),
    (lambda d: d["field"].append({**d["field"][0], "name": "il6_pre"}), "column declared more than once: il6_pre"),
    (lambda d: d["moment"].pop("post"), "[moment.pre] and [moment.post]"),
])
def test_a_broken_registry_is_refused_with_the_reason(change, problem):
    data = registry_data()
    change(data)
    with pytest.raises(RegistryError) as error:
        parse_registry(data)
    assert problem in str(error.value)


def test_every_problem_of_a_registry_is_told_at_once():
    data = registry_data()
    data["field"][0]["kind"] = "text"
    data["field"][2]["group"] = "nowhere"
    with pytest.raises(RegistryError) as error:
        parse_registry(data)
    assert "'age_years'" in str(error.value) and "'diagnosis'" in str(error.value)


def test_editing_the_registry_changes_the_cache_keys_of_extraction_and_pages(tmp_path, monkeypatch):
    from pipeline.run import work_cache

    for source in {*work_cache.EXTRACTOR_SOURCES, *work_cache.REPORT_SOURCES}:
        copied = tmp_path / source
        copied.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (ROOT / source).is_dir() else shutil.copy)(ROOT / source, copied)
    monkeypatch.setattr(work_cache, "PROJECT_ROOT", tmp_path)

    def keys() -> tuple[str, str]:
        work_cache.extractor_fingerprint.cache_clear()
        work_cache.report_fingerprint.cache_clear()
        return work_cache.extractor_fingerprint(), work_cache.report_fingerprint()

    before = keys()
    registry = tmp_path / "pipeline/schema/fields.toml"
    registry.write_text(registry.read_text(encoding="utf-8").replace("maximum = 20\n", "maximum = 25\n"), encoding="utf-8")
    after = keys()
    work_cache.extractor_fingerprint.cache_clear()
    work_cache.report_fingerprint.cache_clear()
    assert after[0] != before[0] and after[1] != before[1]


# -- SCHEMA.md ---------------------------------------------------------------------------------------------------
def test_the_committed_schema_md_is_the_one_the_registry_gives():
    from pipeline.schema.document import SCHEMA_FILE, schema_markdown

    assert SCHEMA_FILE == ROOT / "SCHEMA.md"
    assert (ROOT / "SCHEMA.md").read_text(encoding="utf-8") == schema_markdown(), \
        "SCHEMA.md is out of date: run python -m pipeline.schema"


def test_schema_md_tells_every_field_and_its_bounds_and_values():
    from pipeline.schema.document import schema_markdown

    text = schema_markdown()
    for field in FIELDS:
        assert f"| {field.name} | {field.kind} |" in text
        assert all(f"`{value}`" in text for value in field.vocabulary)
    assert "| pe_plasma_volumes | number | plasma volumes | 0.5 to 3 |" in text


def test_the_entry_point_writes_and_checks_the_file(tmp_path, capsys):
    from pipeline.schema.__main__ import main
    from pipeline.schema.document import schema_markdown

    target = tmp_path / "SCHEMA.md"
    assert main(["--check", str(target)]) == 1
    assert main([str(target)]) == 0 and target.read_text(encoding="utf-8") == schema_markdown()
    assert main(["--check", str(target)]) == 0
    target.write_text("stale\n", encoding="utf-8")
    assert main(["--check", str(target)]) == 1


# -- a refused value is reported, never dropped silently ---------------------------------------------------------
DOC = spacy.blank("en")("word " * 20)


def finding(field: str, value: str, start: int = 10):
    return finding_span(DOC, Finding(field, value, start, start + 5, "test.rule"))


def test_finalise_reports_each_refused_value_and_keeps_the_rest():
    case = Case("silva2024-1", 1, "", DOC)
    refused = _finalise(case, {
        "pe_plasma_volumes": [finding("pe_plasma_volumes", "6", 40)],
        "corticosteroids": [finding("corticosteroids", "dexamethasone", 50), finding("corticosteroids", "aspirin", 60)],
        "crs_grade": [finding("crs_grade", "3", 70)],
        "favourite_colour": [finding("favourite_colour", "blue", 80)],
    })
    assert case.values == {"corticosteroids": "dexamethasone", "crs_grade": "3"}
    assert [f._.value for f in case.evidence["corticosteroids"]] == ["dexamethasone"]
    by_field = {r.finding._.field: r.finding._.finding for r in refused}
    assert set(by_field) == {"pe_plasma_volumes", "corticosteroids", "favourite_colour"}
    assert (by_field["pe_plasma_volumes"].value, by_field["pe_plasma_volumes"].start) == ("6", 40)
    reasons = {r.finding._.field: r.reason for r in refused}
    assert "pe_plasma_volumes must be between 0.5 and 3" in reasons["pe_plasma_volumes"]
    assert by_field["corticosteroids"].value == "aspirin" and "aspirin" in reasons["corticosteroids"]
    assert "no field of the case table" in reasons["favourite_colour"]
    assert all(r.patient == 1 and r.finding._.extractor == "test.rule" for r in refused)


def patient_table(onset_day: str) -> bytes:
    return f"""<article article-type="research-article"><front><article-meta>
<title-group><article-title>Plasma exchange for CRS: a series</article-title></title-group>
<contrib-group><contrib contrib-type="author"><name><surname>Okoro</surname><given-names>A</given-names></name></contrib>
</contrib-group><pub-date><year>2024</year></pub-date></article-meta></front><body><sec><title>Results</title>
<p>All patients received CAR-T cells.</p>
<table-wrap><label>Table 1</label><table><thead><tr><th>Patient</th><th>Age (y)/Sex</th><th>Product</th>
<th>CRS grade</th><th>CRS onset (day)</th><th>TPE sessions</th><th>Outcome</th></tr></thead>
<tbody><tr><td>1</td><td>19/F</td><td>Tisa-cel</td><td>IV</td><td>{onset_day}</td><td>3</td><td>Alive</td></tr>
<tr><td>2</td><td>66/M</td><td>Brexu-cel</td><td>III</td><td>2</td><td>2</td><td>Died</td></tr></tbody></table></table-wrap>
</sec></body></article>""".encode()


def test_a_refused_table_value_reaches_documents_csv(tmp_path):
    from extractors.cases import extract_document
    from pipeline.outputs.writer import write_predictions
    from pipeline.parsing import parse_bytes
    from pipeline.run.stages import ParsedFile, document_results

    # a day column: its reader, like the prose rule of the same field, leaves bounds to the registry
    onset = FIELD_BY_NAME["crs_onset_day"]
    assert not extract_document(parse_bytes(patient_table(f"{onset.maximum:g}"), "t.xml")[0]).refused
    too_late = f"{onset.maximum + 15:g}"
    document = parse_bytes(patient_table(too_late), "t.xml")[0]
    extraction = extract_document(document)
    [refused] = extraction.refused
    assert (refused.patient, refused.finding._.field, refused.finding._.value) == (1, "crs_onset_day", too_late)
    assert document.quote(refused.finding._.quote_start, refused.finding._.quote_end) == too_late  # its table cell

    (result,) = document_results([ParsedFile(str(tmp_path / "t.xml"), [document])], [extraction], tmp_path, {})
    assert len(result.warnings) == 1 and result.warnings[0].startswith("patient 1: crs_onset_day must be between")
    write_predictions(tmp_path, [], [result])
    with open(tmp_path / "documents.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames[-1] == "warnings"
    assert rows[0]["warnings"] == result.warnings[0] and too_late in rows[0]["warnings"]
