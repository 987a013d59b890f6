"""Cytokines and markers before and after plasma exchange, in the schema's units.

pre = the last value before the first exchange (the peak when only a peak is given);
post = the value nearest after the last exchange.
"""

from __future__ import annotations

import re

from spacy.tokens import Span

from extractors.evidence import Finding, concepts_in
from extractors.fields.purification import pe_mentions
from extractors.quantities import Quantity, find_quantities, normalize_unit, parse_number
from extractors.quantities import _NUMBER as NUMBER_PATTERN

TARGET_UNITS = {"il6": "pg/mL", "ifng": "pg/mL", "il10": "pg/mL", "ferritin": "ng/mL", "crp": "mg/L"}
_WHEN = r"(?:\s*(?:on|at|by)\s+(?:day|d)\s*[+\-−]?\d{1,3}|\s*(?:on|at)\s+admission|\s*\([^)]{0,30}\))?"
FROM_TO = re.compile(
    rf"(?:\bfrom\s+|(?<=[:\s(]))(?P<bound>(?:>|≥|above|over)\s*)?(?P<a>{NUMBER_PATTERN})\s*(?P<unit_a>[^\s\d,;→]*?){_WHEN}\s*"
    rf"(?:(?<=\s)(?:to|down to|up to)\s+|→\s*|->\s*)"
    rf"(?:(?:>|≥|above|over)\s*)?(?P<b>{NUMBER_PATTERN})\s*(?P<unit>[^\s,;)]+)", re.IGNORECASE)
RISING = re.compile(r"\b(rose|rising|increased|increasing|climbed|climbing|peaked|went up|jumped|escalated)\b", re.IGNORECASE)
PRE_CUE = re.compile(r"\b(before|prior to|pre-?(?:TPE|PE|exchange|procedure)|peak(?:ed|ing)?|maximum|rose|increased|elevated|reached)\b", re.IGNORECASE)
POST_CUE = re.compile(r"\b(after|following|post-?(?:TPE|PE|exchange|procedure)|fell|decreased|dropped|declined|reduced|normali[sz]ed)\b", re.IGNORECASE)


def _marker_quantities(sentence: Span) -> list[tuple[str, Quantity, Span]]:
    """(marker, quantity, marker span): each quantity goes to the nearest analyte named before it,
    which must be one of ours ("fibrinogen 1.1 g/L" after "ferritin ..." is fibrinogen's)."""
    analytes = sorted(concepts_in(sentence, ("MARKER", "LAB")), key=lambda s: s.start_char)
    if not any(a.label_ == "MARKER" for a in analytes):
        return []
    pairs = []
    for quantity in find_quantities(sentence.text, sentence.start_char):
        before = [m for m in analytes if m.end_char <= quantity.start]
        if not before or before[-1].label_ != "MARKER":
            continue
        marker = before[-1]
        target = TARGET_UNITS[marker.id_]
        if quantity.convertible_to(target):
            pairs.append((marker.id_, quantity, marker))
    return pairs


def _from_to(sentence: Span) -> list[tuple[str, float, float, int, int]]:
    """(marker, first, second, start, end, rising) for "IL-6 fell from 5,230 to 210 pg/mL"."""
    results = []
    analytes = sorted(concepts_in(sentence, ("MARKER", "LAB")), key=lambda s: s.start_char)
    for match in FROM_TO.finditer(sentence.text):
        start = sentence.start_char + match.start()
        before = [m for m in analytes if m.end_char <= start]
        if not before or before[-1].label_ != "MARKER":
            continue
        marker = before[-1]
        unit = normalize_unit(match.group("unit").rstrip(".,;)"))
        target = TARGET_UNITS[marker.id_]
        try:
            pre = Quantity(parse_number(match.group("a")), unit, 0, 0).to(target)
            post = Quantity(parse_number(match.group("b")), unit, 0, 0).to(target)
        except Exception:
            continue
        rising = bool(RISING.search(sentence.text[before[-1].end_char - sentence.start_char:match.start()]))
        results.append((marker.id_, pre, post, marker.start_char, sentence.start_char + match.end(), rising))
    return results


def markers(sentences: list[Span]) -> list[Finding]:
    pe = pe_mentions(sentences)
    first_pe = min((s.sent.start_char for s in pe), default=None)
    last_pe = max((s.sent.start_char for s in pe), default=None)
    pre: dict[str, Finding] = {}
    post: dict[str, Finding] = {}
    for sentence in sentences:
        paired = _from_to(sentence)
        for marker, before, after, start, end, rising in paired:
            if rising:
                # "rose from 2,850 to 18,600": both before the exchange; the later value is the last before it
                if first_pe is None or sentence.start_char <= first_pe:
                    pre[marker] = Finding(f"{marker}_pre", f"{after:g}", start, end, "labs.rise")
                continue
            pre[marker] = Finding(f"{marker}_pre", f"{before:g}", start, end, "labs.from_to")
            post.setdefault(marker, Finding(f"{marker}_post", f"{after:g}", start, end, "labs.from_to"))
        covered = [(f.start, f.end) for f in list(pre.values()) + list(post.values())]
        for marker, quantity, span in _marker_quantities(sentence):
            if any(a <= quantity.start < b for a, b in covered):
                continue
            value = quantity.to(TARGET_UNITS[marker])
            finding_pre = Finding(f"{marker}_pre", f"{value:g}", span.start_char, quantity.end, "labs.value")
            finding_post = Finding(f"{marker}_post", f"{value:g}", span.start_char, quantity.end, "labs.value")
            local = sentence.text[max(0, quantity.start - sentence.start_char - 80): quantity.end - sentence.start_char + 40]
            if POST_CUE.search(local) and (first_pe is not None and sentence.start_char >= first_pe or re.search(r"\b(TPE|PE|PLEX|exchange|plasmapheresis)", local)):
                post.setdefault(marker, finding_post)
            elif first_pe is None or sentence.start_char <= first_pe:
                pre[marker] = finding_pre
            elif last_pe is not None and sentence.start_char > last_pe:
                post.setdefault(marker, finding_post)
            elif PRE_CUE.search(local):
                pre.setdefault(marker, finding_pre)
    return list(pre.values()) + list(post.values())
