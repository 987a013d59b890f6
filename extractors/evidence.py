"""A value found in the text, with the characters that support it."""

from __future__ import annotations

import bisect
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


def _modifiers_by_sentence(doc) -> dict[int, list]:
    """The document's ConText modifiers (medspaCy's context graph), by the start of the sentence holding each cue."""
    def build():
        by_sentence: dict[int, list] = {}
        for modifier in doc._.context_graph.modifiers:
            by_sentence.setdefault(sentence_of(doc[modifier.modifier_span[0]]).start, []).append(modifier)
        return by_sentence
    return _cached(doc, ("pecrs", "context_modifiers", len(doc)), build)


def _governs(modifier, span: Span) -> bool:
    if modifier.rule.metadata and modifier.rule.metadata.get("scope") == "sentence":
        # a statement on a diagnosis ("HLH was suspected because of the ferritin, but the criteria were not met")
        # speaks of the sentence's mentions across the clause boundaries that end other cues
        cue_start, cue_end = modifier.modifier_span
        return modifier.allows(span.label_.upper()) and (span.end <= cue_start or span.start >= cue_end)
    return modifier.modifies(span)


def context_modifiers(span: Span) -> list:
    """The ConText modifiers that govern ``span``, by ConText's own test (``ConTextModifier.modifies``: the span lies
    in the cue's scope and its label is among the rule's allowed types). Any span can be asked about, not only the
    concepts ConText was given: a count of sessions or a word for death, labelled with the type its rules allow.
    A cue governs only its own sentence: ConText's scope is a window of tokens (nlp.CONTEXT_MAX_SCOPE) that would
    otherwise run on into the next sentence; TERMINATE rules of context_rules.json end it at a clause boundary.
    A rule whose metadata says {"scope": "sentence"} governs its whole sentence."""
    return [m for m in _modifiers_by_sentence(span.doc).get(sentence_of(span).start, ()) if _governs(m, span)]


def flagged(span: Span, *categories: str) -> bool:
    """Whether a ConText modifier of one of ``categories`` governs ``span``."""
    return any(m.category in categories for m in context_modifiers(span))


def negated(span: Span) -> bool:
    return flagged(span, "NEGATED_EXISTENCE")


def hypothetical(span: Span) -> bool:
    return flagged(span, "HYPOTHETICAL")


CONDITIONS = {"CRS", "ICANS", "HLH", "DIAGNOSIS"}


def is_affirmed(span: Span) -> bool:
    """Not negated, hypothetical, uncertain, historical or (for a condition) a relative's (medspaCy ConText).
    A treatment near "family" ("with the consent of family members, PE was performed") is still the patient's."""
    categories = ("NEGATED_EXISTENCE", "HYPOTHETICAL", "POSSIBLE_EXISTENCE", "HISTORICAL") + (
        ("FAMILY",) if span.label_ in CONDITIONS else ())
    return not flagged(span, *categories)


def target(sentence: Span, start: int, end: int, label: str) -> Span:
    """The tokens of ``sentence`` covering its characters ``start:end``, as a span ConText can be asked about."""
    return sentence.char_span(start, end, label=label, alignment_mode="expand")


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
