"""A value found in the text, with the characters that support it."""

from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Span


@dataclass(frozen=True)
class Finding:
    field: str
    value: str
    start: int
    end: int
    extractor: str


def is_affirmed(span: Span) -> bool:
    """Not negated, hypothetical, uncertain, historical or about someone else (medspaCy ConText)."""
    return not (span._.is_negated or span._.is_hypothetical or span._.is_uncertain
                or span._.is_historical or span._.is_family)


def concepts_in(sentence: Span, labels: str | tuple[str, ...], spans_key: str = "concepts") -> list[Span]:
    labels = (labels,) if isinstance(labels, str) else labels
    return [s for s in sentence.doc.spans[spans_key]
            if s.label_ in labels and s.start >= sentence.start and s.end <= sentence.end]
