"""The underlying malignancy and the CAR-T product and target."""

from __future__ import annotations

from spacy.tokens import Span

from extractors.evidence import Finding, concepts_in
from extractors.fields.inputs import PatientContext
from extractors.lexicon import concept_attribute


def product_target(product: str) -> str:
    """The antigen an approved product's cells recognise: the "target" of its lexicon lines."""
    return concept_attribute("CART_PRODUCT", "target")[product]


def diagnosis(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    """The first malignancy named about the patient; a specific name wins over a generic one."""
    found = []
    for sentence in sentences:
        for span in concepts_in(sentence, "DIAGNOSIS"):
            found.append(Finding("diagnosis", span.id_, span.start_char, span.end_char, "disease.diagnosis"))
    return found[:1]


def car_t(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    """Target and product: an approved product implies its target; otherwise a named antigen and
    an investigational cue ("clinical trial", "investigational") give an investigational product."""
    products, targets, investigational = [], [], []
    cart_seen = False
    for sentence in sentences:
        spans = concepts_in(sentence, ("CART_PRODUCT", "CART_TARGET", "INVESTIGATIONAL", "CART"))
        has_cart = any(s.label_ in ("CART", "CART_PRODUCT") for s in spans) or "car" in sentence.text.lower()
        cart_seen = cart_seen or has_cart
        for span in spans:
            if span.label_ == "CART_PRODUCT":
                products.append(span)
            elif span.label_ == "CART_TARGET" and has_cart:
                targets.append(span)
            elif span.label_ == "INVESTIGATIONAL" and has_cart:
                investigational.append(span)
    findings = []
    if products:
        p = products[0]
        findings.append(Finding("car_t_product", p.id_, p.start_char, p.end_char, "disease.car_t_product"))
        if not targets:
            findings.append(Finding("car_t_target", product_target(p.id_), p.start_char, p.end_char, "disease.product_target"))
    elif investigational and targets:
        i = investigational[0]
        findings.append(Finding("car_t_product", "investigational", i.start_char, i.end_char, "disease.investigational"))
    if targets:
        t = targets[0]
        findings.append(Finding("car_t_target", t.id_, t.start_char, t.end_char, "disease.car_t_target"))
    return findings
