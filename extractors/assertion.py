"""What medspaCy's ConText says of a span: negated, hypothetical, uncertain, historical, a relative's.

The rules are data (resources/context_rules.json, loaded in nlp.py); this module only reads their modifiers.
Rules' cues compete: medspaCy (1.3) keeps the longest of overlapping matches and, of equal ones, the first found
(token patterns, then phrases, then regular expressions). A rule meant to displace one of medspaCy's defaults
("resolved", "declined") is therefore a token pattern or a longer match.
"""

from __future__ import annotations

from spacy.tokens import Span

from extractors.evidence import cached, sentence_of


def _modifiers_by_sentence(doc) -> dict[int, list]:
    """The document's ConText modifiers (medspaCy's context graph), by the start of the sentence holding each cue."""
    def build():
        by_sentence: dict[int, list] = {}
        for modifier in doc._.context_graph.modifiers:
            by_sentence.setdefault(sentence_of(doc[modifier.modifier_span[0]]).start, []).append(modifier)
        return by_sentence
    return cached(doc, ("pecrs", "context_modifiers", len(doc)), build)


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
    A cue governs only its own sentence: ConText's scope is a window of tokens (its max_scope) that would otherwise
    run on into the next sentence; TERMINATE rules of context_rules.json end it at a clause boundary.
    A rule whose metadata says {"scope": "sentence"} governs its whole sentence."""
    return [m for m in _modifiers_by_sentence(span.doc).get(sentence_of(span).start, ()) if _governs(m, span)]


def sentence_modifiers(span: Span) -> list:
    """Every ConText modifier whose cue stands in ``span``'s sentence, whichever spans it governs."""
    return list(_modifiers_by_sentence(span.doc).get(sentence_of(span).start, ()))


def flagged(span: Span, *categories: str) -> bool:
    """Whether a ConText modifier of one of ``categories`` governs ``span``."""
    return any(m.category in categories for m in context_modifiers(span))


def negated(span: Span) -> bool:
    return flagged(span, "NEGATED_EXISTENCE")


def hypothetical(span: Span) -> bool:
    return flagged(span, "HYPOTHETICAL")


CONDITIONS = {"CRS", "ICANS", "HLH", "DIAGNOSIS"}


# the ConText categories that leave a mention unaffirmed (and, for a condition, FAMILY)
NOT_AFFIRMING = ("NEGATED_EXISTENCE", "HYPOTHETICAL", "POSSIBLE_EXISTENCE", "HISTORICAL")


def is_affirmed(span: Span) -> bool:
    """Not negated, hypothetical, uncertain, historical or (for a condition) a relative's (medspaCy ConText).
    A treatment near "family" ("with the consent of family members, PE was performed") is still the patient's."""
    categories = NOT_AFFIRMING + (("FAMILY",) if span.label_ in CONDITIONS else ())
    return not flagged(span, *categories)


def target(sentence: Span, start: int, end: int, label: str) -> Span:
    """The tokens of ``sentence`` covering its characters ``start:end``, as a span ConText can be asked about."""
    return sentence.char_span(start, end, label=label, alignment_mode="expand")
