"""The lexicon lines' attributes: a product's target, and case-sensitive abbreviations."""

import json

import pytest

from extractors import lexicon
from extractors.lexicon import concept_attribute, lexicon_entries
from pipeline.schema import FIELD_BY_NAME


def test_every_product_line_names_a_target_of_the_registry():
    targets = FIELD_BY_NAME["car_t_target"].vocabulary
    products = [entry for entry in lexicon_entries() if entry["label"] == "CART_PRODUCT"]
    assert len(products) >= 30
    for entry in products:
        assert entry.get("target") in targets, entry
    # every approved product of the registry's vocabulary is in the lexicon with its target
    approved = set(FIELD_BY_NAME["car_t_product"].vocabulary) - {"investigational"}
    assert set(concept_attribute("CART_PRODUCT", "target")) == approved


def test_the_lines_of_one_concept_must_agree_on_an_attribute(monkeypatch):
    monkeypatch.setattr(lexicon, "lexicon_entries", lambda: (
        {"label": "CART_PRODUCT", "id": "tisagenlecleucel", "pattern": "tisa-cel", "target": "CD19"},
        {"label": "CART_PRODUCT", "id": "tisagenlecleucel", "pattern": "Kymriah", "target": "BCMA"}))
    with pytest.raises(ValueError, match="both 'CD19' and 'BCMA'"):
        concept_attribute.__wrapped__("CART_PRODUCT", "target")


@pytest.mark.parametrize("line, problem", [
    ({"label": "FLUID", "id": "albumin", "pattern": "HAS", "case_sensitve": True}, "case_sensitve"),
    ({"label": "FLUID", "pattern": "HAS"}, "label, pattern"),
])
def test_a_line_with_an_unknown_or_missing_key_is_refused(tmp_path, monkeypatch, line, problem):
    (tmp_path / "fluids.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    monkeypatch.setattr(lexicon, "RESOURCES", tmp_path)
    with pytest.raises(ValueError, match=f"fluids.jsonl:1: .*{problem}"):
        lexicon.lexicon_entries.__wrapped__()


def _looks_like_an_abbreviation(pattern: str) -> bool:
    """Short and (nearly) all capitals: "TPE", "CR", "IL-6", "IVIg"."""
    letters = [c for c in pattern if c.isalpha()]
    return len(pattern) <= 6 and sum(c.isupper() for c in letters) >= max(2, len(letters) - 1)


def test_every_capital_abbreviation_says_whether_it_matches_in_its_case_only():
    """Matching on lower case, "HAS" would be every "has" and "MM" every "mm": a short capital form must say
    explicitly how it matches."""
    phrases = [entry for entry in lexicon_entries() if isinstance(entry["pattern"], str)]
    abbreviations = [entry for entry in phrases if _looks_like_an_abbreviation(entry["pattern"])]
    assert len(abbreviations) >= 90
    for entry in abbreviations:
        assert "case_sensitive" in entry, entry


def _concepts(nlp, text: str) -> list[tuple[str, str, str]]:
    return [(span.text, span.label_, span.id_) for span in nlp(text).spans["concepts"]]


def test_a_line_of_token_patterns_matches_the_word_only_in_the_company_it_names(nlp):
    assert ("apheresis x2", "PE", "pe") in _concepts(nlp, "She underwent apheresis x2 on days 9 and 10.")
    assert ("apheresis sessions", "PE", "pe") in _concepts(nlp, "Three apheresis sessions followed.")
    assert not [c for c in _concepts(nlp, "T cells were collected by apheresis on day -28.") if c[1] == "PE"]


def test_a_case_sensitive_line_matches_only_in_its_own_case(nlp):
    assert ("HAS", "FLUID", "albumin") in _concepts(nlp, "Each exchange used 5% HAS as replacement.")
    assert not [c for c in _concepts(nlp, "She has received two exchanges.") if c[1] == "FLUID"]
    assert ("MM", "DIAGNOSIS", "MM") in _concepts(nlp, "A man with MM received cilta-cel.")
    assert not [c for c in _concepts(nlp, "A lesion of 12 mm was seen.") if c[1] == "DIAGNOSIS"]
    # a line without the attribute matches in any case
    assert ("Albumin", "FLUID", "albumin") in _concepts(nlp, "Albumin was the replacement fluid.")
