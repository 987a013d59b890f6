"""Families of phrasing, one field or a few at a time: short case accounts written for the purpose (tests/data/
phrasings.yaml), each with the values that must come out. A family is a way authors say a thing (a grading system
named by its authors, a marker referred to with "it", hours counted from the infusion), not one document's words."""

from pathlib import Path

import pytest
import yaml

from extractors.cases import extract_document
from pipeline.parsing import parse_bytes

PHRASINGS = yaml.safe_load((Path(__file__).parent / "data" / "phrasings.yaml").read_text(encoding="utf-8"))
HEADER = "Plasma exchange after CAR-T cells\n\nAna Silva, Tom Berg\n\nCase presentation\n\n"


def account(entry: dict) -> str:
    if "text" in entry:
        return HEADER + entry["text"]
    return (f"{entry['title_abstract']}\n\nAna Silva, Tom Berg\n\nAbstract\n\n{entry['abstract']}\n\n"
            f"Case presentation\n\n{entry['body']}")


@pytest.mark.parametrize("entry", PHRASINGS, ids=[entry["family"] for entry in PHRASINGS])
def test_a_family_of_phrasing_gives_its_values(entry):
    extraction = extract_document(parse_bytes(account(entry).encode(), "case.txt")[0])
    # an account of several patients says how many (patients: 2); its values are the first one's
    assert len(extraction.cases) == entry.get("patients", 1), [case.values for case in extraction.cases]
    case = extraction.cases[0]
    assert case.in_scope == entry.get("in_scope", True)  # an account of no exchange says so: in_scope: false
    assert {field: case.values.get(field, "") for field in entry["expect"]} == entry["expect"]
    for field, value in entry["expect"].items():  # every value has its evidence in the account's text; '' is none
        if value:
            assert case.evidence[field] and all(f.end > f.start for f in case.evidence[field])
