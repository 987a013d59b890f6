"""The underlying malignancy and the CAR-T product and target."""

from __future__ import annotations

from dataclasses import replace

import re

from spacy.tokens import Span

from extractors.evidence import Finding, concepts, concepts_in, sentence_of
from extractors.fields.inputs import Cell, PatientContext
from extractors.fields.purification import pe_mentions
from extractors.lexicon import concept_attribute


def product_target(product: str) -> str:
    """The antigen an approved product's cells recognise: the "target" of its lexicon lines."""
    return concept_attribute("CART_PRODUCT", "target")[product]


def car_t_values(product: str | None, target: str | None, investigational: bool) -> list[tuple[str, str, str]]:
    """(field, value, reading) for a product and a target named, and whether the cells are said to be
    investigational. An approved product implies its target unless a target is named; a named target with an
    investigational cue is an investigational product. The reading tells what gives the value: "product",
    "product_target" (the product's target), "investigational" or "target"."""
    values = []
    if product:
        values.append(("car_t_product", product, "product"))
        if not target:
            values.append(("car_t_target", product_target(product), "product_target"))
    elif investigational and target:
        values.append(("car_t_product", "investigational", "investigational"))
    if target:
        values.append(("car_t_target", target, "target"))
    return values


# the extractor names of the readings, from sentences and from a cell
PROSE_HOW = {"product": "car_t_product", "product_target": "product_target", "investigational": "investigational",
             "target": "car_t_target"}
CELL_HOW = {"product": "product", "product_target": "product_target", "investigational": "product", "target": "target"}


def diagnosis(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    """The first malignancy named about the patient; a specific name wins over a generic one."""
    found = []
    for sentence in sentences:
        for span in concepts_in(sentence, "DIAGNOSIS"):
            found.append(Finding("diagnosis", span.id_, span.start_char, span.end_char, "disease.diagnosis"))
    return found[:1]


# the cells named by their target alone: "given anti-CD19 cells", "CD7-directed T cells"
TARGETED_CELLS = re.compile(r"\s*(?:T[\s-]?)?cells?\b", re.IGNORECASE)
# a product counted over a cohort, not given to the patient: "(academic product, n=21; axi-cel, n=6)"
COHORT_COUNT = re.compile(r"\s*[,(]?\s*n\s*=\s*\d")


def car_t(sentences: list[Span], patient: PatientContext) -> list[Finding]:
    """Target and product: an approved product implies its target; otherwise a named antigen and
    an investigational cue ("clinical trial", "investigational") give an investigational product."""
    products, targets, investigational = [], [], []
    cart_seen = False
    for sentence in sentences:
        spans = concepts_in(sentence, ("CART_PRODUCT", "CART_TARGET", "INVESTIGATIONAL", "CART"))
        has_cart = any(s.label_ in ("CART", "CART_PRODUCT") for s in spans) or "car" in sentence.text.lower() or \
            any(s.label_ == "CART_TARGET" and TARGETED_CELLS.match(s.doc.text, s.end_char) for s in spans)
        cart_seen = cart_seen or has_cart
        for span in spans:
            if COHORT_COUNT.match(span.doc.text, span.end_char):
                continue
            if span.label_ == "CART_PRODUCT":
                products.append(span)
            elif span.label_ == "CART_TARGET" and has_cart:
                targets.append(span)
            elif span.label_ == "INVESTIGATIONAL" and has_cart:
                investigational.append(span)
    products, targets = _the_product_infused_last(products, targets, pe_mentions(sentences))
    told_by = {"product": products, "product_target": products, "investigational": investigational, "target": targets}
    findings = []
    for field, value, reading in car_t_values(products[0].id_ if products else None,
                                              targets[0].id_ if targets else None, bool(investigational)):
        span = told_by[reading][0]
        findings.append(Finding(field, value, span.start_char, span.end_char, f"disease.{PROSE_HOW[reading]}"))
    return findings


def _the_product_infused_last(products: list[Span], targets: list[Span], exchanges: list[Span]
                              ) -> tuple[list[Span], list[Span]]:
    """A patient given CAR-T cells twice ("treated with axi-cel ... then included in a phase I study of a
    CD22-directed product"): the account names two products, two approved ones or an approved one and a target not
    its own. The exchange followed the later infusion, so the product named last before the exchange is told of
    (else the last named) stands, with its target; the mentions of the other are left out."""
    own_targets = {product_target(p.id_) for p in products}
    named = sorted([(p, "product") for p in products] +
                   [(t, "target") for t in targets if products and t.id_ not in own_targets], key=lambda n: n[0].start)
    if len({(kind, span.id_) for span, kind in named}) < 2 or _alternatives(named):
        return products, targets
    first_exchange = min((e.start for e in exchanges), default=None)
    before = [n for n in named if first_exchange is None or n[0].start < first_exchange] or named
    span, kind = before[-1]
    value = span.id_
    if kind == "target":
        return [], [t for t in targets if t.id_ == value]
    return [p for p in products if p.id_ == value], [t for t in targets if t.id_ == product_target(value)]


# products named as alternatives: "adults who received axi-cel or liso-cel"
ALTERNATIVE = re.compile(r"\bor\b|/")


def _alternatives(named: list[tuple[Span, str]]) -> bool:
    """Whether the products are named once each, in one sentence, as alternatives rather than one after the other."""
    spans = [span for span, _ in named]
    first, last = spans[0], spans[-1]
    return len(spans) == 2 and sentence_of(first) == sentence_of(last) and \
        bool(ALTERNATIVE.search(first.doc.text[first.end_char:last.start_char]))


# -- table cells --------------------------------------------------------------------------------------------------
def diagnosis_cell(cell: Cell) -> list[Finding]:
    spans = cell.concepts("DIAGNOSIS")
    return [cell.finding("diagnosis", spans[0].id_, "diagnosis")] if spans else []


def car_t_cell(cell: Cell) -> list[Finding]:
    """A product or target column: the cell's product and target; a target with an investigational wording in the
    cell ("CD19 CAR (academic)") or an investigational cue anywhere in the article is an investigational product."""
    products, targets = cell.concepts("CART_PRODUCT"), cell.concepts("CART_TARGET")
    told_in_cell = cell.wording("car_t_product") == "investigational"
    investigational = told_in_cell or any(span.label_ == "INVESTIGATIONAL" for span in concepts(cell.doc))
    findings = [cell.finding(field, value, CELL_HOW[reading])
                for field, value, reading in car_t_values(products[0].id_ if products else None,
                                                          targets[0].id_ if targets else None, investigational)]
    # an investigational product inferred from a cue elsewhere in the article yields to a product the prose names
    # ("Patient 3 ... received equecabtagene autoleucel" under a "BCMA" cell)
    return [replace(f, weak=True) if f.field == "car_t_product" and f.value == "investigational" and not told_in_cell
            else f for f in findings]
