"""Findings as spans on the Doc, the way spaCy components keep their results.

A field reader says what it found as a Finding record (field, value, characters, extractor); the case assembly puts
each on the Doc with ``finding_span``: a Span labelled with its field, whose extension attributes give the record
(``span._.field``, ``span._.value``, ``span._.extractor``, ``span._.weak``), and keeps a patient's findings in the
span group ``doc.spans[patient_findings_key(number)]``. From a finding's span are reachable its sentence
(``span.sent``), the concept spans it came from (``span._.concepts``) and, through them, ConText's modifiers
(extractors.assertion.context_modifiers).

A span covers whole tokens; a finding's characters need not (" x2" with the space before it, "was 96 pg/mL" without
the full stop the tokenizer keeps on "mL.": about one finding in fifty). Those characters are the evidence quoted, so
they are kept as they are: ``span._.quote_start`` and ``span._.quote_end``.

spaCy keeps a span's extension values in ``doc.user_data`` keyed by the span's characters, so two findings on the
same tokens (a marker's value before and after the exchanges, read from one sentence; a sentence cited for several
absences: dozens in the corpus) would overwrite each other's. Each finding span is therefore given its own
id (``span.id``, its place in the document's list of findings) and its attributes are read from its record there.
"""

from __future__ import annotations

import bisect

from spacy.tokens import Doc, Span

from extractors.evidence import Finding, spans_within

# Doc.user_data key: the document's Finding records, in the order they were put on it; a finding span's id is its
# place in this list, counted from 1 (0 is a span without an id)
RECORDS = ("pecrs", "findings")


def patient_findings_key(number: int) -> str:
    """The name of the span group holding the findings kept for the article's patient ``number``."""
    return f"pecrs_patient_{number}"


def finding_span(doc: Doc, finding: Finding) -> Span:
    """``finding`` as a span on ``doc``: the tokens covering its characters, labelled with its field."""
    records = doc.user_data.setdefault(RECORDS, [])
    records.append(finding)
    identity = dict(label=finding.field, span_id=len(records))
    span = doc.char_span(finding.start, finding.end, alignment_mode="expand", **identity)
    if span is None:  # characters that touch no token (an empty range): an empty span where they are
        index = bisect.bisect_left([token.idx for token in doc], finding.start)
        span = Span(doc, index, index, **identity)
    return span


def record(span: Span) -> Finding | None:
    """The Finding a span was made from by ``finding_span``; None for any other span."""
    records = span.doc.user_data.get(RECORDS, ())
    found = records[span.id - 1] if 0 < span.id <= len(records) else None
    return found if found is not None and found.field == span.label_ else None


def _attribute(name: str):
    return lambda span: getattr(record(span), name, None)


def _concepts(span: Span) -> list[Span]:
    """The concept spans (extractors/config.cfg's entity ruler, abbreviations, coreference) inside the finding."""
    return spans_within(span, span.doc._.concepts_key)


EXTENSIONS = {
    "finding": record,
    "field": _attribute("field"),
    "value": _attribute("value"),
    "extractor": _attribute("extractor"),
    "weak": _attribute("weak"),
    "quote_start": _attribute("start"),
    "quote_end": _attribute("end"),
    "concepts": _concepts,
}
for _name, _getter in EXTENSIONS.items():
    if not Span.has_extension(_name):
        Span.set_extension(_name, getter=_getter)
