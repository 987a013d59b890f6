"""From a parsed document to its patients' case rows, every value with its evidence."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from spacy.tokens import Doc, Span

from extractors.assertion import is_affirmed, negated
from extractors.evidence import Finding, concepts, concepts_in, gap, in_one_clause, sentence_of, sentences
from extractors.finding_spans import finding_span, patient_findings_key, record
from extractors.fields import RULES
from extractors.fields.drugs import corticosteroids, other_drugs
from extractors.fields.inputs import PatientContext
from extractors.fields.purification import CAR_T_LABELS, INFUSION_CUE, SAME_AS_PREVIOUS, exchange_days, \
    exchange_denied, for_another_disease, pe_mentions, plasma_exchange
from extractors.nlp import process
from extractors.cues import NUMBER_SIGN, PATIENT_WORD
from extractors.patients import DOCUMENT_ZONES, PATIENT_ZONES, REVIEW_ARTICLE_TYPES, PatientSegment, \
    about_other_patients, cited_figure_captions, group_count, is_table_text, named_patients, section_kind, \
    tells_its_own_case, told_of_others_only
from extractors.labelled_lines import line_findings
from extractors.listed import Edit, listed_edits
from extractors.respectively import DealtText, clauses_of_others, gapped_edits, respective_deletions
from extractors.tables import (TablePatient, before_after_tables, course_event_cells, lab_course, patient_sheets,
                               session_table, table_exchange_days, table_exchange_sessions, timeline_rows)
from extractors.values import ORDINALS, WORD_NUMBERS, counts_hours_from_infusion, find_dates
from pipeline.document.ids import make_case_id
from pipeline.document.model import Document
from pipeline.schema import FIELD_BY_NAME, GROUP_STATEMENT_FIELDS, SCORED_FIELDS, InvalidValue, normalize_cell

LIST_FIELDS = {name for name in SCORED_FIELDS if FIELD_BY_NAME[name].kind == "list"}
# What a statement about the whole group ("both patients", "all six") may fill in for each patient.
GROUP_FIELDS = GROUP_STATEMENT_FIELDS


# A case's findings by field: spans on the Doc (extractors.finding_spans), the first of a field's the one that counts
Findings = dict[str, list[Span]]


@dataclass
class Case:
    case_id: str
    number: int
    label: str
    doc: Doc  # the article's, whose span group patient_findings_key(number) holds the case's evidence
    values: dict[str, str] = field(default_factory=dict)
    in_scope: bool = False
    received_cart: bool = False
    # every value each field was read as, the kept one first (extractors.confidence weighs their agreement)
    readings: dict[str, list[str]] = field(default_factory=dict)
    scope_reason: str = ""

    @property
    def findings(self) -> list[Span]:
        """The spans its values were read from, field by field."""
        key = patient_findings_key(self.number)
        return list(self.doc.spans[key]) if key in self.doc.spans else []

    @property
    def evidence(self) -> Findings:
        """Its findings by field."""
        by_field: Findings = {}
        for span in self.findings:
            by_field.setdefault(span._.field, []).append(span)
        return by_field

    def keep_evidence(self, evidence: Findings) -> None:
        self.doc.spans[patient_findings_key(self.number)] = [span for spans in evidence.values() for span in spans]

    def cite(self, name: str, spans: list[Span]) -> None:
        """``spans`` the evidence of ``name``'s value, in the place of the evidence it had."""
        self.keep_evidence({**self.evidence, name: spans})


@dataclass(frozen=True)
class RefusedValue:
    """A value read from the document that the registry refused: kept out of the case, and reported."""
    patient: int  # the case's number in the article
    finding: Span
    reason: str


@dataclass
class DocumentExtraction:
    document: Document
    cases: list[Case]
    status: str  # relevant | related-no-pe | irrelevant
    reason: str
    refused: list[RefusedValue] = field(default_factory=list)


def _is_review(document: Document) -> bool:
    """A review or an editorial tells of no patient of its own, unless it illustrates itself with one ("Case
    illustration: plasma exchange in a child treated in Utrecht", in a box)."""
    if any(tells_its_own_case(section) for section in document.sections):
        return False
    types = {t.lower() for t in document.publication_types}
    if document.article_type.lower() in REVIEW_ARTICLE_TYPES | {"editorial"}:
        return True
    return ("review" in types or "systematic review" in types or "editorial" in types) and "case reports" not in types


def _is_protocol(document: Document) -> bool:
    """A trial's protocol plans the care of patients not yet enrolled: it tells of none."""
    types = {t.lower() for t in document.publication_types}
    return "clinical trial protocol" in types or document.article_type.lower() in ("study-protocol", "protocol")


# a notice about another article (an erratum, a correction, a retraction) tells of no patient of its own, whatever it
# quotes of the article's: by PubMed's publication type, JATS's article type, or a title that says so
NOTICE_TYPES = {"published erratum", "erratum", "correction", "corrected and republished article",
                "retraction of publication", "retraction notice", "expression of concern"}
NOTICE_ARTICLE_TYPES = {"correction", "retraction", "expression-of-concern", "addendum"}
NOTICE_TITLE = re.compile(r"^\W*(?:erratum|corrigendum|correction(?:\s+to)?|retraction(?:\s+note)?|"
                          r"expression\s+of\s+concern)\b\s*(?::|to\b|for\b)", re.IGNORECASE)


# a document that says it tells of no patient of its own: a protocol, a guideline, a policy ("This document does not
# describe any individual patient")
# (about itself, not a registry it cites: "the database does not include individual patients")
NO_INDIVIDUAL_PATIENT = re.compile(r"""
    \bthis\s+(?:document|procedure|protocol|guideline|policy|statement|standard\s+operating\s+procedure|SOP)\s+
    (?:does|did)\s+not\s+(?:describe|report|present|concern|include)\s+(?:any\s+)?
    (?:individual|single|specific|identifiable)\s+patients?\b
    """, re.IGNORECASE | re.VERBOSE)


def _is_notice(document: Document) -> bool:
    types = {t.lower() for t in document.publication_types}
    return bool(types & NOTICE_TYPES) or document.article_type.lower() in NOTICE_ARTICLE_TYPES or \
        bool(NOTICE_TITLE.match(document.title))


GRADING_CUE = re.compile(r"\b(grad\w*|criteria|according to|per|scale|classification|consensus)\b", re.IGNORECASE)


def _graded_syndrome(system: Span) -> str | None:
    """The syndrome a grading system is named for: the one named nearest it in its clause, else in its sentence ("CRS
    was graded on the Penn scale; neurotoxicity with the ASTCT ICANS scale": Penn for CRS, ASTCT for ICANS; "CRS was
    graded by Lee et al. (2014), and neurotoxicity by ...": Lee 2014 for CRS, though "neurotoxicity" stands nearer)."""
    syndromes = concepts_in(sentence_of(system), ("CRS", "ICANS"))
    if not syndromes:
        return None
    text = system.doc.text
    candidates = [s for s in syndromes if in_one_clause(text, s.start_char, system.start_char)] or syndromes
    # "CRS was graded by the Penn scale and neurotoxicity by the ASTCT criteria": a syndrome graded by the system
    # after it, though another stands nearer after the system
    graded_by = [s for s in candidates if s.end_char <= system.start_char and GRADED_BY.fullmatch(text[s.end_char:system.start_char])]
    if graded_by:
        return graded_by[-1].label_
    return min(candidates, key=lambda span: gap(system.start_char, system.end_char, span)).label_


# between a syndrome and the system grading it: " was graded by the ", " according to ", " (graded per the "
GRADED_BY = re.compile(r"[\s(,]*(?:was|were|is|are|has\s+been|have\s+been)?\s*(?:graded|scored|classified|assessed)?\s*"
                       r"(?:by|per|according\s+to|using|with|on)\s+(?:the\s+)?(?:\d{4}\s+)?", re.IGNORECASE)


def _grading(doc: Doc, document: Document) -> Span | None:
    """The system the article grades its CRS by: named in its own text (methods, cases, abstract, or an
    introduction sentence about grading), in a sentence about CRS when several systems are named."""
    candidates: list[Span] = []
    for span in concepts(doc):
        if span.label_ != "GRADING":
            continue
        kind = section_kind(document, span.start_char)
        if kind in DOCUMENT_ZONES or kind == "introduction" and GRADING_CUE.search(sentence_of(span).text):
            candidates.append(span)
    systems = {span.id_ for span in candidates}
    if len(systems) > 1:
        about_crs = [s for s in candidates if _graded_syndrome(s) == "CRS"]
        systems = {span.id_ for span in about_crs}
        candidates = about_crs
    return _grading_finding(doc, candidates[0]) if len(systems) == 1 else None


def _grading_finding(doc: Doc, system: Span) -> Span:
    return finding_span(doc, Finding("crs_grading", system.id_, system.start_char, system.end_char, "toxicity.crs_grading"))


def _grading_of_the_grade(doc: Doc, grade: Span) -> Span | None:
    """Where the article names several systems, the one its reported grade's sentence names alone ("... led to a
    re-grading as ASTCT grade 4, and throughout this report we use the ASTCT grade", after "Lee grade 3")."""
    named = concepts_in(sentence_of(grade), "GRADING")
    return _grading_finding(doc, named[0]) if len({span.id_ for span in named}) == 1 else None


def _on_doc(doc: Doc, found: Iterable[Finding]) -> Findings:
    """What readers found, as spans on the Doc, by field in the order found."""
    spans: Findings = {}
    for finding in found:
        spans.setdefault(finding.field, []).append(finding_span(doc, finding))
    return spans


def _run_rules(doc: Doc, sentences: list[Span], patient: PatientContext) -> Findings:
    return _on_doc(doc, (finding for rule in RULES for finding in rule(sentences, patient)))


def _merge(primary: Findings, fallback: Findings) -> Findings:
    """``primary`` wins field by field, unless its finding is weak and the fallback's is not."""
    merged = dict(fallback)
    for name, found in primary.items():
        if name in merged and found and found[0]._.weak and not merged[name][0]._.weak:
            continue
        merged[name] = found
    return merged


def _patient_findings(doc: Doc, document: Document, segment: PatientSegment, patient: PatientContext) -> Findings:
    """The body's account wins over the abstract's; the abstract fills what the body leaves blank;
    statements about all the patients fill what is still blank. They are read together with the patient's own
    account, as a reader would: "CD19-directed cells" said of the group and "academic CAR-T" said of the patient
    make an investigational CD19 product."""
    body = [s for s in segment.sentences if section_kind(document, s.start_char) not in ("abstract", "title")]
    summary = [s for s in segment.sentences if section_kind(document, s.start_char) in ("abstract", "title")]
    own = _merge(_run_rules(doc, body, patient), _run_rules(doc, summary, patient))
    own = _merge(own, _from_captions(doc, document, body, own, patient))
    if not segment.shared:
        return own
    together = sorted({(s.start, s.end): s for s in segment.shared + segment.sentences}.values(), key=lambda s: s.start)
    # a clause of a statement about all the patients may be about another one only ("Both received dexamethasone;
    # Patient 2 was switched to methylprednisolone"); not so a statement about some of them, which names those it
    # leaves out ("Patient 2 met the criteria; the remaining patients did not")
    about_all = [s for s in segment.shared if s not in segment.excepting + segment.named]
    group = {name: kept for name, found in _run_rules(doc, together, patient).items() if name in GROUP_FIELDS
             if (kept := [s for s in found if not (s.sent in about_all and told_of_others_only(s, segment.number))])}
    return _merge(own, group)


def _from_captions(doc: Doc, document: Document, body: list[Span], told: Findings, patient: PatientContext) -> Findings:
    """What the captions of the figures the account cites tell and the account does not, read in place among the
    account's sentences (a value after the exchanges in a caption is still after them)."""
    captions = cited_figure_captions(doc, document, body)
    if not captions:
        return {}
    together = sorted(body + captions, key=lambda s: s.start_char)
    return {name: found for name, found in _run_rules(doc, together, patient).items()
            if name not in told and found and any(c.start_char <= found[0].start_char < c.end_char for c in captions)}


def _resolve_same_as_previous(findings: Findings, previous: list[Case]) -> None:
    """"the same replacement scheme" takes the previous patient's value; the phrase is the evidence."""
    for name, items in list(findings.items()):
        if items and items[0]._.value == SAME_AS_PREVIOUS:
            earlier = next((c for c in reversed(previous) if name in c.values), None)
            if earlier is None:
                del findings[name]
            else:
                findings[name] = [finding_span(items[0].doc, replace(items[0]._.finding, value=earlier.values[name]))]


# "24 patients", "12 consecutive adult recipients"
COHORT = re.compile(r"""
    \b\d{1,4}\s+(?:\w+\s+){0,2}
    (?:patients|participants|subjects|recipients|adults|children)\b
    """, re.IGNORECASE | re.VERBOSE)


def _cohort_of_cart_patients(sentences: list[Span]) -> bool:
    """A trial or series that reports its CAR-T recipients only as a group, with their toxicity."""
    cart = any(is_affirmed(c) for s in sentences for c in concepts_in(s, ("CART", "CART_PRODUCT")))
    return cart and any(concepts_in(s, ("CRS", "ICANS")) for s in sentences) and any(COHORT.search(s.text) for s in sentences)


DAY_ZERO = re.compile(r"\bday 0\b", re.IGNORECASE)


def _infusion_date(sentences: list[Span], document: Document):
    """The calendar date of the CAR-T infusion, when the account gives one (day 0 for dated events)."""
    years = [d.year for s in sentences for d, _, _ in find_dates(s.text)]
    default_year = years[0] if years else document.year
    for sentence in sentences:
        if concepts_in(sentence, CAR_T_LABELS) and (INFUSION_CUE.search(sentence.text) or DAY_ZERO.search(sentence.text)):
            dates = find_dates(sentence.text, default_year)
            if dates:
                return dates[0][0]
    return None


RECEIPT_CUE = re.compile(r"""\b(
    infus\w*|received|administered|given|treated\ with|underwent|enrolled  # "cells were infused", "treated with axi-cel"
  | included\ in\ (?:an?|the)\ (?:[\w-]+\ ){0,2}(?:study|trial|protocol)     # "included in an investigational study of"
  | after|following|post                                                # "CRS after CAR-T"
  | day\s*\+?\d                                                         # "on day +3"
    )\b""", re.IGNORECASE | re.VERBOSE)


DENIED_RECEIPT = re.compile(r"\b(?:never|not)\s+(?:\w+\s+)?(?:received|been\s+given|been\s+treated\s+with|had)\b",
                            re.IGNORECASE)


def _received_cart(sentences: list[Span]) -> bool:
    """The patient was given CAR-T cells: a product named, or CAR-T cells said to be infused or received,
    affirmed, in their own account; not a patient the account says never received them ("He had never received CAR
    T cells": CRS after a bispecific antibody), whatever its background says of CRS after CAR-T cells."""
    if any(negated(span) and DENIED_RECEIPT.search(sentence.text)
           for sentence in sentences for span in concepts_in(sentence, ("CART", "CART_PRODUCT"))):
        return False
    for sentence in sentences:
        for span in concepts_in(sentence, CAR_T_LABELS):
            if is_affirmed(span) and (span.label_ == "CART_PRODUCT" or RECEIPT_CUE.search(sentence.text)):
                return True
    return False


def _plain(word: str) -> str:
    """A word without case or accents, as a file name spells it: "Traoré" -> "traore"."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)).casefold()


def _case_stem(document: Document) -> str:
    # a file named like "g1_echeverria2021" or "heldD_peds2020": its words of three or more letters
    words = re.findall(r"[^\W\d_]{3,}", Path(document.source_file).stem)
    surname = document.first_author_surname()
    if surname:
        # a name set surname first without capitals ("Ong Jia Hui", "Traoré Mariam") reads the other way round; a
        # file named after the author by its surname ("ong2024_series", "traore2023") settles which word it is
        named = {_plain(word) for word in words}
        other_names = re.findall(r"[^\W\d_]{2,}", document.authors[0].split(",", 1)[-1])
        if _plain(surname) not in named:
            return next((name for name in other_names if _plain(name) in named), surname)
        return surname
    return words[0] if words else Path(document.source_file).stem


def _finalise(case: Case, findings: Findings) -> list[RefusedValue]:
    """The case's values and evidence from its findings, each value checked by the registry. What it refuses
    (a value out of bounds or vocabulary, a field it does not know) is returned, not kept; in a list only the
    refused item is left out."""
    refused = [RefusedValue(case.number, item, f"{name!r} is no field of the case table")
               for name, items in findings.items() if name not in FIELD_BY_NAME for item in items]
    evidence: Findings = {}
    for name in SCORED_FIELDS:
        items = findings.get(name, [])
        if not items:
            continue
        case.readings[name] = [item._.value for item in items]
        if name in LIST_FIELDS:
            kept, seen = [], set()
            for item in items:
                if item._.value in seen:
                    continue
                seen.add(item._.value)
                try:
                    normalize_cell(name, item._.value)
                except InvalidValue as exc:
                    refused.append(RefusedValue(case.number, item, str(exc)))
                    continue
                kept.append(item)
            if not kept:
                continue
            raw = ";".join(i._.value for i in kept)
        else:
            kept = items[:1]
            raw = kept[0]._.value
        try:
            case.values[name] = normalize_cell(name, raw)
        except InvalidValue as exc:
            refused.append(RefusedValue(case.number, kept[0], str(exc)))
            continue
        evidence[name] = kept
    case.keep_evidence(evidence)
    return refused


def _findings(doc: Doc, document: Document, segment: PatientSegment | None, row: TablePatient | None,
              patient: PatientContext, single: bool) -> Findings:
    """A table row's cells win over prose; a lab course by day fills what prose leaves."""
    prose = _patient_findings(doc, document, segment, patient) if segment else {}
    if segment:
        # a record printed "Label: value", a line a field: each line's value wins over what prose reads in it
        lines, settled = line_findings(doc, segment.sentences)
        prose = _merge(_on_doc(doc, lines), _unsettled(prose, settled))
    findings = _merge(_on_doc(doc, row.findings if row else []), prose)
    if segment and row is None:
        findings = _merge(_on_doc(doc, patient_sheets(doc, document, segment.number, single)), findings)
        # a table's row for each day names the exchanges more surely than prose does
        pe_days = (single and table_exchange_days(doc, document)) or exchange_days(segment.sentences, patient)
        if patient.hours_from_infusion:
            # an account counting hours dates its exchanges and its samples by the hour ("H78"; a column "H77")
            pe_days = [hours / 24 for hours in exchange_days(segment.sentences, patient, in_hours=True)] or pe_days
        course = lab_course(doc, document, pe_days, segment.number, single, patient.infusion_date,
                            _tables_within(document, segment))
        course += [f for f in before_after_tables(doc, document, segment.number, single)
                   if f.field not in {c.field for c in course}]
        course += [f for f in session_table(doc, document, segment.number, single)
                   if f.field not in {c.field for c in course}]
        findings = _merge(findings, {f.field: [finding_span(doc, f)] for f in course})
        if single:
            findings = _more_sessions_by_table(doc, document, findings)
            findings = _treatments_by_table(doc, document, findings, patient)
    elif segment and row is not None:
        # a patient of a table of patients whose own lab course or sessions are a table of their own ("Laboratory course
        # of Patient 1", "Patient | Session | Day | ..."): what the table of patients leaves blank
        course = lab_course(doc, document, exchange_days(segment.sentences, patient), segment.number, False,
                            patient.infusion_date)
        course += [f for f in before_after_tables(doc, document, segment.number, False)
                   if f.field not in {c.field for c in course}]
        course += [f for f in session_table(doc, document, segment.number, False)
                   if f.field not in {c.field for c in course}]
        findings = _merge(findings, {f.field: [finding_span(doc, f)] for f in course})
    return findings


def _unsettled(findings: Findings, settled: list[tuple[int, int, set[str]]]) -> Findings:
    """The findings less those read inside a line that settles their field."""
    kept: Findings = {}
    for name, spans in findings.items():
        left = [span for span in spans if not any(start <= span.start_char < end and name in names
                                                  for start, end, names in settled)]
        if left or not spans:
            kept[name] = left
    return kept


def _told_side_by_side(segment: PatientSegment, segments: dict[int, PatientSegment]) -> list[tuple[Span, list[int]]]:
    """The statements the patient shares with others, each with the patients it is about in their order: those it
    names ("Patients 1 and 3 received ..."), else every patient whose account holds it."""
    told = []
    statements = {n: _statements(segments[n]) for n in sorted(segments)}
    for sentence in dict.fromkeys(statements[segment.number]):
        about = [n for n, theirs in statements.items() if sentence in theirs]
        named = sorted(named_patients(sentence) & set(segments))
        about = named if segment.number in named else about
        if len(about) >= 2:
            told.append((sentence, about))
    return told


def _statements(segment: PatientSegment) -> list[Span]:
    return segment.sentences + segment.shared + segment.named + segment.excepting


def _referent(segment: PatientSegment) -> str | None:
    """How the article refers to a patient inside a statement about several: "the man" (a patient introduced by age
    and noun), "Patient 2"."""
    ordered = re.fullmatch(r"(\w+) patient", segment.label)
    if ordered and ordered.group(1) in ORDINALS:  # a patient of an account told side by side, known by its order
        number = ORDINALS[ordered.group(1)]
        # or among the first few: "in the first two patients", "the first two products"
        counts = "|".join(word for word in ("two", "three", "four") if WORD_NUMBERS[word] >= number)
        # and named after another: "the first and second patients"
        return (rf"\bthe\s+first\s+(?:{counts})\s+[\w-]+"
                rf"|\b(?:the|and)\s+{ordered.group(1)}(?:\s+(?:patients?|cases?|one))?\b")
    introduced = re.fullmatch(r"\d+ (\w+)", segment.label)
    if introduced:
        # or by the order they were introduced in: "on day +3 in the first patient and on day +5 in the second"
        ordinal = next((word for word, n in ORDINALS.items() if n == segment.number), None)
        by_order = rf"|\bthe\s+{ordinal}(?:\s+(?:patient|case|one))?\b" if ordinal else ""
        return rf"\b(?:the|this)\s+(?:older\s+|younger\s+)?{introduced.group(1)}\b{by_order}"
    return rf"\b{PATIENT_WORD}\s*(?:{NUMBER_SIGN}\s*)?{segment.number}\b" if segment.number else None


def _dealt_out(doc: Doc, document: Document, segment: PatientSegment, segments: dict[int, PatientSegment]) \
        -> tuple[DealtText, Doc, PatientSegment] | None:
    """The article as the patient's own reading, where statements about several patients tell them side by side
    (extractors.respectively), and the patient's account on it: those statements are its own there."""
    taken, replaced, dealt = [], [], []
    own = _referent(segment)
    for sentence, about in _told_side_by_side(segment, segments):
        listed = listed_edits(sentence.text, segment.number)
        if listed:
            base = sentence.start_char
            replaced += [Edit(base + e.start, base + e.end, e.source and (base + e.source[0], base + e.source[1]))
                         for e in listed]
            dealt.append(sentence)
            continue
        index = about.index(segment.number)
        deletions = respective_deletions(sentence, index, len(about))
        # the others as the sentence introduces them ("a 47-year-old man", beside "a 61-year-old woman")
        deletions += [(s.start_char, s.end_char) for n in about if n != segment.number for s in segments[n].sentences
                      if sentence.start_char <= s.start_char and s.end_char <= sentence.end_char and
                      s.end_char - s.start_char < len(sentence.text)]
        others = [r for n in about if n != segment.number and (r := _referent(segments[n]))]
        if own and others:
            own_referent, other_referents = re.compile(own, re.IGNORECASE), re.compile("|".join(others), re.IGNORECASE)
            # "the man received two sessions and the woman three": the woman's clause, its verb supplied
            gapped = gapped_edits(sentence, own_referent, other_referents)
            deletions += clauses_of_others(sentence, own_referent, other_referents)
            deletions = [(a, b) for a, b in deletions if not any(a < e.end and e.start < b for e in gapped)]
            replaced += gapped
            if gapped and not deletions:
                dealt.append(sentence)
        if deletions:
            taken += deletions
            dealt.append(sentence)
    if not taken and not replaced:
        return None
    text = DealtText.of(document, taken, replaced)
    dealt_doc = process(text.dealt)

    def moved(spans: list[Span]) -> list[Span]:
        """The spans on the dealt reading; one taken out whole (a clause about another patient) is left out."""
        found = (dealt_doc.char_span(text.to_dealt(s.start_char), text.to_dealt(s.end_char), alignment_mode="expand")
                 for s in spans)
        return [span for span in found if span is not None and span.text.strip()]

    return text, dealt_doc, replace(segment, sentences=moved(sorted(dict.fromkeys(segment.sentences + dealt), key=lambda s: s.start)),
                         shared=moved([s for s in segment.shared if s not in dealt]),
                         named=moved([s for s in segment.named if s not in dealt]),
                         excepting=moved([s for s in segment.excepting if s not in dealt]),
                         subgroup=moved(segment.subgroup))


def _tables_within(document: Document, segment: PatientSegment) -> frozenset[str]:
    """The tables standing in the middle of a patient's account: between two of its sentences with nothing but
    the table's own text between them ("A 70-year-old man ... Table 1 ... Our point is this ...")."""
    told = sorted(segment.sentences, key=lambda s: s.start_char)
    within = set()
    for table in document.tables:
        before = [s for s in told if s.end_char <= table.start]
        after = [s for s in told if s.start_char >= table.end]
        if not before or not after:
            continue
        between = [s for s in document.sentences if before[-1].end_char <= s.start < after[0].start_char]
        if all(is_table_text(document, s.start) for s in between):
            within.add(table.id)
    return frozenset(within)


TREATMENT_READERS = {"corticosteroids": corticosteroids, "other_drugs": other_drugs}


def _treatments_by_table(doc: Doc, document: Document, findings: Findings, patient: PatientContext) -> Findings:
    """The drugs a table of the days' events gives join those the account names ("Hydrocortisone 50 mg q6h" on day
    +9 of the table, methylprednisolone in prose); a drug is named once, with its first evidence."""
    cells = course_event_cells(doc, document)
    if not cells:
        return findings
    for name, reader in TREATMENT_READERS.items():
        told = findings.get(name, [])
        values = {span._.value for span in told}
        if "none" in values:
            continue
        more = [f for f in reader(cells, patient) if f.value not in values and f.value != "none"]
        if more:
            findings = {**findings, name: told + [finding_span(doc, f) for f in more]}
    return findings


def _more_sessions_by_table(doc: Doc, document: Document, findings: Findings) -> Findings:
    """A table of one row per day that gives more exchange days than prose counts sessions ("during the first three
    exchanges" where the table has four) counts them; a table that gives fewer may not cover the whole course."""
    told = [record(span) for span in findings.get("pe_sessions", [])]
    counted = [int(f.value) for f in told if f is not None and f.value.isdigit()]
    for finding in table_exchange_sessions(doc, document):
        if not counted or max(counted) < int(finding.value):
            findings = {**findings, "pe_sessions": [finding_span(doc, finding)]}
    return findings


def _exchange_facts(case: Case) -> bool:
    """Whether the case has any fact of an exchange: a count, a day, a volume or a fluid."""
    values = {name: case.values.get(name, "") for name in RULES[plasma_exchange]}
    return any(value and not (name == "pe_sessions" and value == "0") for name, value in values.items())


def _told_of_exchange(case: Case, segment: PatientSegment | None) -> bool:
    """The patient's account tells of an exchange given, and does not say, without any fact of one, that none was
    ("... a single-volume exchange was booked ...; no TPE was performed at any point")."""
    if not segment or not pe_mentions(segment.sentences):
        return False
    return _exchange_facts(case) or not exchange_denied(segment.sentences)


def _decide_scope(case: Case, segment: PatientSegment | None, row: TablePatient | None, context: list[Span]) -> None:
    """In scope: CAR-T cells given, then plasma exchange. pe_sessions is 0 where no exchange was given."""
    counted = int(case.values.get("pe_sessions", "0") or 0) > 0
    # the body's sessions are read apart from the title and abstract, which may be all that names the exchange's
    # indication ("Acquired TTP after tisagenlecleucel, treated with plasma exchange"): the whole account decides
    received_pe = _told_of_exchange(case, segment) or (
        counted and not (segment and for_another_disease(segment.sentences)))
    if row is not None and case.values.get("pe_sessions") == "0":
        received_pe = False
    if not received_pe:
        case.values["pe_sessions"] = "0"
        cited = case.evidence.get("pe_sessions")
        if not cited or cited[0]._.value != "0":
            # absence has no words of its own: the evidence is the patient's description, which tells of no exchange
            told = segment.sentences + segment.named if segment else []
            first = told[0] if told else None
            described = Finding("pe_sessions", "0", first.start_char, first.end_char,
                                "cases.no_plasma_exchange_described") if first else None
            case.cite("pe_sessions", [finding_span(case.doc, described)] if described else [])
    case.received_cart = row is not None or bool(segment and _received_cart(segment.sentences + segment.shared)) \
        or _received_cart(context)
    case.in_scope = received_pe and case.received_cart
    case.scope_reason = "CAR-T then plasma exchange" if case.in_scope else (
        "no plasma exchange after CAR-T" if case.received_cart else "no CAR-T therapy")


def _document_status(cases: list[Case], context: list[Span]) -> tuple[str, str]:
    if any(c.in_scope for c in cases):
        return "relevant", f"{sum(c.in_scope for c in cases)} patient(s) given plasma exchange after CAR-T"
    if any(c.received_cart for c in cases):
        return "related-no-pe", "CAR-T patient(s) without plasma exchange"
    if _cohort_of_cart_patients(context):
        return "related-no-pe", "CAR-T patients reported only in aggregate"
    return "irrelevant", "no CAR-T patient described" if not cases else "no patient given CAR-T"


def _read_subgroup_statements(doc: Doc, cases: list[Case], segments: dict[int, PatientSegment],
                              read: dict[int, tuple[Findings, PatientContext]],
                              refused: list[RefusedValue]) -> list[RefusedValue]:
    """A statement counting fewer patients than the article tells of ("the CRS resolved in all three", of four
    referred) is about those given the exchange when they are that many: it fills what their accounts leave blank."""
    treated = [case for case in cases if case.in_scope]
    for case in treated:
        segment = segments.get(case.number)
        statements = [s for s in segment.subgroup if group_count(s.text) == len(treated)] if segment else []
        if not statements:
            continue
        findings, patient = read[case.number]
        group = {name: found for name, found in _run_rules(doc, statements, patient).items() if name in GROUP_FIELDS}
        refused = [r for r in refused if r.patient != case.number] + _finalise(case, _merge(findings, group))
    return refused


def extract_document(document: Document) -> DocumentExtraction:
    doc = process(document)
    if _is_review(document):
        return DocumentExtraction(document, [], "irrelevant", "review article: no patient of its own")
    if _is_protocol(document):
        return DocumentExtraction(document, [], "irrelevant", "trial protocol: no patient of its own")
    if _is_notice(document):
        return DocumentExtraction(document, [], "irrelevant", "a notice about another article (erratum, correction, "
                                  "retraction): no patient of its own")
    if any(NO_INDIVIDUAL_PATIENT.search(s.text) for s in sentences(doc)):
        return DocumentExtraction(document, [], "irrelevant", "says it describes no individual patient")
    rows = {patient.number: patient for patient in doc._.patient_rows}
    # a patient only named beside others ("Pt 1, Pt 2 and Pt 4 had DLBCL"), with no account and no table row of its
    # own, is none of the article's
    segments = {segment.number: segment for segment in doc._.patient_segments
                if segment.sentences or segment.number in rows}
    numbers = sorted(set(segments) | set(rows))
    grading = _grading(doc, document)
    # in a series the cells are often named once for all ("We report two patients treated with axi-cel")
    context = [s for s in sentences(doc) if section_kind(document, s.start_char) in PATIENT_ZONES and not about_other_patients(s)]
    stem = _case_stem(document)
    cases: list[Case] = []
    refused: list[RefusedValue] = []
    read: dict[int, tuple[Findings, PatientContext]] = {}
    timeline = timeline_rows(doc, document) if len(segments) == 1 and not rows else []
    for number in numbers:
        segment, row = segments.get(number), rows.get(number)
        if segment and timeline:
            # a table of the events in time order tells the one patient's course as sentences do
            segment = replace(segment, sentences=sorted(segment.sentences + timeline, key=lambda s: s.start_char))
        patient = PatientContext(infusion_date=_infusion_date(segment.sentences, document) if segment else None,
                                 hours_from_infusion=bool(segment) and counts_hours_from_infusion(segment.sentences))
        dealt = _dealt_out(doc, document, segment, segments) if segment and len(segments) > 1 else None
        if dealt:
            text, dealt_doc, own_reading = dealt
            row_read = replace(row, findings=[text.finding_in_dealt(f) for f in row.findings]) if row else None
            findings = {name: [finding_span(doc, text.finding_in_article(record(span))) for span in spans]
                        for name, spans in _findings(dealt_doc, text.dealt, own_reading, row_read, patient,
                                                     single=False).items()}
        else:
            findings = _findings(doc, document, segment, row, patient, single=len(segments) == 1)
        if "crs_grade" in findings and (grading or (grading := _grading_of_the_grade(doc, findings["crs_grade"][0]))):
            findings["crs_grading"] = [grading]
        label = (row.label if row else "") or (segment.label if segment else "")
        case = Case(make_case_id(stem, document.year, number), number, label if len(numbers) > 1 else "", doc)
        _resolve_same_as_previous(findings, cases)
        refused += _finalise(case, findings)
        _decide_scope(case, segment, row, context if len(segments) > 1 else [])
        cases.append(case)
        read[number] = (findings, patient)
    refused = _read_subgroup_statements(doc, cases, segments, read, refused)
    status, reason = _document_status(cases, context)
    return DocumentExtraction(document, cases, status, reason, refused)
