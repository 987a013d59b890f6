"""A value found in the text, with the characters that support it."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from spacy.tokens import Span


@dataclass(frozen=True)
class Finding:
    field: str
    value: str
    start: int
    end: int
    extractor: str
    weak: bool = False  # a lower bound or an inference that a plainer statement elsewhere should beat


# "..., could not be reduced, TPE was performed": a clause of its own asserts the concept
OWN_AFFIRMATION = re.compile(r"^\W*(?:\([^)]*\)\s*)?(?:was|were|had been|has been|is)\s+(?:then\s+|therefore\s+|promptly\s+)?"
                             r"(?:performed|given|started|initiated|administered|commenced|undertaken|carried out|done|"
                             r"instituted|begun|repeated|continued|added|applied)\b", re.IGNORECASE)


# "Plasma exchange after CAR-T: none", "ICANS: no"
NONE_VALUE = re.compile(r"^[^:;.\n]{0,30}:\s*(?:none|no|nil|not (?:done|performed|given|observed|sent)|absent|n/?a)\b", re.IGNORECASE)


def _applies(span: Span, modifier) -> bool:
    # a cue does not reach across a clause boundary ("; but however whereas although"): TERMINATE rules of
    # context_rules.json end its scope there
    return sentence_of(span.doc[modifier.modifier_span[0]]) == sentence_of(span)


def flagged(span: Span, *categories: str) -> bool:
    """Whether a ConText modifier of one of ``categories`` governs ``span`` within its clause."""
    return any(m.category in categories and _applies(span, m) for m in span._.modifiers)


def negated(span: Span) -> bool:
    sentence = sentence_of(span)
    if NONE_VALUE.match(span.doc.text[span.end_char:sentence.end_char]):
        return True
    cues = [m for m in span._.modifiers if m.category == "NEGATED_EXISTENCE" and _applies(span, m)]
    if not cues:
        return False
    # the cue sits in an earlier clause and the concept's own clause affirms it
    before = span.doc.text[sentence.start_char:span.start_char]
    after = span.doc.text[span.end_char:sentence.end_char]
    last_comma = sentence.start_char + before.rfind(",")
    in_earlier_clause = "," in before and all(span.doc[m.modifier_span[1] - 1].idx < last_comma for m in cues)
    return not (in_earlier_clause and OWN_AFFIRMATION.match(after))


def hypothetical(span: Span) -> bool:
    return flagged(span, "HYPOTHETICAL")


CONDITIONS = {"CRS", "ICANS", "HLH", "DIAGNOSIS"}


def is_affirmed(span: Span) -> bool:
    """Not negated, hypothetical, uncertain, historical or (for a condition) a relative's (medspaCy ConText).
    A treatment near "family" ("with the consent of family members, PE was performed") is still the patient's."""
    categories = ("HYPOTHETICAL", "POSSIBLE_EXISTENCE", "HISTORICAL") + (("FAMILY",) if span.label_ in CONDITIONS else ())
    return not (negated(span) or flagged(span, *categories))


def _cached(doc, key: tuple, build):
    value = doc.user_data.get(key)
    if value is None:
        value = doc.user_data[key] = build()
    return value


def sentences(doc) -> list[Span]:
    """The document's sentences, computed once (``doc.sents`` walks every token each time)."""
    return _cached(doc, ("pecrs", "sentences", len(doc)), lambda: list(doc.sents))


def sentence_of(span) -> Span:
    """The sentence holding ``span`` (a Span or Token), by bisection over the cached sentences."""
    doc = span.doc
    sents = sentences(doc)
    starts = _cached(doc, ("pecrs", "sentence_starts", len(doc)), lambda: [s.start for s in sents])
    index = span.start if isinstance(span, Span) else span.i
    return sents[bisect.bisect_right(starts, index) - 1]


def _spans_in(sentence: Span, spans_key: str) -> list[Span]:
    """Spans of the group ``spans_key`` inside ``sentence``, from a per-document index sorted by position."""
    doc = sentence.doc
    group = doc.spans[spans_key]
    ordered = _cached(doc, ("pecrs", spans_key, len(group)), lambda: sorted(group, key=lambda s: (s.start, s.end)))
    starts = _cached(doc, ("pecrs", spans_key, "starts", len(group)), lambda: [s.start for s in ordered])
    window = ordered[bisect.bisect_left(starts, sentence.start):bisect.bisect_left(starts, sentence.end)]
    return [span for span in window if span.end <= sentence.end]


def quantities_in(sentence: Span, spans_key: str = "quantities"):
    """The Quantity of every number with a unit inside ``sentence`` (from the pecrs_quantities component)."""
    return [span._.quantity for span in _spans_in(sentence, spans_key)]


def concepts_in(sentence: Span, labels: str | tuple[str, ...], spans_key: str = "concepts") -> list[Span]:
    """Concept spans of ``labels`` inside ``sentence``."""
    labels = (labels,) if isinstance(labels, str) else labels
    return [span for span in _spans_in(sentence, spans_key) if span.label_ in labels]
