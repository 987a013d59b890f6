"""A value found in the text, with the characters that support it; the sentences and spans it is looked for in."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from spacy.tokens import Span

from extractors.components import DOCUMENT


# A clause break that a day, a value's time or a grading system is not carried across: "febrile on day +1, and on
# day +3 he needed vasopressors"; "it had fallen to 2 960 ng/L, and on the morning of day 7 ... it was 640 ng/L";
# "CRS was graded by Lee et al. (2014), and neurotoxicity by the ASTCT consensus"
# A clause going on with the same subject is not broken: "TPE began at H+54, and was repeated at H+78 and H+102".
CLAUSE_BREAK_WORDS = re.compile(r";|,\s+(?:and|but|then|while|whereas)\b(?!\s+(?:was|were)\s)", re.IGNORECASE)


def in_one_clause(text: str, a: int, b: int) -> bool:
    """Whether no clause break stands in ``text`` between the offsets ``a`` and ``b`` (in either order)."""
    lo, hi = sorted((a, b))
    return not CLAUSE_BREAK_WORDS.search(text, lo, hi)


@dataclass(frozen=True)
class Finding:
    """What a field reader found, as it says it; the case assembly puts it on the Doc as a span
    (extractors.finding_spans), which the case's evidence is."""
    field: str
    value: str
    start: int
    end: int
    extractor: str
    weak: bool = False  # a lower bound or an inference that a plainer statement elsewhere should beat


def cached(doc, key: tuple, build):
    """``build()`` computed once per document, kept in ``doc.user_data`` under ``key``."""
    value = doc.user_data.get(key)
    if value is None:
        value = doc.user_data[key] = build()
    return value


def sentences(doc) -> list[Span]:
    """The document's sentences, computed once (``doc.sents`` walks every token each time)."""
    return cached(doc, ("pecrs", "sentences", len(doc)), lambda: list(doc.sents))


def gap(start: int, end: int, span: Span) -> int:
    """Characters between the text ``start:end`` and ``span``; 0 when they overlap."""
    return max(span.start_char - end, start - span.end_char, 0)


def section_of(span):
    """The section of the article ``span`` (a Span) stands in, or None where the Doc carries no Document."""
    document = span.doc.user_data.get(DOCUMENT)
    return document.section_at(span.start_char) if document is not None else None


def sentence_of(span) -> Span:
    """The sentence holding ``span`` (a Span or Token), by bisection over the cached sentences."""
    doc = span.doc
    sents = sentences(doc)
    starts = cached(doc, ("pecrs", "sentence_starts", len(doc)), lambda: [s.start for s in sents])
    index = span.start if isinstance(span, Span) else span.i
    return sents[bisect.bisect_right(starts, index) - 1]


def spans_within(window: Span, spans_key: str) -> list[Span]:
    """Spans of the group ``spans_key`` inside ``window`` (a sentence, a finding), from a per-document index sorted
    by position."""
    doc = window.doc
    group = doc.spans[spans_key]
    ordered = cached(doc, ("pecrs", spans_key, len(group)), lambda: sorted(group, key=lambda s: (s.start, s.end)))
    starts = cached(doc, ("pecrs", spans_key, "starts", len(group)), lambda: [s.start for s in ordered])
    candidates = ordered[bisect.bisect_left(starts, window.start):bisect.bisect_left(starts, window.end)]
    return [span for span in candidates if span.end <= window.end]


def quantities_in(sentence: Span):
    """The Quantity of every number with a unit inside ``sentence`` (from the pecrs_quantities component)."""
    return [span._.quantity for span in spans_within(sentence, sentence.doc._.quantities_key)]


def concepts(doc) -> list[Span]:
    """The document's concept spans (the lexicon's, the abbreviations', the exchange's coreferences)."""
    return list(doc.spans[doc._.concepts_key])


def concepts_in(sentence: Span, labels: str | tuple[str, ...]) -> list[Span]:
    """Concept spans of ``labels`` inside ``sentence``."""
    labels = (labels,) if isinstance(labels, str) else labels
    return [span for span in spans_within(sentence, sentence.doc._.concepts_key) if span.label_ in labels]
